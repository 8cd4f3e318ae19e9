package station

import (
	"errors"
	"fmt"
	"time"

	"github.com/headway-transit/headway/internal/yamlconf"
)

// OutputConfig is one hardware sign output (station.yaml outputs[]):
// package signout drives it.
type OutputConfig struct {
	Type string `yaml:"type"` // led, epaper, png or tui
	Name string `yaml:"name"` // in /metrics; default the type

	// led: the serial port and the sign's lines and characters a line.
	Port  string `yaml:"port"`
	Baud  int    `yaml:"baud"`
	Lines int    `yaml:"lines"`
	Chars int    `yaml:"chars"`

	// epaper: the SPI device (sim: a simulated panel drawing to path) and the control pins (periph.io names, e.g.
	// SPI0.0, GPIO25), the panel's size in its own orientation, red plane.
	SPI    string `yaml:"spi"`
	DC     string `yaml:"dc"`
	RST    string `yaml:"rst"`
	BUSY   string `yaml:"busy"`
	Width  int    `yaml:"width"`
	Height int    `yaml:"height"`
	Red    bool   `yaml:"red"`

	// png: the file (and FILE.json, the board shown), the size, the depth.
	Path  string `yaml:"path"`
	Size  string `yaml:"size"`  // WxH, default 250x122
	Depth int    `yaml:"depth"` // 1 or 3

	// tui: the terminal board on a text console (e.g. /dev/tty1 of a
	// screen with no browser), redrawn in place.
	TTY string `yaml:"tty"`

	// MinInterval: at most one update this often (the panel's refresh
	// budget); default 3s, 180s for a red e-paper panel.
	MinInterval yamlconf.Duration `yaml:"min_interval"`
}

// Check reports what is wrong with c.
func (c OutputConfig) Check() error {
	switch c.Type {
	case "led":
		if c.Port == "" {
			return errors.New("led: port is required (e.g. /dev/ttyUSB0)")
		}
		if c.Lines < 0 || c.Lines > 26 || c.Chars < 0 || c.Chars > 125 {
			return fmt.Errorf("led: lines %d, chars %d: want 1 to 26 lines of up to 125", c.Lines, c.Chars)
		}
	case "epaper":
		if c.SPI == SimSPI {
			if c.Path == "" {
				return errors.New("epaper: spi: sim needs path (the PNG of what the simulated panel shows)")
			}
			break
		}
		if c.SPI == "" || c.DC == "" || c.RST == "" || c.BUSY == "" {
			return errors.New("epaper: spi, dc, rst and busy are required (e.g. SPI0.0, GPIO25, GPIO17, GPIO24)")
		}
	case "png":
		if c.Path == "" {
			return errors.New("png: path is required")
		}
		if _, _, err := c.PixelSize(); err != nil {
			return err
		}
		if c.Depth != 0 && c.Depth != 1 && c.Depth != 3 && c.Depth != 4 {
			return fmt.Errorf("png: depth %d: want 1, 3 or 4 (greys)", c.Depth)
		}
	case "tui":
		if c.TTY == "" {
			return errors.New("tui: tty is required (e.g. /dev/tty1)")
		}
	default:
		return fmt.Errorf("type %q: want led, epaper, png or tui (the page is always served on listen:)", c.Type)
	}
	if c.MinInterval.D() < 0 {
		return errors.New("min_interval: must not be negative")
	}
	return nil
}

// PixelSize is a png output's size, default 250x122.
func (c OutputConfig) PixelSize() (int, int, error) {
	if c.Size == "" {
		return 250, 122, nil
	}
	var w, h int
	if _, err := fmt.Sscanf(c.Size, "%dx%d", &w, &h); err != nil || w < 32 || h < 16 {
		return 0, 0, fmt.Errorf("png: size %q: want WxH, e.g. 250x122", c.Size)
	}
	return w, h, nil
}

// OutputName names the output in /metrics.
func (c OutputConfig) OutputName() string {
	if c.Name != "" {
		return c.Name
	}
	return c.Type
}

// Budget is the least time between two updates of the output.
func (c OutputConfig) Budget() time.Duration {
	switch {
	case c.MinInterval > 0:
		return c.MinInterval.D()
	case c.Type == "epaper" && c.Red:
		return 180 * time.Second
	}
	return 3 * time.Second
}

// SimSPI as an epaper output's spi is a simulated panel: the real driver
// on a bus that takes every byte, each frame shown written to path.
const SimSPI = "sim"

// PowerFailConfig is station.yaml power_fail: a GPIO input that says the
// power is failing (a UPS or supercapacitor HAT's signal), so the outputs
// draw their honest last frame while there is still power to draw it.
// SIGPWR to the agent does the same (for a UPS daemon's command).
type PowerFailConfig struct {
	Pin    string `yaml:"pin"`    // periph.io name, e.g. GPIO6
	Active string `yaml:"active"` // the level that means failing: low (default) or high
}

// Check reports what is wrong with c.
func (c PowerFailConfig) Check() error {
	if c == (PowerFailConfig{}) {
		return nil
	}
	if c.Pin == "" {
		return errors.New("power_fail: pin is required (e.g. GPIO6)")
	}
	if c.Active != "" && c.Active != "low" && c.Active != "high" {
		return fmt.Errorf("power_fail: active %q: want low or high", c.Active)
	}
	return nil
}
