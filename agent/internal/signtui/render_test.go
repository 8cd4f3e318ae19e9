package signtui

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/headway-transit/headway/agent/internal/station"
	"github.com/headway-transit/headway/internal/wire"
)

var update = flag.Bool("update", false, "rewrite the golden files")

var t0 = time.Date(2026, 11, 27, 7, 0, 0, 0, time.UTC)

func row(trip, route, headsign string, in time.Duration, src string, stale bool, origin string) station.ArrivalView {
	a := wire.Arrival{Trip: trip, RouteShortName: route, Headsign: headsign, Scheduled: t0.Add(in), Source: src}
	if src == wire.SourceRealtime {
		p := t0.Add(in)
		a.Predicted = &p
	}
	return station.ArrivalView{Arrival: a, Minutes: int(in / time.Minute), Origin: origin, Stale: stale}
}

// withStatus gives a row a vehicle and status, as the hub sends a bus
// waiting at its trip's first stop.
func withStatus(a station.ArrivalView, status string) station.ArrivalView {
	a.Vehicle, a.Status = "bus-9", status
	return a
}

func TestRender(t *testing.T) {
	rome, err := time.LoadLocation("Europe/Rome")
	if err != nil {
		t.Fatal(err)
	}
	last := t0.Add(-2 * time.Minute)
	tests := []struct {
		name string
		view station.View
	}{
		{"live", station.View{
			Display: "sign-42", GeneratedAt: t0, Online: true, LastUpdate: &t0, Mode: station.ModeLive, Clock: station.Clock24h,
			Stops: []station.StopView{{Stop: "CEN", StopName: "Central Station", Mode: station.ModeLive, Arrivals: []station.ArrivalView{
				row("a", "12", "Harbour", 30*time.Second, wire.SourceRealtime, false, station.OriginBoard),
				row("b", "3", "Old Town via the very long road past the hospital and the university campus", 7*time.Minute, wire.SourceSchedule, false, station.OriginBoard),
			}}},
		}},
		{"stale two stops 12h", station.View{
			Display: "sign-42", GeneratedAt: t0, LastUpdate: &last, Mode: station.ModeStale, Stale: true, Clock: station.Clock12h,
			Stops: []station.StopView{
				{Stop: "CEN", StopName: "Central Station", Mode: station.ModeStale, Arrivals: []station.ArrivalView{
					row("a", "12", "Harbour", 4*time.Minute, wire.SourceRealtime, true, station.OriginBoard),
				}},
				{Stop: "HBR", StopName: "Harbour\x1b[2J", Mode: station.ModeScheduled, Note: station.NoteNoDepartures, Arrivals: []station.ArrivalView{}},
			},
		}},
		{"scheduled", station.View{
			Display: "sign-42", GeneratedAt: t0, LastUpdate: &last, Mode: station.ModeScheduled, Stale: true, Clock: station.Clock24h,
			Stops: []station.StopView{{Stop: "CEN", StopName: "Central Station", Mode: station.ModeScheduled, Arrivals: []station.ArrivalView{
				row("c", "12", "Harbour", 21*time.Minute, wire.SourceSchedule, false, station.OriginTimetable),
			}}},
		}},
		// The hub says two buses wait at their terminals: scheduled rows,
		// tagged, at their timetable time with no minutes. An unknown
		// status and one on a realtime row change nothing.
		{"at terminal", station.View{
			Display: "sign-42", GeneratedAt: t0, Online: true, LastUpdate: &t0, Mode: station.ModeLive, Clock: station.Clock24h,
			Stops: []station.StopView{{Stop: "CEN", StopName: "Central Station", Mode: station.ModeLive, Arrivals: []station.ArrivalView{
				row("a", "12", "Harbour", 4*time.Minute, wire.SourceRealtime, false, station.OriginBoard),
				withStatus(row("b", "3", "Airport", 12*time.Minute, wire.SourceSchedule, false, station.OriginBoard), wire.StatusAtTerminal),
				withStatus(row("c", "14", "University via the very long road past the hospital and the campus", 17*time.Minute, wire.SourceSchedule, false, station.OriginBoard), wire.StatusAtTerminal),
				withStatus(row("d", "7", "Old Town", 19*time.Minute, wire.SourceSchedule, false, station.OriginBoard), "in_depot"),
				withStatus(row("e", "9", "Beach", 25*time.Minute, wire.SourceRealtime, false, station.OriginBoard), wire.StatusAtTerminal),
			}}},
		}},
		// A trip long due to have left with no bus tracked on it.
		{"no bus", station.View{
			Display: "sign-42", GeneratedAt: t0, Online: true, LastUpdate: &t0, Mode: station.ModeLive, Clock: station.Clock24h,
			Stops: []station.StopView{{Stop: "CEN", StopName: "Central Station", Mode: station.ModeLive, Arrivals: []station.ArrivalView{
				row("a", "12", "Harbour", 4*time.Minute, wire.SourceRealtime, false, station.OriginBoard),
				withStatus(row("b", "3", "Airport", 6*time.Minute, wire.SourceSchedule, false, station.OriginBoard), wire.StatusNoBus),
			}}},
		}},
		// From stale data the sign does not say where a bus waits.
		{"at terminal stale", station.View{
			Display: "sign-42", GeneratedAt: t0, LastUpdate: &last, Mode: station.ModeStale, Stale: true, Clock: station.Clock12h,
			Stops: []station.StopView{{Stop: "CEN", StopName: "Central Station", Mode: station.ModeStale, Arrivals: []station.ArrivalView{
				withStatus(row("b", "3", "Airport", 12*time.Minute, wire.SourceSchedule, false, station.OriginBoard), wire.StatusAtTerminal),
			}}},
		}},
		{"nothing", station.View{
			Display: "sign-42", GeneratedAt: t0, Mode: station.ModeScheduled, Stale: true, Clock: station.Clock24h,
			Stops: []station.StopView{{Stop: "CEN", Mode: station.ModeScheduled, Note: station.NoteNoData, Arrivals: []station.ArrivalView{}}},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := Render(&b, tc.view, rome); err != nil {
				t.Fatal(err)
			}
			for i, line := range strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n") {
				if n := len([]rune(line)); n > Width {
					t.Errorf("line %d is %d columns: %q", i, n, line)
				}
				if strings.ContainsRune(line, 0x1b) {
					t.Errorf("line %d carries an escape: %q", i, line)
				}
			}
			golden := filepath.Join("testdata", strings.ReplaceAll(tc.name, " ", "_"), "frame.txt")
			if *update {
				if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(golden, b.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if b.String() != string(want) {
				t.Errorf("frame:\n%s\nwant:\n%s", b.String(), want)
			}
		})
	}
}

type fakeSource struct {
	mu      sync.Mutex
	v       station.View
	changed chan struct{}
	views   int // View calls: Run renders once a tick or change
}

func (f *fakeSource) View() station.View {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.views++
	return f.v
}

// waitViews waits until Run has rendered n more times than when called.
func (f *fakeSource) waitViews(t *testing.T, n int) {
	t.Helper()
	f.mu.Lock()
	want := f.views + n
	f.mu.Unlock()
	deadline := time.Now().Add(10 * time.Second)
	for {
		f.mu.Lock()
		got := f.views
		f.mu.Unlock()
		if got >= want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("Run rendered %d times, want %d", got, want)
		}
		time.Sleep(time.Millisecond)
	}
}

func (f *fakeSource) Changed() <-chan struct{} {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.changed
}

func (f *fakeSource) Location() *time.Location { return time.UTC }

func (f *fakeSource) set(mode string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.v.Mode = mode
	close(f.changed)
	f.changed = make(chan struct{})
}

// syncBuffer is a bytes.Buffer safe to read while Run writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestRunPlainPrintsOnChange(t *testing.T) {
	src := &fakeSource{changed: make(chan struct{}), v: station.View{Display: "d", GeneratedAt: t0, Mode: station.ModeLive, Online: true,
		Stops: []station.StopView{{Stop: "CEN", Arrivals: []station.ArrivalView{}}}}}
	var out syncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- Run(ctx, src, &out, Options{Interval: 5 * time.Millisecond}) }()
	src.waitViews(t, 5) // several ticks, one frame
	src.set(station.ModeReconnecting)
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(out.String(), "RECONNECTING") {
		if time.Now().After(deadline) {
			t.Fatalf("no second frame: %q", out.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
	src.waitViews(t, 5) // more ticks, no more frames
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	got := out.String()
	if n := strings.Count(got, "mode "); n != 2 {
		t.Errorf("%d frames, want 2 (one per change):\n%s", n, got)
	}
	if strings.ContainsRune(got, 0x1b) {
		t.Errorf("plain output has escapes: %q", got)
	}
}

// A terminal is redrawn in place when the frame changes, and repainted
// whole now and then (a console's messages overwrite it); with Final, the
// last frame says the times are as of when the sign stopped.
func TestRunTerminalRedrawsInPlace(t *testing.T) {
	src := &fakeSource{changed: make(chan struct{}), v: station.View{Display: "d", GeneratedAt: t0, Mode: station.ModeLive,
		Stops: []station.StopView{{Stop: "CEN", Arrivals: []station.ArrivalView{}}}}}
	var out syncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() {
		done <- Run(ctx, src, &out, Options{Terminal: true, Interval: 5 * time.Millisecond, Repaint: time.Hour, Final: true})
	}()
	src.waitViews(t, 5) // several looks, one frame
	src.set(station.ModeReconnecting)
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(out.String(), "RECONNECTING"); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no second frame: %q", out.String())
		}
	}
	src.waitViews(t, 5)
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	got := out.String()
	if !strings.HasPrefix(got, eraseAll+home) || !strings.Contains(got, eraseLine+"\n") {
		t.Errorf("terminal output does not redraw in place: %q", got[:min(len(got), 200)])
	}
	if n := strings.Count(got, home); n != 3 {
		t.Errorf("%d frames, want 3 (the first, the change, the final one)", n)
	}
	if !strings.Contains(got[strings.LastIndex(got, home):], "SIGN STOPPED AT 07:00 - THESE TIMES MAY BE OUT OF DATE") {
		t.Errorf("the last frame does not say the sign stopped: %q", got[strings.LastIndex(got, home):])
	}
}

func TestRunTerminalRepaints(t *testing.T) {
	src := &fakeSource{changed: make(chan struct{}), v: station.View{Display: "d", GeneratedAt: t0, Mode: station.ModeLive,
		Stops: []station.StopView{{Stop: "CEN", Arrivals: []station.ArrivalView{}}}}}
	var out syncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() {
		done <- Run(ctx, src, &out, Options{Terminal: true, Interval: 5 * time.Millisecond, Repaint: 20 * time.Millisecond})
	}()
	for deadline := time.Now().Add(10 * time.Second); strings.Count(out.String(), home) < 3; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no repaints of an unchanged frame: %q", out.String())
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
