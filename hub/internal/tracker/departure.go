package tracker

import (
	"time"

	"github.com/headway-transit/headway/internal/wire"
)

// earlyDeparture is how far ahead of its trip's scheduled departure a bus
// may leave the first stop and still be taken for that trip: agencies count
// a bus more than a minute early as an error, buses run late far more often
// than early, and a few minutes allow for clocks and for where along the
// kerb it waited.
const earlyDeparture = 3 * time.Minute

// departure is the trip run an inferred bus leaving a terminal with this
// fix (c, as tracking would place it) is running. A bus that left the
// first stop of the trip run it waited for (or its successor in the
// block, or another block's) well before that run's departure is not
// that run's bus: it is an earlier trip running late. Among the runs that
// fit the fix as on time or late (cands), not given to other buses, the
// least late one is taken, and the departure counts in v's block evidence
// as much as all it had before, so that the evidence of the blocks does
// not put the bus straight back on the early run. A run that leaves within
// earlyDeparture of its time, a bus already under way, and a bus for which
// no run fits on time or late keep c.
func (t *Tracker) departure(v *Vehicle, c candidate, cands []candidate, p wire.Position, others map[blockKey]bool) candidate {
	if v.Trip == nil || v.Next != 0 || c.delay >= -earlyDeparture || p.Speed == nil || *p.Speed <= 3 {
		return c
	}
	first := c.trip.StopTimes[0].Dist
	if c.dist < first+LayoverRadius || c.dist > first+LayoverArea {
		return c // not yet gone, or far along: not a departure
	}
	var best candidate
	found := false
	for _, o := range cands {
		if o.delay < -time.Minute || others[keyOf(o)] || (o.trip == c.trip && o.dayStart.Equal(c.dayStart)) {
			continue
		}
		if o.dist < o.trip.StopTimes[0].Dist+LayoverRadius {
			continue
		}
		if !found || o.delay < best.delay {
			best, found = o, true
		}
	}
	if !found {
		return c
	}
	kb, kc := keyOf(best), keyOf(c)
	if kb != kc && v.blockCost != nil {
		cb, okb := v.blockCost[kb]
		cc, okc := v.blockCost[kc]
		if !okb {
			cb = v.blockFixes * maxMisfit
		}
		if !okc {
			cc = v.blockFixes * maxMisfit
		}
		v.blockCost[kb] = min(cb, cc)
		v.blockCost[kc] = max(cb, cc) + switchCost
		t.claim(v, claimsOf(v))
	}
	return best
}
