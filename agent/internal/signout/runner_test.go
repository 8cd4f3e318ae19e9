package signout

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpiotest"

	"github.com/headway-transit/headway/agent/internal/station"
	"github.com/headway-transit/headway/drivers/display"
	"github.com/headway-transit/headway/internal/wire"
	"github.com/headway-transit/headway/internal/yamlconf"
)

type fakeSign struct {
	mu      sync.Mutex
	v       station.View
	changed chan struct{}
}

func (f *fakeSign) View() station.View {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.v
}
func (f *fakeSign) Changed() <-chan struct{} {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.changed
}
func (f *fakeSign) Location() *time.Location { return time.UTC }
func (f *fakeSign) set(mode string, when int) {
	f.mu.Lock()
	t0 := time.Date(2026, 12, 6, 8, 15, 0, 0, time.UTC)
	f.v = station.View{GeneratedAt: t0, Mode: mode, Online: mode == station.ModeLive, Stops: []station.StopView{{Stop: "CEN", StopName: "Central",
		Arrivals: []station.ArrivalView{{Arrival: wire.Arrival{RouteShortName: "1", Headsign: "University", Scheduled: t0, Source: wire.SourceRealtime}, Minutes: when}}}}}
	close(f.changed)
	f.changed = make(chan struct{})
	f.mu.Unlock()
}

func readBoard(t *testing.T, path string) display.Board {
	var b display.Board
	data, err := os.ReadFile(path + ".json")
	if err != nil {
		return b
	}
	if err := json.Unmarshal(data, &b); err != nil {
		t.Fatal(err)
	}
	return b
}

// A png output follows the sign: live, stale, scheduled; at most one frame
// per min_interval; and on stopping, a final frame that says its times are
// as of then.
func TestRunnerPNG(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "frame.png")
	sign := &fakeSign{changed: make(chan struct{})}
	sign.set(station.ModeLive, 3)
	r, err := New(sign, []station.OutputConfig{{Type: "png", Path: path, Size: "250x122", MinInterval: yamlconf.Duration(300 * time.Millisecond)}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); r.Run(ctx) }()
	wait := func(what string, ok func(display.Board) bool) {
		t.Helper()
		for deadline := time.Now().Add(5 * time.Second); !ok(readBoard(t, path)); time.Sleep(20 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("the frame never showed %s: %+v", what, readBoard(t, path))
			}
		}
	}
	wait("the live board", func(b display.Board) bool { return b.Banner == "" && len(b.Rows) == 1 && b.Rows[0].When == "3 min" })
	start := time.Now()
	sign.set(station.ModeStale, 2)
	sign.set(station.ModeScheduled, 1) // within the budget of the first change
	wait("the scheduled banner", func(b display.Board) bool { return b.Banner == "SCHEDULED TIMES ONLY" && b.Rows[0].When == "1 min" })
	if d := time.Since(start); d < 250*time.Millisecond {
		t.Errorf("the second frame came %v after the first, within the 300 ms budget", d)
	}
	cancel()
	<-done
	if b := readBoard(t, path); !strings.HasPrefix(b.Banner, "TIMES AS OF 08:15") {
		t.Errorf("final frame's banner %q", b.Banner)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatal(err)
	}
}

func TestOutputConfigRefused(t *testing.T) {
	for _, c := range []struct {
		cfg  station.OutputConfig
		want string
	}{
		{station.OutputConfig{Type: "hologram"}, `type "hologram"`},
		{station.OutputConfig{Type: "led"}, "port is required"},
		{station.OutputConfig{Type: "epaper", SPI: "SPI0.0"}, "spi, dc, rst and busy are required"},
		{station.OutputConfig{Type: "png", Path: "x.png", Size: "big"}, `size "big"`},
	} {
		if _, err := New(&fakeSign{changed: make(chan struct{})}, []station.OutputConfig{c.cfg}, nil); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: err %v, want %q", c.cfg, err, c.want)
		}
	}
}

// On a power-fail warning the outputs draw the final frame at once, in
// spite of the budget, and hold it while the power is failing; when it
// comes back they follow the sign again.
func TestRunnerPowerFail(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "frame.png")
	sign := &fakeSign{changed: make(chan struct{})}
	sign.set(station.ModeLive, 3)
	r, err := New(sign, []station.OutputConfig{{Type: "png", Path: path, MinInterval: yamlconf.Duration(time.Hour)}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan struct{})
	go func() { defer close(done); r.Run(ctx) }()
	wait := func(what string, ok func(display.Board) bool) {
		t.Helper()
		for deadline := time.Now().Add(5 * time.Second); !ok(readBoard(t, path)); time.Sleep(10 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("the frame never showed %s: %+v", what, readBoard(t, path))
			}
		}
	}
	wait("the live board", func(b display.Board) bool { return len(b.Rows) == 1 && b.Banner == "" })
	r.PowerFail(true) // within the hour's budget: the final frame goes anyway
	wait("the power-cut frame", func(b display.Board) bool { return strings.HasPrefix(b.Banner, "TIMES AS OF 08:15") })
	sign.set(station.ModeLive, 1) // held: the panel keeps the honest frame
	time.Sleep(3 * every / 2)
	if b := readBoard(t, path); !strings.HasPrefix(b.Banner, "TIMES AS OF") || b.Rows[0].When != "3 min" {
		t.Errorf("while the power fails the frame changed: %+v", b)
	}
	r.PowerFail(false)
	r.PowerFail(true)
	r.PowerFail(false) // the latest state wins
	time.Sleep(3 * every / 2)
	if b := readBoard(t, path); !strings.HasPrefix(b.Banner, "TIMES AS OF") {
		t.Errorf("the budget of an hour let a frame through after the power came back: %+v", b)
	}
	cancel()
	<-done
}

// WatchPower follows a power-fail pin (active low, pulled up): low is
// failing, high is back; the runner hears each change once.
func TestWatchPowerPin(t *testing.T) {
	pin := &gpiotest.Pin{N: "GPIO6", L: gpio.High, EdgesChan: make(chan gpio.Level, 1)}
	sign := &fakeSign{changed: make(chan struct{})}
	r, err := New(sign, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- WatchPower(ctx, pin, gpio.Low, r) }()
	next := func(want bool) {
		t.Helper()
		select {
		case got := <-r.power:
			if got != want {
				t.Fatalf("power failing %v, want %v", got, want)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("no power state %v", want)
		}
	}
	next(false) // the level at the start
	if pin.P != gpio.PullUp {
		t.Errorf("pull %v, want up (an unplugged wire is power present)", pin.P)
	}
	pin.EdgesChan <- gpio.Low
	next(true)
	pin.EdgesChan <- gpio.High
	next(false)
	cancel()
	pin.EdgesChan <- gpio.High // wake the wait; no change, nothing sent
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	select {
	case got := <-r.power:
		t.Errorf("a state %v with no change of level", got)
	default:
	}
}

// A tui output draws the terminal board on a console (here a file), a
// frame only when it changes, and a last one saying the sign stopped.
func TestRunnerTTY(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tty1")
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	sign := &fakeSign{changed: make(chan struct{})}
	sign.set(station.ModeLive, 3)
	r, err := New(sign, []station.OutputConfig{{Type: "tui", TTY: path}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); r.Run(ctx) }()
	read := func() string { b, _ := os.ReadFile(path); return string(b) }
	for deadline := time.Now().Add(5 * time.Second); !strings.Contains(read(), "University"); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no board on the console: %q", read())
		}
	}
	cancel()
	<-done
	got := read()
	if n := strings.Count(got, "University"); n != 2 {
		t.Errorf("%d frames, want 2 (the board, the final one):\n%s", n, got)
	}
	if !strings.Contains(got, "SIGN STOPPED AT 08:15") {
		t.Errorf("no final frame:\n%s", got)
	}
	if v := testutil.ToFloat64(r.frames.WithLabelValues("tui")); v != 2 {
		t.Errorf("frames counted %v, want 2", v)
	}
}

// fakePanel counts refreshes as an e-paper output does: a full one every
// third.
type fakePanel struct{ n uint64 }

func (p *fakePanel) show(display.Board, time.Time) error  { p.n++; return nil }
func (p *fakePanel) final(display.Board, time.Time) error { p.n++; return nil }
func (p *fakePanel) Close() error                         { return nil }
func (p *fakePanel) refreshCounts() (uint64, uint64)      { return p.n - p.n/3, p.n / 3 }

// A panel's partial and full refreshes reach /metrics.
func TestRunnerCountsRefreshes(t *testing.T) {
	sign := &fakeSign{changed: make(chan struct{})}
	r, err := New(sign, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	panel := &fakePanel{}
	r.slots = []*slot{{cfg: station.OutputConfig{Type: "epaper", Name: "p", MinInterval: yamlconf.Duration(time.Nanosecond)}, out: panel}}
	for i := range 7 {
		sign.set(station.ModeLive, i)
		r.update(0)
	}
	r.final()
	if got := testutil.ToFloat64(r.refreshes.WithLabelValues("p", "full")); got != 8/3 {
		t.Errorf("full refreshes %v, want %v", got, 8/3)
	}
	if got := testutil.ToFloat64(r.refreshes.WithLabelValues("p", "partial")); got != 8-8/3 {
		t.Errorf("partial refreshes %v, want %v", got, 8-8/3)
	}
}

// A simulated e-paper panel (spi: sim) runs the real driver: its frames
// reach the PNG, its refreshes are counted (the first one full, then
// partial), and its budget holds changes back.
func TestSimulatedEpaper(t *testing.T) {
	path := filepath.Join(t.TempDir(), "panel.png")
	sign := &fakeSign{changed: make(chan struct{})}
	sign.set(station.ModeLive, 3)
	c := station.OutputConfig{Type: "epaper", SPI: station.SimSPI, Path: path, Name: "p", MinInterval: yamlconf.Duration(30 * time.Minute)}
	r, err := New(sign, []station.OutputConfig{c}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	t0 := time.Date(2026, 12, 6, 8, 15, 0, 0, time.UTC)
	r.now = func() time.Time { return t0 }
	r.update(0)
	sign.set(station.ModeLive, 2)
	r.update(0)                                                  // within the half hour: deferred
	r.now = func() time.Time { return t0.Add(31 * time.Minute) } // a partial: the last full was less than an hour ago
	r.update(0)
	if b := readBoard(t, path); len(b.Rows) != 1 || b.Rows[0].When != "2 min" {
		t.Errorf("the panel shows %+v", b)
	}
	full := testutil.ToFloat64(r.refreshes.WithLabelValues("p", "full"))
	partial := testutil.ToFloat64(r.refreshes.WithLabelValues("p", "partial"))
	deferred := testutil.ToFloat64(r.deferred.WithLabelValues("p"))
	if full != 1 || partial != 1 || deferred != 1 {
		t.Errorf("refreshes full %v partial %v, deferred %v; want 1, 1, 1", full, partial, deferred)
	}
	if _, err := New(sign, []station.OutputConfig{{Type: "epaper", SPI: station.SimSPI}}, nil); err == nil || !strings.Contains(err.Error(), "needs path") {
		t.Errorf("a simulated panel with no path: %v", err)
	}
}
