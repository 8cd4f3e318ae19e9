package gps

import (
	"errors"
	"fmt"
	"io"

	"go.bug.st/serial"
)

// Open opens the serial port at path configured 8N1 at baud.
//
// The port is opened for exclusive use (TIOCEXCL, set by go.bug.st/serial
// on Unix), so a second reader such as a stray gpsd or a technician's
// second "agent gps" fails with a clear error instead of silently stealing
// half the sentences. The kernel lets root bypass that lock, so two
// programs running as root can still share a port.
//
// Closing the port unblocks a pending Read: that is how a Receiver cancels
// its reads.
func Open(path string, baud int) (io.ReadWriteCloser, error) {
	if baud <= 0 {
		return nil, fmt.Errorf("open %s: baud rate %d: must be positive", path, baud)
	}
	p, err := serial.Open(path, &serial.Mode{
		BaudRate: baud,
		DataBits: 8,
		Parity:   serial.NoParity,
		StopBits: serial.OneStopBit,
	})
	if err != nil {
		var perr *serial.PortError
		if errors.As(err, &perr) && perr.Code() == serial.PortBusy {
			return nil, fmt.Errorf("open serial port %s: %w (another program, such as gpsd or a second agent, has it open: stop that program first)", path, err)
		}
		return nil, fmt.Errorf("open serial port %s at %d baud: %w", path, baud, err)
	}
	return p, nil
}
