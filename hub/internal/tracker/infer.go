package tracker

import (
	"math"
	"time"

	"github.com/headway-transit/headway/internal/geo"
	"github.com/headway-transit/headway/internal/gtfs"
	"github.com/headway-transit/headway/internal/wire"
)

// maxAgainst is how many fixes in a row heading against its inferred trip
// make a vehicle lose it.
const maxAgainst = 3

// maxInferDelay bounds how far off schedule an inferred trip may be.
const maxInferDelay = 30 * time.Minute

// infer picks the trip whose shape the position lies on, heading the same
// way, and whose schedule at that point is closest to the fix time, among
// trip runs scheduled around now that v has not finished. The trip after
// v's previous one in its block wins when it fits at all: buses work their
// blocks in order. It serves vehicles on a configured block, and others
// when no block evidence applies (see learn and leader for those).
func (t *Tracker) infer(v *Vehicle, trips []*gtfs.Trip, pt geo.Point, p wire.Position) (candidate, bool) {
	return t.pick(v, t.fitting(trips, pt, p))
}

// pick chooses among cands as infer does.
func (t *Tracker) pick(v *Vehicle, cands []candidate) (candidate, bool) {
	// The trip v was on (finished, or lost) or, when it is on none, the
	// one before.
	var successor *gtfs.Trip
	if v.Trip != nil {
		successor = t.next[v.Trip]
	} else if v.prev != nil {
		successor = t.next[v.prev]
	}
	var best candidate
	bestScore := math.Inf(1)
	for _, c := range cands {
		if c.trip == v.Trip && c.dayStart.Equal(v.DayStart) {
			continue
		}
		// A minute of schedule difference weighs like 50 m off the shape.
		score := absDur(c.delay).Minutes()*50 + c.offset
		if c.trip == successor {
			score = c.offset - 1e6
		}
		if score < bestScore {
			best, bestScore = c, score
		}
	}
	return best, !math.IsInf(bestScore, 1)
}

// fitting lists the trip runs among trips, scheduled around p's time, whose
// shape p lies on heading the same way and not at its end.
//
// Only trips running around now are looked at, and each shape is projected
// onto once (trips share shapes), after a bounding-box test and onto the
// segments near p only: a fix costs a handful of short projections,
// however large the feed.
func (t *Tracker) fitting(trips []*gtfs.Trip, pt geo.Point, p wire.Position) []candidate {
	want := t.all
	if len(trips) != len(t.trips) {
		want = make(map[*gtfs.Trip]bool, len(trips))
		for _, tr := range trips {
			want[tr] = true
		}
	}
	day := gtfs.DateOf(p.Time, t.feed.Location)
	type serviceDay struct {
		date  gtfs.Date
		start time.Time
	}
	var days [3]serviceDay
	for i, d := range []gtfs.Date{day.AddDays(-1), day, day.AddDays(1)} {
		days[i] = serviceDay{d, t.feed.ServiceDayStart(d)}
	}
	runs := map[string][3]bool{} // service -> runs on each of days
	moving := p.Speed != nil && p.Track != nil && *p.Speed > 3
	var out []candidate
	var offs [3]time.Duration
	for i, d := range days {
		offs[i] = p.Time.Sub(d.start)
	}
	for _, path := range t.paths {
		if !t.boxes[path].contains(pt) {
			continue
		}
		// The path is projected onto once, and only when a trip along it
		// runs around now.
		var pr *geo.Projection
		for _, tr := range t.byPath[path] {
			if !want[tr] {
				continue
			}
			first, last := secs(tr.StopTimes[0].Departure), secs(tr.StopTimes[len(tr.StopTimes)-1].Arrival)
			for i, d := range days {
				if offs[i] < first-maxInferDelay || offs[i] > last+maxInferDelay {
					continue
				}
				on, ok := runs[tr.ServiceID]
				if !ok {
					for i, d := range days {
						on[i] = t.feed.ServiceRunsOn(tr.ServiceID, d.date)
					}
					runs[tr.ServiceID] = on
				}
				if !on[i] {
					continue
				}
				if pr == nil {
					x, ok := projectNear(path, t.grids[path], pt)
					if !ok || x.Offset > t.cfg.MaxOffRoute || (moving && geo.AngleDiff(*p.Track, x.Bearing) > 75) {
						x.Offset = math.Inf(1) // not on this path: no trip along it fits
					}
					pr = &x
				}
				if math.IsInf(pr.Offset, 1) || finished(tr, pr.Dist) {
					continue
				}
				delay := p.Time.Sub(d.start.Add(ScheduledAt(tr, pr.Dist)))
				if absDur(delay) > maxInferDelay {
					continue
				}
				out = append(out, candidate{trip: tr, dayStart: d.start, dist: pr.Dist, offset: pr.Offset, delay: delay})
			}
		}
	}
	return out
}

// LayoverArea is how far (metres) from its trip's first stop a vehicle that has not
// left it yet may wander (turning, parking off the street) and keep the trip.
const LayoverArea = 1000

// waiting reports whether v, not yet past its trip's first stop, is still
// around it before the trip's departure (plus maxInferDelay).
func (t *Tracker) waiting(v *Vehicle, pt geo.Point, now time.Time) bool {
	st := v.Trip.StopTimes
	if v.Dist > LayoverArea || st[0].Stop == nil || now.After(v.DayStart.Add(ScheduledAt(v.Trip, v.Dist))) {
		return false
	}
	return geo.Distance(pt, st[0].Stop.Point()) <= LayoverArea
}

// driving reports a vehicle moving along, and heading with, the shape of
// a trip run under way other than (but, butDay) (cands, from fitting),
// past that run's first stop: it is driving that, not wandering around a
// terminal waiting for its trip. A bus dwelling at a stop where another
// route's trips start looks, standing, like one waiting for that route's
// next departure; moving off along its own route, it is not.
func driving(cands []candidate, p wire.Position, but *gtfs.Trip, butDay time.Time) bool {
	if p.Speed == nil || p.Track == nil || *p.Speed <= 3 {
		return false
	}
	for _, c := range cands {
		if c.dist > LayoverRadius && !(c.trip == but && c.dayStart.Equal(butDay)) {
			return true
		}
	}
	return false
}

// onItsWay reports whether cands hold trip run (tr, dayStart) past its
// first stop.
func onItsWay(cands []candidate, tr *gtfs.Trip, dayStart time.Time) bool {
	for _, c := range cands {
		if c.trip == tr && c.dayStart.Equal(dayStart) && c.dist > LayoverRadius {
			return true
		}
	}
	return false
}

// has reports whether cands hold trip run (tr, dayStart).
func has(cands []candidate, tr *gtfs.Trip, dayStart time.Time) bool {
	for _, c := range cands {
		if c.trip == tr && c.dayStart.Equal(dayStart) {
			return true
		}
	}
	return false
}

// ambiguity is how close (in minutes of misfit, see fixMisfit) another
// block's trip run must fit a fix to the vehicle's own for its inferred trip
// to be a guess: a bus 7 minutes late on one trip is 3 minutes early on the
// next of a 10-minute service, and which it runs shows only over the next
// fixes (block evidence) or when it reaches a terminal.
const ambiguity = 3.0

// ambiguous reports whether v's inferred trip run is a guess: another
// block's trip run among cands (the runs fitting v's latest fix) fits it
// within ambiguity of v's own.
func ambiguous(v *Vehicle, cands []candidate) bool {
	if v.Trip == nil || v.TripSource != SourceInferred {
		return false
	}
	mine := keyOf(candidate{trip: v.Trip, dayStart: v.DayStart})
	own := math.Inf(1)
	for _, c := range cands {
		if c.trip == v.Trip && c.dayStart.Equal(v.DayStart) {
			own = fixMisfit(c)
		}
	}
	if math.IsInf(own, 1) {
		// The trip no longer fits the fix (a noisy heading, wandering at
		// its terminal): its own misfit is its delay's.
		own = math.Min(maxMisfit, misfit(v.Delay).Minutes())
	}
	for _, c := range cands {
		if keyOf(c) != mine && fixMisfit(c) <= own+ambiguity {
			return true
		}
	}
	return false
}
