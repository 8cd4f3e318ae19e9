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
