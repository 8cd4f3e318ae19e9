package motion

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/headway-transit/headway/internal/geo"
	"github.com/headway-transit/headway/internal/gtfs"
)

// synthTrip is four stops along an L-shaped street: 1200 m east, then 800 m
// and 1500 m north, scheduled at a believable 20-25 km/h average with the
// dwell included, leaving at 08:00 of the service day.
func synthTrip(t testing.TB) *gtfs.Trip {
	t.Helper()
	a := geo.Point{Lat: 52.37, Lon: 4.89}
	b := geo.Offset(a, 90, 1200)
	c := geo.Offset(b, 0, 800)
	d := geo.Offset(c, 0, 1500)
	pl, err := geo.NewPolyline([]geo.Point{a, b, c, d})
	if err != nil {
		t.Fatal(err)
	}
	h8 := 8 * 3600
	stops := []struct {
		id       string
		p        geo.Point
		arr, dep int
		dist     float64
	}{
		{"A", a, h8, h8, 0},
		{"B", b, h8 + 210, h8 + 210, 1200},
		{"C", c, h8 + 360, h8 + 390, 2000},
		{"D", d, h8 + 660, h8 + 660, 3500},
	}
	tr := &gtfs.Trip{ID: "T1", RouteID: "R1", ServiceID: "S", Path: pl}
	for i, s := range stops {
		st := &gtfs.Stop{ID: s.id, Name: s.id, Lat: s.p.Lat, Lon: s.p.Lon}
		tr.StopTimes = append(tr.StopTimes, gtfs.StopTime{
			StopID: s.id, Stop: st, Sequence: i + 1, Arrival: s.arr, Departure: s.dep, Dist: s.dist, Timepoint: true,
		})
	}
	return tr
}

var dayStart = time.Date(2026, 11, 27, 0, 0, 0, 0, time.FixedZone("CET", 3600))

func newDriver(t testing.TB, tr *gtfs.Trip, cfg Config, seed uint64) *Driver {
	t.Helper()
	d, err := NewDriver(tr, dayStart, time.Time{}, cfg, rand.New(rand.NewPCG(seed, 0)))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestDriverKeepsSchedule(t *testing.T) {
	for _, delay := range []time.Duration{0, 3 * time.Minute} {
		t.Run(delay.String(), func(t *testing.T) {
			tr := synthTrip(t)
			cfg := DefaultConfig()
			cfg.Traffic = Traffic{} // empty streets: the schedule alone decides
			cfg.Delay = delay
			d := newDriver(t, tr, cfg, 1)

			first := tr.DepartureAt(dayStart, 0).Add(delay)
			if got := d.Departs(); !got.Equal(first) {
				t.Errorf("departs %v, want %v", got, first)
			}
			var prev State
			arrived := make([]time.Time, len(tr.StopTimes))
			left := make([]time.Time, len(tr.StopTimes))
			start := first.Add(-time.Minute)
			end := tr.ArrivalAt(dayStart, len(tr.StopTimes)-1).Add(delay + 5*time.Minute)
			for ts := start; !ts.After(end); ts = ts.Add(250 * time.Millisecond) {
				s := d.At(ts)
				if s.Speed > cfg.MaxSpeed+1e-9 || s.Speed < 0 {
					t.Fatalf("%v: speed %v outside [0, %v]", ts, s.Speed, cfg.MaxSpeed)
				}
				if ts != start && s.Dist < prev.Dist-1e-9 {
					t.Fatalf("%v: went back from %v to %v m", ts, prev.Dist, s.Dist)
				}
				if ts != start && s.Dist-prev.Dist > cfg.MaxSpeed*0.25+1e-6 {
					t.Fatalf("%v: jumped %v m in 250 ms", ts, s.Dist-prev.Dist)
				}
				if s.AtStop {
					if s.Speed != 0 {
						t.Fatalf("%v: at stop %d moving at %v", ts, s.Stop, s.Speed)
					}
					if want := tr.StopTimes[s.Stop].Dist; math.Abs(s.Dist-want) > 1e-6 {
						t.Fatalf("%v: at stop %d but %v m along, want %v", ts, s.Stop, s.Dist, want)
					}
					if arrived[s.Stop].IsZero() {
						arrived[s.Stop] = ts
					}
				} else if prev.AtStop && ts != start {
					left[prev.Stop] = ts
				}
				if q, _ := tr.Path.At(s.Dist); geo.Distance(q, s.Point()) > 0.01 {
					t.Fatalf("%v: position off the path", ts)
				}
				prev = s
			}
			if !prev.Done || prev.Stop != len(tr.StopTimes)-1 {
				t.Fatalf("not done at the last stop at the end: %+v", prev)
			}
			for i := 1; i < len(tr.StopTimes); i++ {
				sched := tr.ArrivalAt(dayStart, i).Add(delay)
				if off := arrived[i].Sub(sched); off < -45*time.Second || off > 45*time.Second {
					t.Errorf("stop %d: arrived %v, scheduled %v (off by %v)", i, arrived[i], sched, off)
				}
				if i == len(tr.StopTimes)-1 {
					continue
				}
				if dwell := left[i].Sub(arrived[i]); dwell < cfg.DwellMin-time.Second || dwell > 60*time.Second {
					t.Errorf("stop %d: dwelled %v", i, dwell)
				}
				if sched := tr.DepartureAt(dayStart, i).Add(delay); left[i].Before(sched) {
					t.Errorf("stop %d: left at %v, before the scheduled %v", i, left[i], sched)
				}
			}
		})
	}
}

func TestDriverIsReproducible(t *testing.T) {
	tr := synthTrip(t)
	a := newDriver(t, tr, DefaultConfig(), 7)
	b := newDriver(t, tr, DefaultConfig(), 7)
	c := newDriver(t, tr, DefaultConfig(), 8)
	same := true
	for i := range tr.StopTimes {
		if !a.DepartsAt(i).Equal(b.DepartsAt(i)) {
			t.Fatalf("stop %d: seed 7 gave %v and %v", i, a.DepartsAt(i), b.DepartsAt(i))
		}
		same = same && a.DepartsAt(i).Equal(c.DepartsAt(i))
	}
	if same {
		t.Error("seeds 7 and 8 gave identical dwells")
	}
}

func TestDriverWaitsForReady(t *testing.T) {
	tr := synthTrip(t)
	ready := tr.DepartureAt(dayStart, 0).Add(4 * time.Minute)
	cfg := DefaultConfig()
	cfg.Traffic = Traffic{}
	d, err := NewDriver(tr, dayStart, ready, cfg, rand.New(rand.NewPCG(1, 0)))
	if err != nil {
		t.Fatal(err)
	}
	if !d.Departs().Equal(ready) {
		t.Errorf("departs %v, want when ready at %v", d.Departs(), ready)
	}
	if s := d.At(ready.Add(-time.Second)); !s.AtStop || s.Stop != 0 {
		t.Errorf("before ready: %+v, want at the first stop", s)
	}
	// Running late, it drives at the cap and makes up time at slack stops.
	last := len(tr.StopTimes) - 1
	if d.ArrivesAt(last).Sub(tr.ArrivalAt(dayStart, last)) >= 4*time.Minute {
		t.Errorf("made up no time: arrives %v", d.ArrivesAt(last))
	}
}

func TestNewDriverRejects(t *testing.T) {
	tr := synthTrip(t)
	noPath := *tr
	noPath.Path = nil
	one := *tr
	one.StopTimes = one.StopTimes[:1]
	bad := DefaultConfig()
	bad.MaxSpeed = 0
	tests := []struct {
		name string
		trip *gtfs.Trip
		cfg  Config
	}{
		{"no path", &noPath, DefaultConfig()},
		{"one stop", &one, DefaultConfig()},
		{"zero max speed", tr, bad},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := NewDriver(tc.trip, dayStart, time.Time{}, tc.cfg, rand.New(rand.NewPCG(1, 0))); err == nil {
				t.Error("want an error")
			}
		})
	}
}
