package motion

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"
)

// Traffic is what the streets do to a bus: the speed they allow by time of
// day, and the traffic lights and queues that stop it between stops.
//
// How it combines with the timetable: the schedule sets the speed the bus
// aims for on each stop-to-stop leg (fast enough to arrive on time, after the
// halts it will meet there), and the traffic sets the fastest it can go, the
// free-flow speed MaxSpeed scaled by Hourly and a random jitter. The bus
// drives the lower of the two. So in the rush hours, when the street is slower
// than the timetable assumes, it loses time; at night it can make up a delay
// quickly, and it still never leaves a stop early. Halts are more frequent when
// the street is slower (HaltsPerKm divided by the hour's factor).
//
// The zero Traffic is empty streets: no time-of-day effect, no halts.
type Traffic struct {
	// Hourly scales the free-flow speed at each local hour (index 0 is
	// 00:00-01:00), interpolated linearly in between; 1 is an empty street.
	// All zero means no time-of-day effect.
	Hourly [24]float64
	// Jitter varies the street speed of each stretch by up to ± this
	// fraction: some streets are clearer than others.
	Jitter float64
	// HaltsPerKm is the mean number of traffic stops (lights, queues,
	// junctions) per kilometre between bus stops on an empty street.
	HaltsPerKm float64
	// HaltMin and HaltMax bound how long one halt lasts.
	HaltMin, HaltMax time.Duration
}

// CityTraffic is a European city's weekday: peaks 07-09 and 16-19, a busy
// day, empty streets at night, a traffic stop every two kilometres or so off
// peak, each 5 to 40 s.
func CityTraffic() Traffic {
	return Traffic{
		Hourly: [24]float64{
			1, 1, 1, 1, 1, 0.95, // 00-05
			0.85, 0.6, 0.55, 0.75, 0.8, 0.8, // 06-11
			0.75, 0.8, 0.8, 0.75, 0.6, 0.55, // 12-17
			0.6, 0.8, 0.9, 0.95, 1, 1, // 18-23
		},
		Jitter:     0.1,
		HaltsPerKm: 0.5,
		HaltMin:    5 * time.Second,
		HaltMax:    40 * time.Second,
	}
}

// Validate reports values that make no sense.
func (tr Traffic) Validate() error {
	for h, f := range tr.Hourly {
		if f < 0 || f > 2 || math.IsNaN(f) {
			return fmt.Errorf("traffic hourly[%d] = %v: want 0 < factor <= 2", h, f)
		}
		if f == 0 && tr.enabled() {
			return fmt.Errorf("traffic hourly[%d] is 0: give all 24 factors or none", h)
		}
	}
	switch {
	case tr.Jitter < 0 || tr.Jitter >= 1 || math.IsNaN(tr.Jitter):
		return fmt.Errorf("traffic jitter %v: want 0 <= jitter < 1", tr.Jitter)
	case tr.HaltsPerKm < 0 || tr.HaltsPerKm > 20 || math.IsNaN(tr.HaltsPerKm):
		return fmt.Errorf("traffic halts per km %v: want 0 to 20", tr.HaltsPerKm)
	case tr.HaltMin < 0 || tr.HaltMax < tr.HaltMin:
		return fmt.Errorf("traffic halt range must satisfy 0 <= min <= max (got %v, %v)", tr.HaltMin, tr.HaltMax)
	}
	return nil
}

func (tr Traffic) enabled() bool {
	for _, f := range tr.Hourly {
		if f != 0 {
			return true
		}
	}
	return false
}

// Factor is the street speed factor at t, in t's location: the hourly
// factors interpolated between the starts of the hours.
func (tr Traffic) Factor(t time.Time) float64 {
	if !tr.enabled() {
		return 1
	}
	h, m, s := t.Clock()
	frac := (float64(m)*60 + float64(s)) / 3600
	a, b := tr.Hourly[h], tr.Hourly[(h+1)%24]
	return a + (b-a)*frac
}

// Halt is a traffic stop between two bus stops.
type Halt struct {
	Dist  float64   // metres along the trip's path
	From  time.Time // the bus stands still from
	Until time.Time // to
}

// halt is a planned halt before its times are known.
type plannedHalt struct {
	at   float64 // metres from the start of the leg
	wait float64 // seconds
}

// minHaltGap keeps halts apart from each other and from the bus stops.
const minHaltGap = 25.0 // metres

// halts draws the traffic stops on a leg of length metres at street factor f.
func (tr Traffic) halts(length, f float64, rng *rand.Rand) []plannedHalt {
	if tr.HaltsPerKm == 0 || length < 3*minHaltGap {
		return nil
	}
	n := poisson(tr.HaltsPerKm*length/1000/f, rng)
	var out []plannedHalt
	for range n {
		at := minHaltGap + rng.Float64()*(length-2*minHaltGap)
		wait := tr.HaltMin
		if span := tr.HaltMax - tr.HaltMin; span > 0 {
			wait += time.Duration(rng.Int64N(int64(span) + 1))
		}
		out = append(out, plannedHalt{at: at, wait: wait.Seconds()})
	}
	// Sort by position (n is small) and drop halts too close to the one
	// before: one queue, not two.
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j].at < out[j-1].at; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	kept := out[:0]
	for _, h := range out {
		if len(kept) > 0 && h.at-kept[len(kept)-1].at < minHaltGap {
			continue
		}
		kept = append(kept, h)
	}
	return kept
}

// poisson draws from a Poisson distribution of mean lambda (Knuth; lambda is
// small here).
func poisson(lambda float64, rng *rand.Rand) int {
	if lambda <= 0 {
		return 0
	}
	l, k, p := math.Exp(-lambda), 0, 1.0
	for {
		p *= rng.Float64()
		if p <= l {
			return k
		}
		k++
	}
}
