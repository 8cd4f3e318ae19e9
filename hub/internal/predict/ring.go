package predict

import (
	"cmp"
	"math"
	"slices"
	"time"
)

type obs struct {
	at     time.Time
	secs   float64
	weight float64 // only where weighed
}

// ring holds the latest observations of something.
type ring struct {
	recent []obs
	next   int
	n      int
}

func newRing(size int) ring { return ring{recent: make([]obs, size)} }

// above appends to dst the observations greater than x, each weighing k
// times exp(-age/tau) as of now.
func (d *ring) above(dst []obs, x, k float64, now time.Time, tau time.Duration) []obs {
	for j := 0; j < d.n; j++ {
		if o := d.recent[j]; o.secs > x {
			w := k * math.Exp(-math.Max(0, float64(now.Sub(o.at)))/float64(tau))
			dst = append(dst, obs{secs: o.secs, weight: w})
		}
	}
	return dst
}

func (d *ring) add(at time.Time, secs float64) {
	d.recent[d.next] = obs{at: at, secs: secs}
	d.next = (d.next + 1) % len(d.recent)
	d.n = min(d.n+1, len(d.recent))
}

// weightedMedian returns the value below and above which half the weight
// lies. It sorts xs.
func weightedMedian(xs []obs) float64 {
	slices.SortFunc(xs, func(a, b obs) int { return cmp.Compare(a.secs, b.secs) })
	total := 0.0
	for _, o := range xs {
		total += o.weight
	}
	acc := 0.0
	for _, o := range xs {
		acc += o.weight
		if acc >= total/2 {
			return o.secs
		}
	}
	return xs[len(xs)-1].secs
}
