package tracker

import (
	"time"

	"github.com/headway-transit/headway/internal/geo"
	"github.com/headway-transit/headway/internal/gtfs"
	"github.com/headway-transit/headway/internal/wire"
)

// earlyDeparture is how far ahead of its trip's scheduled departure a bus
// may leave the first stop and still be taken for that trip: agencies count
// a bus more than a minute early as an error, buses run late far more often
// than early, and a few minutes allow for clocks and for where along the
// kerb it waited.
const earlyDeparture = 3 * time.Minute

// lateDeparture is how late for its trip a bus may leave the first stop
// before the trip runs of blocks given to other buses (see assign) are
// weighed for it too: a bus that stood at a terminal this far past its
// trip's time and left at the next trip's is that one's bus, whatever the
// block evidence of the hours before said.
const lateDeparture = 5 * time.Minute

// departure is the trip run an inferred bus leaving a terminal with this
// fix (c, as tracking would place it) is running. Which trip a bus waiting
// at a terminal runs is known when it leaves: it is the trip run, among
// those starting there that fit the fix (cands), whose departure its own
// fits best, a minute late costing as much as earlyWeight minutes early
// (buses run late far more often than early) and early departures within
// earlyDeparture forgiven. A bus that left well before c's departure is an
// earlier trip running late; one that stood at the terminal past c's
// departure until the next trip's time is the next trip's bus, c being
// missed. Left out are the trip runs another bus has left on (one waiting
// at a terminal holds a trip only until it leaves) and, unless the bus
// leaves more than lateDeparture late for c, those of blocks given to
// other buses (others), except one standing at the terminal when v leaves
// within lateDeparture of that block's trip (see standAside). When the choice changes the trip's block to one
// not given to another, the departure counts in v's block evidence as much
// as all it had before, so that the evidence of the trip before does not
// put the bus straight back. A bus already under way, or not yet gone,
// keeps c.
func (t *Tracker) departure(v *Vehicle, c candidate, cands []candidate, p wire.Position, others map[blockKey]bool) candidate {
	if v.Trip == nil || v.Next != 0 || p.Speed == nil || *p.Speed <= 3 {
		return c
	}
	first := c.trip.StopTimes[0].Dist
	if c.dist < first+LayoverRadius || c.dist > first+LayoverArea {
		return c // not yet gone, or far along: not a departure
	}
	best, bestCost := c, departMisfit(c.delay)
	var taken map[runKey]bool // trip runs other vehicles have left on
	for _, o := range cands {
		if (o.trip == c.trip && o.dayStart.Equal(c.dayStart)) || (others[keyOf(o)] && c.delay <= lateDeparture && !(o.delay <= lateDeparture && t.standing(v, o))) {
			continue
		}
		if o.dist < o.trip.StopTimes[0].Dist+LayoverRadius || o.dist > o.trip.StopTimes[0].Dist+LayoverArea {
			continue
		}
		m := departMisfit(o.delay)
		if m >= bestCost-time.Minute {
			continue
		}
		if taken == nil {
			// A bus leaving a terminal is seldom, so the vehicles are
			// looked through here rather than indexed on every fix.
			taken = map[runKey]bool{}
			for _, u := range t.vehicles {
				if u != v && u.Trip != nil && u.Next > 0 {
					taken[runKey{u.Trip, u.DayStart.Unix()}] = true
				}
			}
		}
		if !taken[runKey{o.trip, o.dayStart.Unix()}] {
			best, bestCost = o, m
		}
	}
	if best.trip == c.trip && best.dayStart.Equal(c.dayStart) {
		return c
	}
	kb, kc := keyOf(best), keyOf(c)
	stood := best.delay <= lateDeparture && t.standAside(v, best)
	if kb != kc && v.blockCost != nil && (!others[kb] || stood) {
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
		if stood {
			for _, x := range v.blockCost {
				v.blockCost[kb] = min(v.blockCost[kb], x)
			}
		}
		t.claim(v, claimsOf(v))
	}
	return best
}

// standAside takes trip run o's block from the vehicles other than v still
// waiting at o's first stop to run it: v has left on it, so they, standing
// past its departure, are not its bus, whatever their block evidence said
// (a bus at a terminal holds a trip only until another leaves on it). It
// reports whether there were any.
func (t *Tracker) standAside(v *Vehicle, o candidate) bool {
	holders := t.holders(v, o)
	k := keyOf(o)
	for _, u := range holders {
		if _, ok := u.blockCost[k]; ok {
			u.blockCost[k] = u.blockFixes * maxMisfit
			t.claim(u, claimsOf(u))
		}
		u.assigned = assignment{}
	}
	if len(holders) > 0 {
		v.assigned = assignment{}
	}
	return len(holders) > 0
}

// standing reports whether trip run o's block is given to a vehicle other
// than v standing at o's first stop (see holders).
func (t *Tracker) standing(v *Vehicle, o candidate) bool {
	return len(t.holders(v, o)) > 0
}

// holders lists the vehicles other than v given trip run o's block in
// their last joint assignment that are around o's first stop and not
// under way on o.
func (t *Tracker) holders(v *Vehicle, o candidate) []*Vehicle {
	st := o.trip.StopTimes[0]
	if st.Stop == nil {
		return nil
	}
	k := keyOf(o)
	var out []*Vehicle
	for u := range t.claimants[k] {
		if u == v || !u.assigned.ok || u.assigned.mine != k || (u.Trip == o.trip && u.DayStart.Equal(o.dayStart) && u.Next > 0) {
			continue
		}
		if geo.Distance(geo.Point{Lat: u.Pos.Lat, Lon: u.Pos.Lon}, st.Stop.Point()) <= LayoverRadius {
			out = append(out, u)
		}
	}
	return out
}

// departMisfit is how unlikely leaving a trip's first stop delay off its
// departure is, in the units of a minute late.
func departMisfit(delay time.Duration) time.Duration {
	if delay >= -earlyDeparture {
		return max(delay, 0)
	}
	return -delay * earlyWeight
}

// runKey names a trip run: a trip on a service day.
type runKey struct {
	trip *gtfs.Trip
	day  int64
}
