package gpsview

import (
	"time"

	"github.com/headway-transit/headway/drivers/gps"
)

// rates turns cumulative sentence counts into per-second rates over a
// sliding window.
type rates struct {
	window  time.Duration
	samples []sample // oldest first
}

type sample struct {
	at     time.Time
	counts map[string]uint64
}

// sentenceCounts merges decoded and merely well-formed sentences: for the
// technician both are what the receiver sends.
func sentenceCounts(s gps.Stats) map[string]uint64 {
	c := make(map[string]uint64, len(s.Sentences)+len(s.Ignored))
	for k, v := range s.Sentences {
		c[k] += v
	}
	for k, v := range s.Ignored {
		c[k] += v
	}
	return c
}

// add records counts at now and returns the rates since the oldest sample
// within the window, and the span they cover (0 with a single sample).
func (r *rates) add(now time.Time, counts map[string]uint64) (map[string]float64, time.Duration) {
	r.samples = append(r.samples, sample{at: now, counts: counts})
	// Keep the newest sample at least a window old as the base.
	for len(r.samples) > 2 && now.Sub(r.samples[1].at) >= r.window {
		r.samples = r.samples[1:]
	}
	base := r.samples[0]
	span := now.Sub(base.at)
	out := make(map[string]float64, len(counts))
	if span <= 0 {
		return out, 0
	}
	for k, v := range counts {
		// The Receiver's counts only grow; guard anyway rather than
		// print a huge rate from an unsigned wrap.
		if b := base.counts[k]; v >= b {
			out[k] = float64(v-b) / span.Seconds()
		}
	}
	return out, span
}
