package fleet

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/headway-transit/headway/drivers/nmea"
	"github.com/headway-transit/headway/firmware-sim/internal/motion"
	"github.com/headway-transit/headway/firmware-sim/internal/ptyport"
	"github.com/headway-transit/headway/internal/geo"
	"github.com/headway-transit/headway/internal/gtfs"
)

const demoFeed = "../../../configs/demo-feed"

func loadDemo(t testing.TB) *gtfs.Feed {
	t.Helper()
	if _, err := os.Stat(demoFeed); err != nil {
		t.Skipf("no demo feed at %s: %v", demoFeed, err)
	}
	f, err := gtfs.Load(demoFeed)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// demoStart is a weekday morning in the demo feed's zone.
func demoStart(t testing.TB, f *gtfs.Feed) time.Time {
	return time.Date(2026, 11, 27, 8, 13, 0, 0, f.Location)
}

// instantClock never waits, so a test runs simulated hours in milliseconds.
type instantClock struct{}

func (instantClock) Now() time.Time { return time.Unix(0, 0) }
func (instantClock) After(time.Duration) <-chan time.Time {
	c := make(chan time.Time, 1)
	c <- time.Unix(0, 0)
	return c
}

type bufPort struct{ bytes.Buffer }

func (*bufPort) Close() error   { return nil }
func (*bufPort) String() string { return "buffer" }

func readTruth(t testing.TB, b []byte) []Truth {
	fixes, _ := readTruthAll(t, b)
	return fixes
}

// readTruthAll splits a truth file into its fix and stop lines, rejecting
// lines of any other type or with unknown fields.
func readTruthAll(t testing.TB, b []byte) (fixes []Truth, stops []StopTruth) {
	t.Helper()
	fixes, stops, skips := readTruthSkips(t, b)
	if len(skips) > 0 {
		t.Fatalf("%d skip lines in a run that skips nothing", len(skips))
	}
	return fixes, stops
}

// readTruthSkips splits a truth file into its fix, stop and skip lines,
// rejecting lines of any other type or with unknown fields.
func readTruthSkips(t testing.TB, b []byte) (fixes []Truth, stops []StopTruth, skips []SkipTruth) {
	t.Helper()
	for _, line := range bytes.Split(bytes.TrimSpace(b), []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		var kind struct{ Type string }
		if err := json.Unmarshal(line, &kind); err != nil {
			t.Fatalf("truth line %s: %v", line, err)
		}
		dec := json.NewDecoder(bytes.NewReader(line))
		dec.DisallowUnknownFields()
		switch kind.Type {
		case TypeFix:
			var tr Truth
			if err := dec.Decode(&tr); err != nil {
				t.Fatalf("truth line %s: %v", line, err)
			}
			fixes = append(fixes, tr)
		case TypeStop:
			var st StopTruth
			if err := dec.Decode(&st); err != nil {
				t.Fatalf("truth line %s: %v", line, err)
			}
			stops = append(stops, st)
		case TypeSkip:
			var sk SkipTruth
			if err := dec.Decode(&sk); err != nil {
				t.Fatalf("truth line %s: %v", line, err)
			}
			skips = append(skips, sk)
		default:
			t.Fatalf("truth line of type %q: %s", kind.Type, line)
		}
	}
	return fixes, stops, skips
}

// End to end on real PTYs: a fleet of ten buses on three routes for 5
// simulated seconds at speedup 10; what a reader of each link decodes with
// drivers/nmea matches the truth file.
func TestRunOnPTYs(t *testing.T) {
	const n = 10
	feed := loadDemo(t)
	link := filepath.Join(t.TempDir(), "gps")
	var truth bytes.Buffer
	fl, err := New(Options{
		Feed: feed, Routes: []string{"1", "2", "3"}, Vehicles: n,
		Start: demoStart(t, feed), Speedup: 10, Duration: 5 * time.Second, Seed: 1,
		Motion: motion.DefaultConfig(), Truth: &truth,
		Open: func(i int) (Port, error) {
			p, err := ptyport.Open(fmt.Sprintf("%s%d", link, i))
			if err != nil {
				t.Skipf("no PTY on this machine: %v", err)
			}
			return p, nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer fl.Close()
	if got := len(fl.Vehicles()); got != n {
		t.Fatalf("%d vehicles, want %d", got, n)
	}
	type result struct {
		fixes []nmea.Fix
		err   error
	}
	results := make([]chan result, n)
	for i, v := range fl.Vehicles() {
		t.Log(v.Describe())
		if v.Run().Trip.RouteID != fmt.Sprint(i%3+1) {
			t.Errorf("%s on route %s, want %d", v.Name, v.Run().Trip.RouteID, i%3+1)
		}
		r, err := os.OpenFile(fmt.Sprintf("%s%d", link, i), os.O_RDONLY|syscall.O_NOCTTY, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		r.SetReadDeadline(time.Now().Add(60 * time.Second))
		results[i] = make(chan result, 1)
		go func(c chan<- result) {
			var res result
			dec := nmea.NewDecoder(r)
			for len(res.fixes) < 5 && res.err == nil {
				var f nmea.Fix
				if f, res.err = dec.Next(); res.err == nil {
					res.fixes = append(res.fixes, f)
				}
			}
			c <- res
		}(results[i])
	}
	if err := fl.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	all := readTruth(t, truth.Bytes())
	if len(all) != 5*n {
		t.Fatalf("%d truth fix lines, want %d", len(all), 5*n)
	}
	for i, v := range fl.Vehicles() {
		res := <-results[i]
		if res.err != nil {
			t.Fatalf("%s: read: %v", v.Name, res.err)
		}
		var mine []Truth
		for _, tr := range all {
			if tr.Vehicle == v.Name {
				mine = append(mine, tr)
			}
		}
		for k, f := range res.fixes {
			want := mine[k]
			if !f.Time.Equal(want.Time) || f.Mode != nmea.Mode3D ||
				math.Abs(f.Lat-want.Lat) > 1e-5 || math.Abs(f.Lon-want.Lon) > 1e-5 {
				t.Errorf("%s fix %d: %v %v %.6f,%.6f; truth %v %.6f,%.6f", v.Name, k, f.Time, f.Mode, f.Lat, f.Lon, want.Time, want.Lat, want.Lon)
			}
		}
		if want := demoStart(t, feed).Add(4 * time.Second); !res.fixes[4].Time.Equal(want) {
			t.Errorf("%s: last fix at %v, want %v (simulated time)", v.Name, res.fixes[4].Time, want)
		}
	}
	if err := fl.Close(); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if _, err := os.Lstat(fmt.Sprintf("%s%d", link, i)); !os.IsNotExist(err) {
			t.Errorf("link %d left behind: %v", i, err)
		}
	}
}

func runBuffered(t testing.TB, opts Options) (nmeaOut []byte, truth []Truth) {
	t.Helper()
	var tb bytes.Buffer
	opts.Truth = &tb
	out := runBufferedTruth(t, opts)
	return out, readTruth(t, tb.Bytes())
}

// runBufferedTruth runs a fleet on instant time into one buffer, returning
// the NMEA; the truth goes wherever opts.Truth says.
func runBufferedTruth(t testing.TB, opts Options) []byte {
	t.Helper()
	var port bufPort
	opts.Clock = instantClock{}
	opts.Open = func(int) (Port, error) { return &port, nil }
	if opts.Motion == (motion.Config{}) {
		opts.Motion = motion.DefaultConfig()
	}
	fl, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	defer fl.Close()
	if err := fl.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := fl.Close(); err != nil {
		t.Fatal(err)
	}
	return port.Bytes()
}

func TestRunIsReproducible(t *testing.T) {
	feed := loadDemo(t)
	opts := Options{Feed: feed, Routes: []string{"2"}, Start: demoStart(t, feed), Duration: 20 * time.Minute, Seed: 42}
	a, _ := runBuffered(t, opts)
	b, _ := runBuffered(t, opts)
	if !bytes.Equal(a, b) {
		t.Error("same seed and start gave different NMEA")
	}
	opts.Seed = 43
	if c, _ := runBuffered(t, opts); bytes.Equal(a, c) {
		t.Error("seeds 42 and 43 gave the same NMEA")
	}
}

// A bus keeps going past the end of its trip: it takes the next one, from
// where it stopped, and never drives faster than the cap.
func TestRunChainsTrips(t *testing.T) {
	feed := loadDemo(t)
	_, truth := runBuffered(t, Options{Feed: feed, Routes: []string{"1"}, Start: demoStart(t, feed), Duration: 3 * time.Hour, Seed: 1})
	trips := map[string]bool{}
	for i, tr := range truth {
		trips[tr.Trip] = true
		if tr.Speed > motion.DefaultConfig().MaxSpeed+1e-9 {
			t.Fatalf("%v: speed %v", tr.Time, tr.Speed)
		}
		if i == 0 {
			continue
		}
		prev := truth[i-1]
		if d := geo.Distance(geo.Point{Lat: prev.Lat, Lon: prev.Lon}, geo.Point{Lat: tr.Lat, Lon: tr.Lon}); d > 20 {
			t.Errorf("%v: jumped %.0f m from trip %s to %s", tr.Time, d, prev.Trip, tr.Trip)
		}
	}
	if len(trips) < 3 {
		t.Errorf("drove %d trips in 3 hours, want several: %v", len(trips), trips)
	}
}

func TestNewRejects(t *testing.T) {
	feed := loadDemo(t)
	open := func(int) (Port, error) { return &bufPort{}, nil }
	start := demoStart(t, feed)
	tests := []struct {
		name string
		opts Options
	}{
		{"nothing to drive", Options{Feed: feed, Start: start, Open: open}},
		{"unknown route", Options{Feed: feed, Routes: []string{"nope"}, Start: start, Open: open}},
		{"unknown trip", Options{Feed: feed, Trips: []string{"nope"}, Start: start, Open: open}},
		{"trips and routes", Options{Feed: feed, Trips: []string{"1-0-0000"}, Routes: []string{"1"}, Start: start, Open: open}},
		{"negative speedup", Options{Feed: feed, Routes: []string{"1"}, Start: start, Speedup: -1, Open: open}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.opts.Motion = motion.DefaultConfig()
			if fl, err := New(tc.opts); err == nil {
				fl.Close()
				t.Error("want an error")
			}
		})
	}
}
