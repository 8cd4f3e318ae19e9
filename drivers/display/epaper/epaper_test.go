package epaper

import (
	"bytes"
	"errors"
	"fmt"
	"testing"
	"time"

	"periph.io/x/conn/v3/conntest"
	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpiotest"
	"periph.io/x/conn/v3/physic"
	"periph.io/x/conn/v3/spi"
	"periph.io/x/conn/v3/spi/spitest"

	"github.com/headway-transit/headway/drivers/display"
)

// dcConn records, with each SPI write, whether DC said command or data:
// the exact bytes the controller sees, and how it reads them.
type dcConn struct {
	spi.Conn
	dc  *gpiotest.Pin
	log []string
}

func (c *dcConn) Tx(w, r []byte) error {
	kind := "data"
	if c.dc.Read() == gpio.Low {
		kind = "cmd"
	}
	if len(w) <= 8 {
		c.log = append(c.log, fmt.Sprintf("%s % x", kind, w))
	} else {
		c.log = append(c.log, fmt.Sprintf("%s %d bytes", kind, len(w)))
	}
	return c.Conn.Tx(w, r)
}

// panel is a 2.13" panel on a playback of the exact SPI transactions
// expected; the test fails if the driver writes anything else.
func panel(t *testing.T, ops []conntest.IO, red bool) (*Device, *dcConn, *spitest.Playback) {
	t.Helper()
	pb := &spitest.Playback{Playback: conntest.Playback{Ops: ops}}
	c, err := pb.Connect(4*physic.MegaHertz, spi.Mode0, 8)
	if err != nil {
		t.Fatal(err)
	}
	dc := &gpiotest.Pin{N: "DC"}
	rec := &dcConn{Conn: c, dc: dc}
	d, err := New(rec, Pins{DC: dc, RST: &gpiotest.Pin{N: "RST"}, BUSY: &gpiotest.Pin{N: "BUSY", L: gpio.Low}},
		Options{Width: 122, Height: 250, Red: red, Sleep: func(time.Duration) {}})
	if err != nil {
		t.Fatal(err)
	}
	return d, rec, pb
}

func w(b ...byte) conntest.IO { return conntest.IO{W: b} }

// the init sequence: software reset, then the 122×250 geometry.
var initOps = []conntest.IO{
	w(0x12),
	w(0x01), w(0xf9, 0x00, 0x00),
	w(0x11), w(0x03),
	w(0x44), w(0x00, 0x0f),
	w(0x45), w(0x00, 0x00, 0xf9, 0x00),
	w(0x3c), w(0x05),
	w(0x21), w(0x00, 0x80),
	w(0x18), w(0x80),
}

// plane is one RAM plane (16 bytes a row, 250 rows) sent in one write.
func plane(fill byte, set func([]byte)) conntest.IO {
	b := bytes.Repeat([]byte{fill}, 16*250)
	if set != nil {
		set(b)
	}
	return conntest.IO{W: b}
}

func refreshOps(bw, base conntest.IO, seq byte) []conntest.IO {
	return []conntest.IO{w(0x4e), w(0x00), w(0x4f), w(0x00, 0x00), w(0x24), bw, w(0x26), base, w(0x22), w(seq), w(0x20), w(0x10), w(0x01)}
}

// One black pixel at the frame's bottom-left, which the quarter turn puts
// at the panel's first row, first bit.
func frame(t *testing.T, black bool) *display.Frame {
	f, err := display.NewFrame(250, 122, display.Mono)
	if err != nil {
		t.Fatal(err)
	}
	if black {
		f.Set(0, 121, display.Black)
	}
	return f
}

// The exact bytes of init, a full refresh and a partial one, and deep sleep
// after each.
func TestFullThenPartial(t *testing.T) {
	white := plane(0xff, nil)
	dot := plane(0xff, func(b []byte) { b[0] = 0x7f })
	var ops []conntest.IO
	ops = append(ops, initOps...)
	ops = append(ops, refreshOps(white, white, seqFull)...) // first frame: full, itself as the base
	ops = append(ops, initOps...)                           // woken from deep sleep
	ops = append(ops, refreshOps(dot, white, seqPartial)...)
	d, rec, pb := panel(t, ops, false)
	t0 := time.Date(2026, 12, 6, 8, 0, 0, 0, time.UTC)
	if err := d.Show(frame(t, false), t0); err != nil {
		t.Fatal(err)
	}
	if err := d.Show(frame(t, true), t0.Add(time.Second)); !errors.Is(err, ErrBudget) {
		t.Fatalf("a second refresh within 3 s: %v, want ErrBudget", err)
	}
	if err := d.Show(frame(t, true), t0.Add(5*time.Second)); err != nil {
		t.Fatal(err)
	}
	if err := pb.Close(); err != nil {
		t.Fatalf("the transactions were not all made: %v", err)
	}
	if d.Refreshes != 2 || d.Fulls != 1 || d.Deferred != 1 {
		t.Errorf("refreshes %d fulls %d deferred %d", d.Refreshes, d.Fulls, d.Deferred)
	}
	// Commands with DC low, data with DC high.
	if rec.log[0] != "cmd 12" || rec.log[1] != "cmd 01" || rec.log[2] != "data f9 00 00" || rec.log[len(rec.log)-1] != "data 01" {
		t.Errorf("DC: %v", rec.log[:4])
	}
}

// Every tenth refresh is a full one, against ghosting; Final is full and
// ignores the budget.
func TestFullEveryAndFinal(t *testing.T) {
	d, _, _ := panel(t, nil, false)
	d.conn = nopConn{} // the bytes are TestFullThenPartial's business
	t0 := time.Date(2026, 12, 6, 8, 0, 0, 0, time.UTC)
	for i := range 21 {
		if err := d.Show(frame(t, i%2 == 0), t0.Add(time.Duration(i)*4*time.Second)); err != nil {
			t.Fatal(err)
		}
	}
	if d.Fulls != 3 || d.Refreshes != 21 {
		t.Errorf("21 refreshes: %d full, want 3 (the first, then every 10th)", d.Fulls)
	}
	if err := d.Final(frame(t, true), t0.Add(81*time.Second)); err != nil || d.Fulls != 4 {
		t.Errorf("final: %v, fulls %d", err, d.Fulls)
	}
	if err := d.Show(frame(t, false), t0.Add(2*time.Hour)); err != nil || d.Fulls != 5 {
		t.Errorf("after an hour a full refresh: %v, fulls %d", err, d.Fulls)
	}
}

// A panel that never goes idle: a clear error, not a hang.
func TestBusyPanel(t *testing.T) {
	d, _, _ := panel(t, nil, false)
	d.conn = nopConn{}
	d.pins.BUSY = &gpiotest.Pin{N: "BUSY", L: gpio.High}
	err := d.Show(frame(t, false), time.Now())
	if err == nil || d.Errors != 1 {
		t.Fatalf("err %v", err)
	}
	if _, err := New(nopConn{}, Pins{}, Options{Width: 122, Height: 250}); err == nil {
		t.Error("a panel without pins")
	}
	small, _ := display.NewFrame(122, 250, display.Mono) // portrait: not how frames are drawn
	if err := d.Show(small, time.Now()); err == nil {
		t.Error("a frame of the wrong size")
	}
}

type nopConn struct{ spi.Conn }

func (nopConn) Tx(w, r []byte) error { return nil }
