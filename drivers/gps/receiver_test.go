package gps

import (
	"context"
	"io"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/headway-transit/headway/drivers/nmea"
)

// eventually is the deadline for anything a test waits for. It is generous
// on purpose: these tests check behaviour, not timing.
const eventually = 10 * time.Second

// fakeGPS is a GPS receiver emulated on a real PTY: it writes one RMC+GGA
// epoch every 20 ms to the master, with times counting up from start.
type fakeGPS struct {
	master, slave *os.File
	link          string
	stop          chan struct{}
	wg            sync.WaitGroup
	closeOnce     sync.Once
}

// startGPS opens a PTY, points link (if not empty) at its slave, and starts
// writing epochs. It is closed at the end of the test if not before.
func startGPS(tb testing.TB, link string, start time.Time) *fakeGPS {
	tb.Helper()
	master, slave, err := pty.Open()
	if err != nil {
		tb.Skipf("no PTY available: %v", err)
	}
	master = pollable(tb, master)
	g := &fakeGPS{master: master, slave: slave, link: link, stop: make(chan struct{})}
	tb.Cleanup(g.close)
	if link != "" {
		if err := os.Symlink(slave.Name(), link); err != nil {
			tb.Fatal(err)
		}
	}
	g.wg.Add(2)
	// Until the Receiver opens the port and puts it in raw mode, the line
	// discipline echoes what we write back to the master: drain it so that
	// the writes never block on a full echo buffer.
	go func() {
		defer g.wg.Done()
		_, _ = io.Copy(io.Discard, master)
	}()
	go func() {
		defer g.wg.Done()
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		var buf []byte
		for i := 0; ; i++ {
			f := nmea.Fix{
				Time: start.Add(time.Duration(i) * time.Second), Mode: nmea.Mode3D,
				Lat: 48.1173, Lon: 11.5167, AltMSL: 545.4, AltHAE: 592.3,
				Speed: 5, Track: 90, HDOP: 0.9, Sats: 8,
			}
			buf = nmea.AppendRMC(buf[:0], "GP", f)
			buf = nmea.AppendGGA(buf, "GP", f)
			if _, err := master.Write(buf); err != nil {
				return
			}
			select {
			case <-g.stop:
				return
			case <-tick.C:
			}
		}
	}()
	return g
}

// pollable returns f reopened in non-blocking mode, so that Go's poller
// serves its reads and writes and Close interrupts them. pty.Open leaves
// the master blocking, and closing a file with a read or write stuck in a
// blocking syscall waits for that syscall: the PTY would never go away.
func pollable(tb testing.TB, f *os.File) *os.File {
	tb.Helper()
	fd, err := syscall.Dup(int(f.Fd()))
	if err != nil {
		tb.Fatal(err)
	}
	name := f.Name()
	f.Close()
	if err := syscall.SetNonblock(fd, true); err != nil {
		tb.Fatal(err)
	}
	return os.NewFile(uintptr(fd), name)
}

// close makes the PTY vanish, as when a USB receiver is unplugged.
func (g *fakeGPS) close() {
	g.closeOnce.Do(func() {
		close(g.stop)
		g.master.Close()
		g.slave.Close()
		if g.link != "" {
			os.Remove(g.link)
		}
		g.wg.Wait()
	})
}

type run struct {
	r      *Receiver
	out    chan nmea.Fix
	cancel context.CancelFunc
	done   chan error
}

// startReceiver runs a Receiver for cfg, after applying setup to it.
func startReceiver(tb testing.TB, cfg Config, setup ...func(*Receiver)) *run {
	tb.Helper()
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(testWriter{tb}, nil))
	}
	ctx, cancel := context.WithCancel(context.Background())
	rn := &run{r: New(cfg), out: make(chan nmea.Fix), cancel: cancel, done: make(chan error, 1)}
	for _, f := range setup {
		f(rn.r)
	}
	go func() { rn.done <- rn.r.Run(ctx, rn.out) }()
	tb.Cleanup(func() { rn.stop(tb) })
	return rn
}

// stop cancels Run and checks that it returns nil promptly.
func (rn *run) stop(tb testing.TB) {
	tb.Helper()
	rn.cancel()
	select {
	case err, ok := <-rn.done:
		if ok && err != nil {
			tb.Errorf("Run returned %v, want nil", err)
		}
		if ok {
			close(rn.done)
		}
	case <-time.After(eventually):
		tb.Fatal("Run did not return after cancel")
	}
}

// waitFix returns the first fix at or after from.
func (rn *run) waitFix(tb testing.TB, from time.Time) nmea.Fix {
	tb.Helper()
	deadline := time.After(eventually)
	for {
		select {
		case f := <-rn.out:
			if !f.Time.Before(from) {
				return f
			}
		case err := <-rn.done:
			tb.Fatalf("Run returned early: %v", err)
		case <-deadline:
			tb.Fatalf("no fix from %v within %v; stats %+v", from, eventually, rn.r.Stats())
		}
	}
}

type testWriter struct{ tb testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.tb.Logf("%s", p)
	return len(p), nil
}

func TestReceiverPTY(t *testing.T) {
	tests := []struct {
		name string
		baud int
	}{
		{name: "fixed", baud: 9600},
		// A PTY ignores the rate, so the hunt locks onto the first one.
		{name: "auto", baud: Auto},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			begin := time.Now()
			start := time.Date(2026, 11, 27, 7, 0, 0, 0, time.UTC)
			g := startGPS(t, "", start)
			rn := startReceiver(t, Config{Path: g.slave.Name(), Baud: tt.baud})
			readStatsWhileRunning(t, rn.r)

			f := rn.waitFix(t, start)
			if !f.HasPosition() || f.Mode != nmea.Mode3D {
				t.Errorf("fix = %+v, want a 3D position", f)
			}
			if math.Abs(f.Lat-48.1173) > 1e-6 || math.Abs(f.Lon-11.5167) > 1e-6 {
				t.Errorf("position = %v,%v, want 48.1173,11.5167", f.Lat, f.Lon)
			}
			s := rn.r.Stats()
			if !s.Connected || s.Bytes == 0 || s.Sentences["RMC"] == 0 || s.Sentences["GGA"] == 0 {
				t.Errorf("stats = %+v", s)
			}
			if s.LastFix.Before(start) {
				t.Errorf("LastFix = %v, want >= %v", s.LastFix, start)
			}
			if s.LastFixAt.Before(begin) || s.LastFixAt.After(time.Now()) {
				t.Errorf("LastFixAt = %v, want the wall-clock time of receipt", s.LastFixAt)
			}
			if s.Latest.Mode != nmea.Mode3D || s.LatestAt.IsZero() {
				t.Errorf("Latest = %+v at %v, want the last 3D epoch", s.Latest, s.LatestAt)
			}
			if s.AutoBaud != (tt.baud == Auto) {
				t.Errorf("AutoBaud = %v", s.AutoBaud)
			}
			if tt.baud != Auto {
				if s.Baud != tt.baud || s.Hunting || s.Detected != 0 {
					t.Errorf("Baud, Hunting, Detected = %d, %v, %d; want %d, false, 0", s.Baud, s.Hunting, s.Detected, tt.baud)
				}
				return
			}
			s = waitStats(t, rn.r, "baud detected", func(s Stats) bool { return s.Detected != 0 })
			if s.Detected != DefaultBaud || s.Baud != DefaultBaud || s.Hunting {
				t.Errorf("Baud, Hunting, Detected = %d, %v, %d; want %d, false, %[4]d", s.Baud, s.Hunting, s.Detected, DefaultBaud)
			}
		})
	}
}

// readStatsWhileRunning calls Stats in a loop until the test ends, for the
// race detector.
func readStatsWhileRunning(tb testing.TB, r *Receiver) {
	tb.Helper()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			case <-time.After(time.Millisecond):
				s := r.Stats()
				s.Sentences["x"]++ // the maps are the caller's copies
			}
		}
	}()
	tb.Cleanup(func() {
		close(stop)
		wg.Wait()
	})
}

// waitStats polls r.Stats until ok accepts them.
func waitStats(tb testing.TB, r *Receiver, what string, ok func(Stats) bool) Stats {
	tb.Helper()
	deadline := time.Now().Add(eventually)
	for {
		s := r.Stats()
		if ok(s) {
			return s
		}
		if time.Now().After(deadline) {
			tb.Fatalf("%s: not within %v; stats %+v", what, eventually, s)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// resumeBound is how soon after the receiver comes back the Receiver must
// deliver a fix again. The design bound is 2 s: backoff is capped at
// maxBackoff, so the next attempt to open comes at most 2 s after the
// device reappears, and the first epoch follows within one PTY write
// (20 ms) since the hunt tries the last good rate first. The test allows
// 5 s so that a loaded CI machine under -race does not fail it; a broken
// cap or a retry loop that gave up would take far longer (or forever).
const resumeBound = 5 * time.Second

// TestReceiverReconnects unplugs the receiver, leaves it away long enough
// for the backoff to grow towards its cap, and plugs it back in at the
// same path.
func TestReceiverReconnects(t *testing.T) {
	tests := []struct {
		name string
		baud int
	}{
		{name: "fixed", baud: 4800},
		{name: "auto", baud: Auto},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			link := filepath.Join(t.TempDir(), "gps0")
			first := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
			g1 := startGPS(t, link, first)
			rn := startReceiver(t, Config{Path: link, Baud: tt.baud})

			rn.waitFix(t, first)
			g1.close() // unplugged
			// Backoff waits 100+200+400+800 ms: the device comes back
			// during the 1.6 s wait, near the worst case of the cap.
			time.Sleep(1700 * time.Millisecond)

			second := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
			back := time.Now()
			startGPS(t, link, second) // plugged back in, at the same path
			f := rn.waitFix(t, second)
			took := time.Since(back)
			t.Logf("reading again %v after the device came back (design bound %v)", took.Round(time.Millisecond), maxBackoff)
			if took > resumeBound {
				t.Errorf("first fix %v after the device came back, want within %v (design: %v)", took, resumeBound, maxBackoff)
			}
			if !f.HasPosition() {
				t.Errorf("fix = %+v, want a position", f)
			}
			s := rn.r.Stats()
			if s.Reconnects != 1 {
				t.Errorf("Reconnects = %d, want 1", s.Reconnects)
			}
			if s.LastFix.Before(second) {
				t.Errorf("LastFix = %v, want >= %v", s.LastFix, second)
			}
			if s.Sentences["RMC"] < 2 {
				t.Errorf("Sentences = %v, want counts over both sessions", s.Sentences)
			}
		})
	}
}

func TestReceiverStopsWhenPortMissing(t *testing.T) {
	rn := startReceiver(t, Config{Path: filepath.Join(t.TempDir(), "absent")})
	time.Sleep(300 * time.Millisecond) // let it fail and back off a few times
	rn.stop(t)
	if s := rn.r.Stats(); s.Connected || s.Reconnects != 0 || s.Bytes != 0 {
		t.Errorf("stats = %+v, want nothing opened", s)
	}
}

// TestReceiverStopsWhileSending checks that a consumer that stopped
// reading does not keep Run from returning.
func TestReceiverStopsWhileSending(t *testing.T) {
	g := startGPS(t, "", time.Date(2026, 11, 27, 7, 0, 0, 0, time.UTC))
	rn := startReceiver(t, Config{Path: g.slave.Name()})
	deadline := time.Now().Add(eventually)
	for rn.r.Stats().Sentences["GGA"] == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no sentences read")
		}
		time.Sleep(10 * time.Millisecond)
	}
	rn.stop(t) // nobody reads rn.out: Run is blocked sending
	if rn.r.Stats().Connected {
		t.Error("port still open after Run returned")
	}
}

func TestOpen(t *testing.T) {
	g := startGPS(t, "", time.Date(2026, 11, 27, 7, 0, 0, 0, time.UTC))
	port, err := Open(g.slave.Name(), 115200)
	if err != nil {
		t.Fatalf("Open on a PTY slave: %v", err)
	}
	defer port.Close()
	f, err := nmea.NewDecoder(port).Next()
	if err != nil || !f.HasPosition() {
		t.Fatalf("Next = %+v, %v", f, err)
	}

	tests := []struct {
		name string
		path string
		baud int
	}{
		{name: "missing device", path: filepath.Join(t.TempDir(), "ttyUSB9"), baud: 9600},
		{name: "not a tty", path: os.DevNull, baud: 9600},
		{name: "bad baud", path: g.slave.Name(), baud: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Open(tt.path, tt.baud)
			if err == nil {
				p.Close()
				t.Fatal("Open succeeded")
			}
			if !strings.Contains(err.Error(), tt.path) {
				t.Errorf("error %q does not name the path %s", err, tt.path)
			}
		})
	}
}
