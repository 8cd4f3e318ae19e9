package signout

import (
	"fmt"

	"periph.io/x/conn/v3"
	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpiotest"
	"periph.io/x/conn/v3/spi"

	"github.com/headway-transit/headway/agent/internal/station"
	"github.com/headway-transit/headway/drivers/display"
	"github.com/headway-transit/headway/drivers/display/epaper"
)

// openSimEpaper is an e-paper output with no panel (spi: sim): the real
// driver, with its refresh policy and budget, writes to a bus that takes
// every byte, and each frame the panel would show goes to c.Path as PNG
// (and .json). A technician sees what a panel would show and when it would
// refresh (/metrics), with no hardware; the end-to-end tests do too.
func openSimEpaper(c station.OutputConfig) (output, error) {
	w, h := c.Width, c.Height
	if w == 0 || h == 0 {
		w, h = 122, 250
	}
	pins := epaper.Pins{
		DC:   &gpiotest.Pin{N: "sim-DC"},
		RST:  &gpiotest.Pin{N: "sim-RST"},
		BUSY: &gpiotest.Pin{N: "sim-BUSY", L: gpio.Low}, // never busy
	}
	dev, err := epaper.New(sinkConn{}, pins, epaper.Options{Width: w, Height: h, Red: c.Red, MinInterval: c.Budget()})
	if err != nil {
		return nil, err
	}
	d := display.Mono
	if c.Red {
		d = display.TriColor
	}
	return &epaperOutput{dev: dev, port: nil, w: w, h: h, red: c.Red, sim: &pngOutput{path: c.Path, w: h, h: w, depth: d}}, nil
}

// sinkConn is an SPI bus with nothing on it but a panel that takes all.
type sinkConn struct{}

func (sinkConn) String() string { return "sim-spi" }
func (sinkConn) Tx(w, r []byte) error {
	if len(r) > 0 {
		return fmt.Errorf("sim-spi: a simulated panel has nothing to read")
	}
	return nil
}
func (sinkConn) Duplex() conn.Duplex            { return conn.Half }
func (sinkConn) TxPackets(p []spi.Packet) error { return nil }
