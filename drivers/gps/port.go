package gps

import (
	"fmt"
	"io"

	"go.bug.st/serial"
)

// DefaultBaud is the NMEA 0183 standard rate, used when Config.Baud is 0.
const DefaultBaud = 9600

// Open opens the serial port at path configured 8N1 at baud. On Unix the
// port is opened for exclusive use (TIOCEXCL), so a second reader such as
// a stray gpsd fails instead of stealing sentences; note that root
// bypasses that lock. Closing the port unblocks a pending Read.
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
		return nil, fmt.Errorf("open serial port %s at %d baud: %w", path, baud, err)
	}
	return p, nil
}
