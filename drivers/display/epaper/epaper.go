// Package epaper drives an SSD1680-class e-paper panel (Waveshare 2.13"
// V4 and friends: 122×250, black and white, or with a red plane) over SPI
// with periph.io: the init sequence, a full refresh every so many partial
// ones (against ghosting) or after a while, a partial refresh for the
// countdowns in between, a budget of refreshes the panel allows, and deep
// sleep between updates. What a panel shows stays through a power cut, so
// the caller's last frame before sleep must be an honest one (Final).
package epaper

import (
	"errors"
	"fmt"
	"time"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/spi"

	"github.com/headway-transit/headway/drivers/display"
)

// Commands of the SSD1680 controller.
const (
	cmdDriverOutput = 0x01
	cmdDeepSleep    = 0x10
	cmdDataEntry    = 0x11
	cmdSWReset      = 0x12
	cmdTempSensor   = 0x18
	cmdActivate     = 0x20
	cmdUpdateCtl1   = 0x21
	cmdUpdateCtl2   = 0x22
	cmdWriteBW      = 0x24
	cmdWriteRed     = 0x26
	cmdBorder       = 0x3c
	cmdRAMX         = 0x44
	cmdRAMY         = 0x45
	cmdRAMXCount    = 0x4e
	cmdRAMYCount    = 0x4f
)

// Update sequences (cmdUpdateCtl2).
const (
	seqFull    = 0xf7 // clock, analog, temperature, LUT, display, off
	seqPartial = 0xff // the same with the partial waveform
)

// Pins are the panel's control lines besides SPI.
type Pins struct {
	DC   gpio.PinOut // low: command, high: data
	RST  gpio.PinOut // low resets
	BUSY gpio.PinIn  // high while the panel works
}

// Options are the panel and its refresh policy.
type Options struct {
	// Width and Height of the panel in its own orientation (122×250 for a
	// 2.13"); frames are drawn landscape, Height×Width, and turned.
	Width, Height int
	Red           bool // a red plane (three-colour panel)
	// FullEvery partial refreshes, or FullAfter since the last full one,
	// a full refresh clears the ghosting partial ones leave (10, 1 h).
	FullEvery int
	FullAfter time.Duration
	// MinInterval between two refreshes: the panel's budget (3 s; a
	// three-colour panel, which has no partial refresh, 180 s).
	MinInterval time.Duration
	// BusyTimeout bounds a wait for the panel (5 s).
	BusyTimeout time.Duration
	Sleep       func(time.Duration) // nil: time.Sleep
}

// Device is one panel.
type Device struct {
	conn spi.Conn
	pins Pins
	opts Options

	asleep   bool
	prev     []byte // the black/white plane last shown, for partial refresh
	partials int
	lastFull time.Time
	last     time.Time
	// Counters: refreshes done, full ones among them, frames not shown
	// because the budget said not yet, and errors.
	Refreshes, Fulls, Deferred, Errors uint64
}

// ErrBudget: a refresh now would go over the panel's budget; show the
// frame again later.
var ErrBudget = errors.New("epaper: refresh budget: too soon after the last refresh")

// New checks the options and returns the device; Show initialises it.
func New(c spi.Conn, p Pins, o Options) (*Device, error) {
	if o.Width <= 0 || o.Height <= 0 || o.Width%8 != 0 && o.Width > 8*((o.Width+7)/8) {
		return nil, fmt.Errorf("epaper: panel %dx%d", o.Width, o.Height)
	}
	if p.DC == nil || p.RST == nil || p.BUSY == nil {
		return nil, errors.New("epaper: DC, RST and BUSY pins are needed")
	}
	if o.FullEvery <= 0 {
		o.FullEvery = 10
	}
	if o.FullAfter <= 0 {
		o.FullAfter = time.Hour
	}
	if o.MinInterval <= 0 {
		o.MinInterval = 3 * time.Second
		if o.Red {
			o.MinInterval = 180 * time.Second
		}
	}
	if o.BusyTimeout <= 0 {
		o.BusyTimeout = 5 * time.Second
	}
	if o.Sleep == nil {
		o.Sleep = time.Sleep
	}
	return &Device{conn: c, pins: p, opts: o, asleep: true}, nil
}

// Show puts f (landscape, Height×Width) on the panel at now: a partial
// refresh, or a full one when due (or always on a three-colour panel);
// ErrBudget when the last refresh was less than MinInterval ago. The panel
// sleeps after.
func (d *Device) Show(f *display.Frame, now time.Time) error {
	return d.show(f, now, false)
}

// Final shows f with a full refresh whatever the budget: the frame the
// panel keeps through a power cut (draw it with the stale banner).
func (d *Device) Final(f *display.Frame, now time.Time) error {
	return d.show(f, now, true)
}

func (d *Device) show(f *display.Frame, now time.Time, final bool) error {
	if f.W != d.opts.Height || f.H != d.opts.Width {
		return fmt.Errorf("epaper: frame %dx%d, the panel takes %dx%d", f.W, f.H, d.opts.Height, d.opts.Width)
	}
	if !final && !d.last.IsZero() && now.Sub(d.last) < d.opts.MinInterval {
		d.Deferred++
		return ErrBudget
	}
	bw, red := d.planes(f)
	full := final || d.opts.Red || d.prev == nil || d.partials+1 >= d.opts.FullEvery || now.Sub(d.lastFull) >= d.opts.FullAfter
	if err := d.refresh(bw, red, full); err != nil {
		d.Errors++
		d.asleep = true // reset on the next show
		return err
	}
	d.Refreshes++
	d.last, d.prev = now, bw
	if full {
		d.Fulls++
		d.partials, d.lastFull = 0, now
	} else {
		d.partials++
	}
	return nil
}

// planes packs f into the panel's RAM layout: rows of Width pixels, 8 to a
// byte, MSB first; black/white 1 = white, red 1 = red. The landscape frame
// turns a quarter: panel (x, y) is frame (y, Width-1-x).
func (d *Device) planes(f *display.Frame) (bw, red []byte) {
	stride := (d.opts.Width + 7) / 8
	bw = make([]byte, stride*d.opts.Height)
	for i := range bw {
		bw[i] = 0xff
	}
	if d.opts.Red {
		red = make([]byte, stride*d.opts.Height)
	}
	for y := 0; y < d.opts.Height; y++ {
		for x := 0; x < d.opts.Width; x++ {
			px := f.At(y, d.opts.Width-1-x)
			i, bit := y*stride+x/8, byte(0x80>>(x%8))
			switch {
			case px == display.Black, px == display.Red && !d.opts.Red:
				bw[i] &^= bit
			case px == display.Red:
				red[i] |= bit
			}
		}
	}
	return bw, red
}

func (d *Device) refresh(bw, red []byte, full bool) error {
	if d.asleep {
		if err := d.init(); err != nil {
			return err
		}
	}
	steps := []step{
		{cmdRAMXCount, []byte{0x00}},
		{cmdRAMYCount, []byte{0x00, 0x00}},
		{cmdWriteBW, bw},
	}
	switch {
	case d.opts.Red:
		steps = append(steps, step{cmdWriteRed, red})
	case full:
		// The base image partial refreshes start from.
		steps = append(steps, step{cmdWriteRed, bw})
	default:
		steps = append(steps, step{cmdWriteRed, d.prev})
	}
	seq := byte(seqPartial)
	if full {
		seq = seqFull
	}
	steps = append(steps, step{cmdUpdateCtl2, []byte{seq}}, step{cmdActivate, nil})
	for _, s := range steps {
		if err := d.command(s.cmd, s.data); err != nil {
			return err
		}
	}
	if err := d.waitIdle(); err != nil {
		return err
	}
	if err := d.command(cmdDeepSleep, []byte{0x01}); err != nil {
		return err
	}
	d.asleep = true
	return nil
}

// init wakes the panel: a hardware reset, a software reset, then the
// panel's geometry.
func (d *Device) init() error {
	if err := d.pins.RST.Out(gpio.Low); err != nil {
		return fmt.Errorf("epaper: reset: %w", err)
	}
	d.opts.Sleep(10 * time.Millisecond)
	if err := d.pins.RST.Out(gpio.High); err != nil {
		return fmt.Errorf("epaper: reset: %w", err)
	}
	d.opts.Sleep(10 * time.Millisecond)
	if err := d.command(cmdSWReset, nil); err != nil {
		return err
	}
	if err := d.waitIdle(); err != nil {
		return err
	}
	lastRow := d.opts.Height - 1
	lastByte := (d.opts.Width+7)/8 - 1
	for _, s := range []step{
		{cmdDriverOutput, []byte{byte(lastRow), byte(lastRow >> 8), 0x00}},
		{cmdDataEntry, []byte{0x03}}, // x then y increasing
		{cmdRAMX, []byte{0x00, byte(lastByte)}},
		{cmdRAMY, []byte{0x00, 0x00, byte(lastRow), byte(lastRow >> 8)}},
		{cmdBorder, []byte{0x05}},
		{cmdUpdateCtl1, []byte{0x00, 0x80}},
		{cmdTempSensor, []byte{0x80}}, // the internal sensor
	} {
		if err := d.command(s.cmd, s.data); err != nil {
			return err
		}
	}
	if err := d.waitIdle(); err != nil {
		return err
	}
	d.asleep = false
	return nil
}

// step is a command and its data.
type step struct {
	cmd  byte
	data []byte
}

func (d *Device) command(cmd byte, data []byte) error {
	if err := d.pins.DC.Out(gpio.Low); err != nil {
		return fmt.Errorf("epaper: DC: %w", err)
	}
	if err := d.conn.Tx([]byte{cmd}, nil); err != nil {
		return fmt.Errorf("epaper: command %#02x: %w", cmd, err)
	}
	if len(data) == 0 {
		return nil
	}
	if err := d.pins.DC.Out(gpio.High); err != nil {
		return fmt.Errorf("epaper: DC: %w", err)
	}
	// Large planes go in chunks a Linux spidev takes (4096 bytes).
	for len(data) > 0 {
		n := min(len(data), 4096)
		if err := d.conn.Tx(data[:n], nil); err != nil {
			return fmt.Errorf("epaper: data of %#02x: %w", cmd, err)
		}
		data = data[n:]
	}
	return nil
}

func (d *Device) waitIdle() error {
	deadline := d.opts.BusyTimeout
	for step := 5 * time.Millisecond; d.pins.BUSY.Read() == gpio.High; deadline -= step {
		if deadline <= 0 {
			return fmt.Errorf("epaper: the panel stayed busy for %v (is it connected and powered?)", d.opts.BusyTimeout)
		}
		d.opts.Sleep(step)
	}
	return nil
}
