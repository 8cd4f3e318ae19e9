package gpsview

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/headway-transit/headway/drivers/gps"
	"github.com/headway-transit/headway/drivers/nmea"
)

// eventually bounds what a test waits for; generous on purpose, these
// tests check behaviour, not timing.
const eventually = 10 * time.Second

// fakeReceiver counts up RMC sentences and, from the third frame on,
// reports a fix.
type fakeReceiver struct {
	mu    sync.Mutex
	calls int
	err   error // Run returns it at once when set
}

func (f *fakeReceiver) Run(ctx context.Context, _ chan<- nmea.Fix) error {
	if f.err != nil {
		return f.err
	}
	<-ctx.Done()
	return nil
}

func (f *fakeReceiver) Stats() gps.Stats {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	s := gps.Stats{Connected: true, Baud: 9600, Sentences: map[string]uint64{"RMC": uint64(10 * f.calls)}}
	if f.calls > 3 {
		s.LastFixAt = time.Now()
	}
	return s
}

func TestRunModes(t *testing.T) {
	tests := []struct {
		name    string
		opts    Options
		wantErr bool
		check   func(t *testing.T, out string)
	}{
		{name: "once waits for a fix", opts: Options{Once: true}, check: func(t *testing.T, out string) {
			if n := strings.Count(out, "GPS /dev/fake"); n != 1 {
				t.Errorf("%d frames, want 1", n)
			}
			if !strings.Contains(out, "RMC") || strings.Contains(out, "\x1b") {
				t.Errorf("want a plain frame with RMC:\n%q", out)
			}
		}},
		{name: "once without a fix", opts: Options{Once: true, Wait: time.Nanosecond}, wantErr: true},
		{name: "plain frames", opts: Options{}, check: func(t *testing.T, out string) {
			if n := strings.Count(out, "GPS /dev/fake"); n < 2 || strings.Contains(out, "\x1b") {
				t.Errorf("want several plain frames:\n%s", out)
			}
		}},
		{name: "terminal", opts: Options{Terminal: true}, check: func(t *testing.T, out string) {
			if n := strings.Count(out, "\x1b[2J"); n != 1 {
				t.Errorf("%d screen clears, want 1 (then redraw in place)", n)
			}
			if n := strings.Count(out, home+"GPS /dev/fake"); n < 2 {
				t.Errorf("%d frames drawn from home, want several", n)
			}
			if !strings.Contains(out, eraseLine+"\n") || !strings.HasSuffix(out, eraseBelow) {
				t.Errorf("lines not erased:\n%q", out)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
			if tt.opts.Once {
				ctx, cancel = context.WithTimeout(context.Background(), eventually)
			}
			defer cancel()
			tt.opts.Port = "/dev/fake"
			tt.opts.Interval = 20 * time.Millisecond
			var out bytes.Buffer
			err := Run(ctx, &fakeReceiver{}, &out, tt.opts)
			if (err != nil) != tt.wantErr {
				t.Fatalf("Run = %v, want error %v", err, tt.wantErr)
			}
			if tt.check != nil {
				tt.check(t, out.String())
			}
		})
	}
}

func TestRunReceiverFails(t *testing.T) {
	boom := errors.New("boom")
	err := Run(context.Background(), &fakeReceiver{err: boom}, io.Discard, Options{Interval: time.Hour})
	if !errors.Is(err, boom) {
		t.Errorf("Run = %v, want %v", err, boom)
	}
}

func TestRates(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	r := rates{window: 5 * time.Second}
	if got, span := r.add(t0, map[string]uint64{"GGA": 0}); span != 0 || len(got) != 0 {
		t.Errorf("first sample: %v over %v, want nothing", got, span)
	}
	var got map[string]float64
	var span time.Duration
	for i := 1; i <= 10; i++ { // 1 GGA/s for 10 s, then a burst of 10 RMC
		counts := map[string]uint64{"GGA": uint64(i)}
		if i == 10 {
			counts["RMC"] = 10
		}
		got, span = r.add(t0.Add(time.Duration(i)*time.Second), counts)
	}
	if span != 5*time.Second || got["GGA"] != 1 || got["RMC"] != 2 {
		t.Errorf("rates %v over %v, want GGA 1/s, RMC 2/s over 5s", got, span)
	}
}

// TestRunPTY is the "agent gps -once" path end to end: a receiver emulated
// on a real PTY, a real gps.Receiver in auto-baud, and the view.
func TestRunPTY(t *testing.T) {
	start := time.Date(2026, 11, 27, 7, 0, 0, 0, time.UTC)
	slave := startPTYReceiver(t, start)
	rx := gps.New(gps.Config{Path: slave, Baud: gps.Auto})
	ctx, cancel := context.WithTimeout(context.Background(), eventually)
	defer cancel()
	var out bytes.Buffer
	if err := Run(ctx, rx, &out, Options{Port: slave, Once: true, Interval: 200 * time.Millisecond}); err != nil {
		t.Fatalf("Run = %v\n%s", err, out.String())
	}
	got := out.String()
	t.Logf("snapshot:\n%s", got)
	for _, want := range []string{
		"GPS " + slave + ": connected",
		"Fix        3D fix, status gps",
		"Time       2026-11-27 07:00:",
		"Position   48.117300 N  11.516700 E",
		"Motion     5.00 m/s",
		"Satellites 8 used",
		"Receiver   u-blox AG - www.u-blox.com",
		"Sky        3 satellite signals, 2 used",
		"PDOP 1.80",
		"(auto-detected)",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("snapshot lacks %q", want)
		}
	}
	for _, typ := range []string{"RMC", "GGA", "GSA", "GSV", "TXT"} {
		if !strings.Contains(got, "\n  "+typ+" ") {
			t.Errorf("snapshot lacks the %s count", typ)
		}
	}
	if st := rx.Stats(); st.Sentences["RMC"] == 0 || st.Connected {
		t.Errorf("after Run: RMC %d, connected %v; want counts and the port closed", st.Sentences["RMC"], st.Connected)
	}
}

// skySentences follow each epoch: the sky and the receiver's identity.
var skySentences = []string{
	"GPGSA,A,3,05,12,,,,,,,,,,,1.8,0.9,1.5",
	"GPGSV,1,1,03,05,45,120,42,12,70,300,47,29,10,200,",
	"GPTXT,01,01,02,u-blox AG - www.u-blox.com",
}

// startPTYReceiver emulates a receiver on a PTY: an RMC+GGA epoch every
// 50 ms. It returns the slave's path, for the Receiver to open.
func startPTYReceiver(tb testing.TB, start time.Time) string {
	tb.Helper()
	master, slave, err := pty.Open()
	if err != nil {
		tb.Skipf("no PTY available: %v", err)
	}
	// A blocking master fd can hang Close; reopen it non-blocking so that
	// Go's poller serves it and Close interrupts a pending write.
	fd, err := syscall.Dup(int(master.Fd()))
	if err != nil {
		tb.Fatal(err)
	}
	master.Close()
	if err := syscall.SetNonblock(fd, true); err != nil {
		tb.Fatal(err)
	}
	master = os.NewFile(uintptr(fd), "ptmx")
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { // echo from before the Receiver sets raw mode
		defer wg.Done()
		_, _ = io.Copy(io.Discard, master)
	}()
	go func() {
		defer wg.Done()
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		var buf []byte
		for i := 0; ; i++ {
			f := nmea.Fix{Time: start.Add(time.Duration(i) * time.Second), Mode: nmea.Mode3D,
				Lat: 48.1173, Lon: 11.5167, AltMSL: 545.4, AltHAE: 592.3, Speed: 5, Track: 90, HDOP: 0.9, Sats: 8}
			buf = nmea.AppendRMC(buf[:0], "GP", f)
			buf = nmea.AppendGGA(buf, "GP", f)
			for _, body := range skySentences {
				buf = nmea.AppendChecksum(buf, []byte(body))
			}
			if _, err := master.Write(buf); err != nil {
				return
			}
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	}()
	tb.Cleanup(func() {
		close(stop)
		master.Close()
		slave.Close()
		wg.Wait()
	})
	return slave.Name()
}
