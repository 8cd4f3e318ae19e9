package signout

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"periph.io/x/conn/v3/gpio/gpioreg"
	"periph.io/x/conn/v3/physic"
	"periph.io/x/conn/v3/spi"
	"periph.io/x/conn/v3/spi/spireg"
	"periph.io/x/host/v3"

	"github.com/headway-transit/headway/agent/internal/station"
	"github.com/headway-transit/headway/drivers/display"
	"github.com/headway-transit/headway/drivers/display/epaper"
	"github.com/headway-transit/headway/drivers/gps"
)

// output is one sign output.
type output interface {
	show(b display.Board, now time.Time) error
	// final shows b as the last frame before the agent stops (the honest
	// one a panel keeps); outputs that go dark simply close.
	final(b display.Board, now time.Time) error
	io.Closer
}

// open builds c's output.
func open(c station.OutputConfig) (output, error) {
	switch c.Type {
	case "led":
		baud, lines, chars := c.Baud, c.Lines, c.Chars
		if baud == 0 {
			baud = 9600
		}
		if lines == 0 {
			lines = 4
		}
		if chars == 0 {
			chars = 24
		}
		return &ledOutput{&display.LED{Lines: lines, Width: chars, Open: func() (io.ReadWriteCloser, error) { return gps.Open(c.Port, baud) }}}, nil
	case "epaper":
		return openEpaper(c)
	case "png":
		w, h, _ := c.PixelSize()
		d := display.Depth(max(c.Depth, 1))
		return &pngOutput{path: c.Path, w: w, h: h, depth: d}, nil
	}
	return nil, fmt.Errorf("output type %q", c.Type)
}

type ledOutput struct{ *display.LED }

func (l *ledOutput) show(b display.Board, now time.Time) error  { return l.Show(b, now) }
func (l *ledOutput) final(b display.Board, now time.Time) error { return l.Show(b, now) }

// pngOutput writes what a panel of its size would show to a file, and the
// board to FILE.json, each replaced whole (written aside, then renamed).
type pngOutput struct {
	path  string
	w, h  int
	depth display.Depth
}

func (p *pngOutput) show(b display.Board, _ time.Time) error {
	f, _, err := display.Render(b, p.w, p.h, p.depth)
	if err != nil {
		return err
	}
	if err := writeAtomic(p.path, f.WritePNG); err != nil {
		return err
	}
	return writeAtomic(p.path+".json", func(w io.Writer) error {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(b)
	})
}

func (p *pngOutput) final(b display.Board, now time.Time) error { return p.show(b, now) }
func (p *pngOutput) Close() error                               { return nil }

func writeAtomic(path string, write func(io.Writer) error) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".frame-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := write(tmp); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// epaperOutput is a panel on this machine's SPI bus and GPIO pins
// (periph.io/x/host: a Raspberry Pi's spidev and gpio).
type epaperOutput struct {
	dev  *epaper.Device
	port spi.PortCloser
	w, h int
	red  bool
	// sim: a simulated panel (spi: sim) writes each frame it shows here.
	sim *pngOutput
}

func openEpaper(c station.OutputConfig) (output, error) {
	if c.SPI == station.SimSPI {
		return openSimEpaper(c)
	}
	if _, err := host.Init(); err != nil {
		return nil, fmt.Errorf("epaper: periph host: %w", err)
	}
	port, err := spireg.Open(c.SPI)
	if err != nil {
		return nil, fmt.Errorf("epaper: spi %s: %w", c.SPI, err)
	}
	conn, err := port.Connect(4*physic.MegaHertz, spi.Mode0, 8)
	if err != nil {
		port.Close()
		return nil, fmt.Errorf("epaper: spi %s: %w", c.SPI, err)
	}
	pins := epaper.Pins{DC: gpioreg.ByName(c.DC), RST: gpioreg.ByName(c.RST), BUSY: gpioreg.ByName(c.BUSY)}
	if pins.DC == nil || pins.RST == nil || pins.BUSY == nil {
		port.Close()
		return nil, fmt.Errorf("epaper: pins %s, %s, %s: not all on this machine", c.DC, c.RST, c.BUSY)
	}
	w, h := c.Width, c.Height
	if w == 0 || h == 0 {
		w, h = 122, 250
	}
	dev, err := epaper.New(conn, pins, epaper.Options{Width: w, Height: h, Red: c.Red, MinInterval: c.Budget()})
	if err != nil {
		port.Close()
		return nil, err
	}
	return &epaperOutput{dev: dev, port: port, w: w, h: h, red: c.Red}, nil
}

func (e *epaperOutput) frame(b display.Board) (*display.Frame, error) {
	d := display.Mono
	if e.red {
		d = display.TriColor
	}
	f, _, err := display.Render(b, e.h, e.w, d) // landscape
	return f, err
}

func (e *epaperOutput) show(b display.Board, now time.Time) error {
	f, err := e.frame(b)
	if err != nil {
		return err
	}
	if err := e.dev.Show(f, now); err != nil {
		return err
	}
	return e.simulated(b, now)
}

func (e *epaperOutput) final(b display.Board, now time.Time) error {
	f, err := e.frame(b)
	if err != nil {
		return err
	}
	if err := e.dev.Final(f, now); err != nil {
		return err
	}
	return e.simulated(b, now)
}

func (e *epaperOutput) simulated(b display.Board, now time.Time) error {
	if e.sim == nil {
		return nil
	}
	return e.sim.show(b, now)
}

func (e *epaperOutput) Close() error {
	if e.port == nil {
		return nil
	}
	return e.port.Close()
}

func (e *epaperOutput) refreshCounts() (partial, full uint64) {
	return e.dev.Refreshes - e.dev.Fulls, e.dev.Fulls
}
