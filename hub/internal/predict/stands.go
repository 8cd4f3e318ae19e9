package predict

import (
	"math"
	"slices"
	"time"
)

// maxStand: standing longer than this on a trip is a breakdown or a
// relief, not traffic or a stop.
const maxStand = 20 * time.Minute

// standLeft is how much longer a vehicle that has stood still for s
// seconds will stand: the weighted median of the stands seen on trips that
// lasted longer than s, less s. A bus stuck for two minutes is one of the
// long stands, and the segment's usual time does not tell how long those
// last. Beyond all but a few of the stands seen, their tail says (see
// tailLeft); nothing until enough stands were seen.
func (m *Learned) standLeft(s float64, now time.Time) time.Duration {
	m.scratch = m.stands.above(m.scratch[:0], s, 1, now, lateMemory)
	if len(m.scratch) < minStands {
		return m.tailLeft(s)
	}
	return secs(weightedMedian(m.scratch) - s)
}

// tailLeft is how much longer a vehicle will stand that has stood still for
// s seconds, longer than all but a few of the stands seen (an incident, a
// relief, a ramp deployed). Those few are too few to take a median of, yet
// saying that the vehicle leaves at once, fix after fix, is wrong just
// then. The longest stands seen show how heavy the tail of stands is:
// fitted as a power law (Hill's estimator of its index a on the tailStands
// longest), a stand that has lasted s has a median of s(2^(1/a) - 1) still
// to go: the longer it has lasted, the longer it will. Never beyond
// maxStand, past which it is a breakdown.
func (m *Learned) tailLeft(s float64) time.Duration {
	d := &m.stands
	if d.n <= tailStands {
		return 0
	}
	xs := m.tail[:0]
	for j := 0; j < d.n; j++ {
		xs = append(xs, d.recent[j].secs)
	}
	m.tail = xs
	slices.Sort(xs)
	top := xs[len(xs)-tailStands-1:] // the threshold, then the tail
	sum := 0.0
	for _, x := range top[1:] {
		sum += math.Log(x / top[0])
	}
	if top[0] <= 0 || sum <= 0 {
		return 0
	}
	a := tailStands / sum
	return secs(max(0, min(s*(math.Pow(2, 1/a)-1), maxStand.Seconds()-s)))
}

// tailStands is how many of the longest stands remembered shape their
// tail: a few percent of them, the ones beyond a couple of minutes.
const tailStands = 20

// minStands is how many longer stands make an estimate; standObs how
// many stands are remembered (a fleet stands every minute or so).
const (
	minStands = 5
	standObs  = 512
)
