package tracker

import (
	"math"
	"time"

	"github.com/headway-transit/headway/internal/geo"
	"github.com/headway-transit/headway/internal/gtfs"
	"github.com/headway-transit/headway/internal/wire"
)

type candidate struct {
	trip     *gtfs.Trip
	dayStart time.Time
	dist     float64
	offset   float64
	delay    time.Duration
}

// match places p on trip tr, choosing the service day whose schedule fits
// best. For the trip the vehicle is already on, the search window starts a
// little behind its last distance so it cannot jump back along a shape that
// passes the same street twice.
func (t *Tracker) match(tr *gtfs.Trip, pt geo.Point, p wire.Position, v *Vehicle) (candidate, bool) {
	from, to := 0.0, tr.Path.Length()
	if v != nil && v.Trip == tr {
		from = math.Max(0, v.Dist-100)
	}
	pr := tr.Path.Project(pt, from, to)
	best := candidate{trip: tr, dist: pr.Dist, offset: pr.Offset}
	bestAbs := time.Duration(math.MaxInt64)
	if v != nil && v.Trip == tr {
		best.dayStart = v.DayStart
		best.delay = p.Time.Sub(best.dayStart.Add(ScheduledAt(tr, pr.Dist)))
		bestAbs = 0
	} else {
		day := gtfs.DateOf(p.Time, t.feed.Location)
		for _, d := range []gtfs.Date{day.AddDays(-1), day, day.AddDays(1)} {
			if !t.feed.ServiceRunsOn(tr.ServiceID, d) {
				continue
			}
			ds := t.feed.ServiceDayStart(d)
			delay := p.Time.Sub(ds.Add(ScheduledAt(tr, pr.Dist)))
			if a := absDur(delay); a < bestAbs {
				best.dayStart, best.delay, bestAbs = ds, delay, a
			}
		}
	}
	ok := bestAbs != time.Duration(math.MaxInt64) && pr.Offset <= t.cfg.MaxOffRoute
	// Heading tells apart the two directions of a street when choosing a
	// trip; once on one, a single noisy heading must not throw it off.
	onIt := v != nil && v.Trip == tr
	if ok && !onIt && p.Speed != nil && p.Track != nil && *p.Speed > 3 {
		ok = geo.AngleDiff(*p.Track, pr.Bearing) <= 75
	}
	return best, ok
}

// bearingAt is the direction of trip's path at dist.
func (t *Tracker) bearingAt(tr *gtfs.Trip, dist float64) float64 {
	_, b := tr.Path.At(dist)
	return b
}

// finished reports whether a vehicle dist metres along tr has reached its
// last stop: it is done with the trip, whatever it does next.
func finished(tr *gtfs.Trip, dist float64) bool {
	return dist >= tr.StopTimes[len(tr.StopTimes)-1].Dist-StopRadius
}

// ScheduledAt returns the scheduled time, as an offset from the service day
// start, at which trip tr passes dist metres along its path: interpolated
// between the departure from one stop and the arrival at the next.
func ScheduledAt(tr *gtfs.Trip, dist float64) time.Duration {
	st := tr.StopTimes
	if dist <= st[0].Dist {
		return secs(st[0].Departure)
	}
	for i := 0; i+1 < len(st); i++ {
		a, b := st[i], st[i+1]
		if dist > b.Dist {
			continue
		}
		span := b.Dist - a.Dist
		f := 0.0
		if span > 0 {
			f = (dist - a.Dist) / span
		}
		return secs(a.Departure) + time.Duration(f*float64(b.Arrival-a.Departure)*float64(time.Second))
	}
	return secs(st[len(st)-1].Arrival)
}

func secs(s int) time.Duration { return time.Duration(s) * time.Second }

func absDur(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}
