package motion

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/headway-transit/headway/internal/gtfs"
)

// shifted is trip tr moved to start at hour h of the service day.
func shifted(tr *gtfs.Trip, h int) *gtfs.Trip {
	out := *tr
	out.StopTimes = slices.Clone(tr.StopTimes)
	off := h*3600 - tr.StopTimes[0].Departure
	for i := range out.StopTimes {
		out.StopTimes[i].Arrival += off
		out.StopTimes[i].Departure += off
	}
	return &out
}

func maxSpeed(d *Driver) float64 {
	top := 0.0
	for ts := d.Departs(); !ts.After(d.End()); ts = ts.Add(time.Second) {
		top = math.Max(top, d.At(ts).Speed)
	}
	return top
}

// A bus ten minutes late drives as fast as the street lets it: at its cap
// at night, much slower in the rush hours.
func TestTimeOfDaySpeeds(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Traffic.HaltsPerKm = 0
	tests := []struct {
		name string
		hour int
	}{
		{"night", 3},
		{"morning peak", 8},
		{"midday", 11},
		{"evening peak", 17},
	}
	durations := map[int]time.Duration{}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr := shifted(synthTrip(t), tc.hour)
			ready := tr.DepartureAt(dayStart, 0).Add(10 * time.Minute)
			d, err := NewDriver(tr, dayStart, ready, cfg, rand.New(rand.NewPCG(1, 0)))
			if err != nil {
				t.Fatal(err)
			}
			f := cfg.Traffic.Factor(d.Departs())
			want := cfg.MaxSpeed * f
			if got := maxSpeed(d); got > want*(1+cfg.Traffic.Jitter)+1e-9 || got < want*(1-cfg.Traffic.Jitter)-1e-9 {
				t.Errorf("top speed %.2f m/s at factor %.2f, want %.2f ± %.0f%%", got, f, want, cfg.Traffic.Jitter*100)
			}
			durations[tc.hour] = d.End().Sub(d.Departs())
		})
	}
	if !(durations[8] > durations[3] && durations[17] > durations[11] && durations[11] > durations[3]) {
		t.Errorf("trip durations by hour %v: want peaks slowest, night fastest", durations)
	}
}

func TestTrafficFactorInterpolates(t *testing.T) {
	tr := CityTraffic()
	at := func(h, m int) time.Time { return time.Date(2026, 11, 27, h, m, 0, 0, time.UTC) }
	tests := []struct {
		name string
		t    time.Time
		want float64
	}{
		{"on the hour", at(8, 0), tr.Hourly[8]},
		{"half past", at(6, 30), (tr.Hourly[6] + tr.Hourly[7]) / 2},
		{"before midnight", at(23, 30), (tr.Hourly[23] + tr.Hourly[0]) / 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tr.Factor(tc.t); math.Abs(got-tc.want) > 1e-9 {
				t.Errorf("Factor = %v, want %v", got, tc.want)
			}
		})
	}
	if got := (Traffic{}).Factor(at(8, 0)); got != 1 {
		t.Errorf("empty streets: factor %v, want 1", got)
	}
}

// Traffic halts come from the seed: the same seed gives the same halts, at
// which the bus stands still between stops; another seed gives others.
func TestTrafficHaltsAreReproducible(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Traffic.HaltsPerKm = 3
	tr := synthTrip(t)
	halts := func(seed uint64) []Halt { return newDriver(t, tr, cfg, seed).Halts() }
	tests := []struct {
		name      string
		a, b      uint64
		wantEqual bool
	}{
		{"same seed", 5, 5, true},
		{"other seed", 5, 6, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, b := halts(tc.a), halts(tc.b)
			if len(a) == 0 {
				t.Fatal("no halts at 3 per km over 3.5 km")
			}
			if eq := slices.Equal(a, b); eq != tc.wantEqual {
				t.Errorf("seeds %d and %d: equal halts %v, want %v\n%v\n%v", tc.a, tc.b, eq, tc.wantEqual, a, b)
			}
		})
	}
	d := newDriver(t, tr, cfg, 5)
	for _, h := range d.Halts() {
		if h.Until.Sub(h.From) < cfg.Traffic.HaltMin || h.Until.Sub(h.From) > cfg.Traffic.HaltMax+time.Second {
			t.Errorf("halt at %.0f m lasts %v", h.Dist, h.Until.Sub(h.From))
		}
		mid := h.From.Add(h.Until.Sub(h.From) / 2)
		if s := d.At(mid); s.Speed != 0 || s.AtStop || math.Abs(s.Dist-h.Dist) > 1e-6 {
			t.Errorf("during the halt at %.0f m: %+v, want standing there, not at a stop", h.Dist, s)
		}
		for _, st := range tr.StopTimes {
			if math.Abs(st.Dist-h.Dist) < minHaltGap-1e-9 {
				t.Errorf("halt at %.0f m is at stop %s", h.Dist, st.StopID)
			}
		}
	}
}

func TestTrafficValidate(t *testing.T) {
	half := CityTraffic()
	half.Hourly[3] = 0
	tests := []struct {
		name string
		tr   Traffic
		ok   bool
	}{
		{"city", CityTraffic(), true},
		{"empty streets", Traffic{}, true},
		{"a missing hour", half, false},
		{"negative halts", Traffic{HaltsPerKm: -1}, false},
		{"jitter of 1", Traffic{Jitter: 1}, false},
		{"halt range reversed", Traffic{HaltMin: time.Minute, HaltMax: time.Second}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.tr.Validate(); (err == nil) != tc.ok {
				t.Errorf("Validate() = %v, want ok %v", err, tc.ok)
			}
		})
	}
}
