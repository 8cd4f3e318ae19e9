package tracker

import (
	"math"
	"time"
)

// blockKey names one day's run of a block (a trip without a block is a
// block of its own).
type blockKey struct {
	day            int64
	service, block string
}

func keyOf(c candidate) blockKey {
	b := c.trip.BlockID
	if b == "" {
		b = "trip:" + c.trip.ID
	}
	return blockKey{c.dayStart.Unix(), c.trip.ServiceID, b}
}

// earlyWeight is how much worse running early is than running late: buses
// fall behind schedule all the time, but seldom run ahead of it (drivers and
// timepoints hold them back).
const earlyWeight = 3

// misfit is how unlikely a schedule deviation is.
func misfit(d time.Duration) time.Duration {
	if d < 0 {
		return time.Duration(-float64(d) * earlyWeight)
	}
	return d
}

// maxMisfit caps one fix's evidence against a block, in minutes: a block
// with no trip run fitting the fix at all costs that much.
const maxMisfit = float64(maxInferDelay / time.Minute)

// fixMisfit is how badly candidate c fits, in minutes: waiting at the first
// stop before departure fits perfectly.
func fixMisfit(c candidate) float64 {
	d := c.delay
	if c.dist < LayoverRadius && d < 0 {
		d = 0
	}
	return math.Min(maxMisfit, misfit(d).Minutes())
}

// learn adds the evidence of one fix, fitted by cands, to v's block costs;
// stand says the vehicle stood still.
func (t *Tracker) learn(v *Vehicle, cands []candidate, at time.Time, stand bool) {
	if len(cands) == 0 {
		return
	}
	decay := 1.0
	if !v.blockAt.IsZero() && at.After(v.blockAt) {
		decay = math.Pow(0.5, float64(at.Sub(v.blockAt))/float64(blockHalfLife))
	}
	v.blockAt = at
	if v.blockCost == nil {
		v.blockCost = map[blockKey]float64{}
	}
	now := map[blockKey]float64{}
	for _, c := range cands {
		k := keyOf(c)
		m := fixMisfit(c)
		if stand && c.dist < LayoverRadius {
			// Standing at the first stop, the bus has not left: late or
			// early, it fits the trip. A bus still there after its
			// departure time looks late on its own trip and early on the
			// next one, but it is no more likely to be that one's bus.
			m = 0
		}
		if old, ok := now[k]; !ok || m < old {
			now[k] = m
		}
	}
	fixes := v.blockFixes*decay + 1
	for k, c := range v.blockCost {
		if _, ok := now[k]; !ok {
			v.blockCost[k] = c*decay + maxMisfit
			if v.blockCost[k] >= 0.99*fixes*maxMisfit {
				// No better than a block never seen: forget it (blocks of
				// past days would pile up).
				delete(v.blockCost, k)
			}
		}
	}
	for k, m := range now {
		old, ok := v.blockCost[k]
		if !ok {
			old = v.blockFixes * maxMisfit
		}
		v.blockCost[k] = old*decay + m
	}
	v.blockFixes = fixes
	t.claim(v, claimsOf(v))
}

// leader is, among cands, the best fitting trip run of v's block in the
// joint assignment (mine, when matched) or, when that block runs no trip
// here now, of the block that has fitted v best, leaving out the blocks
// assigned to other vehicles.
func (t *Tracker) leader(v *Vehicle, cands []candidate, mine blockKey, matched bool, others map[blockKey]bool) (candidate, bool) {
	var best candidate
	bestCost := math.Inf(1)
	if matched {
		for _, c := range cands {
			if keyOf(c) == mine && fixMisfit(c) < bestCost {
				best, bestCost = c, fixMisfit(c)
			}
		}
		if !math.IsInf(bestCost, 1) {
			return best, true
		}
	}
	for _, c := range cands {
		k := keyOf(c)
		// Among blocks that fit alike (a bus waiting at a terminal fits
		// every departure soon), the trip nearest its schedule: the bus
		// there first leaves first.
		cost := v.blockCost[k]*1000 + fixMisfit(c) + absDur(c.delay).Minutes()/1000
		if cost < bestCost && !others[k] {
			best, bestCost = c, cost
		}
	}
	return best, !math.IsInf(bestCost, 1)
}

// switchCost is how much better (in minutes summed over fixes) another
// block must have fitted for a vehicle to leave its trip for that block's.
const switchCost = maxMisfit

// better reports whether lead, from another block, should replace c: the
// joint assignment gives v lead's block, or gives c's to another vehicle,
// or lead's block has fitted v better by switchCost.
func (t *Tracker) better(v *Vehicle, lead, c candidate, mine blockKey, matched bool, others map[blockKey]bool) bool {
	if lead.trip == c.trip && lead.dayStart.Equal(c.dayStart) {
		return false
	}
	kl, kc := keyOf(lead), keyOf(c)
	if kl == kc {
		return false
	}
	if (matched && kl == mine) || others[kc] {
		return true
	}
	return v.blockCost[kl]+switchCost < v.blockCost[kc]
}

// blockHalfLife is how fast evidence about blocks fades: a bus's delay
// drifts, and old misfits say less about the present.
const blockHalfLife = time.Hour
