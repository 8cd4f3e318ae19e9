// Package serialport sends an emulated receiver's sentences out of a real
// serial device, such as a USB-serial adapter wired to a bus's GPS input,
// so a technician can test the bus's agent from a laptop.
package serialport

import (
	"errors"
	"fmt"

	"go.bug.st/serial"
)

// Port is an open serial device. Writes block while the UART drains, as a
// receiver's output is paced by its baud rate: at 4800 baud a second holds
// 480 bytes, which a verbose profile at 5 or 10 Hz can exceed.
type Port struct {
	serial.Port
	path string
	baud int
}

// Open opens the serial device at path for writing, 8N1 at baud, for
// exclusive use (on Unix), so that a second simulator, or a gpsd, cannot
// share it unnoticed.
func Open(path string, baud int) (*Port, error) {
	if baud <= 0 {
		return nil, fmt.Errorf("open %s: baud rate %d: must be positive", path, baud)
	}
	p, err := serial.Open(path, &serial.Mode{BaudRate: baud, DataBits: 8, Parity: serial.NoParity, StopBits: serial.OneStopBit})
	if err != nil {
		var perr *serial.PortError
		if errors.As(err, &perr) && perr.Code() == serial.PortBusy {
			return nil, fmt.Errorf("open serial port %s: %w (another program has it open: stop it first)", path, err)
		}
		return nil, fmt.Errorf("open serial port %s at %d baud: %w (is the USB-serial adapter plugged in, and may you use it? see ls -l %s)", path, baud, err, path)
	}
	return &Port{Port: p, path: path, baud: baud}, nil
}

// Write sends b, blocking until the driver has taken it all.
func (p *Port) Write(b []byte) (int, error) {
	n, err := p.Port.Write(b)
	if err != nil {
		return n, fmt.Errorf("write %s: %w", p.path, err)
	}
	return n, nil
}

// String is "/dev/ttyUSB0 at 9600 baud".
func (p *Port) String() string { return fmt.Sprintf("%s at %d baud", p.path, p.baud) }
