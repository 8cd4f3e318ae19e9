// Package boards builds what a sign shows: a stop's board (the next
// arrivals, realtime where a tracked vehicle serves the trip, scheduled
// otherwise) and its timetable (scheduled departures for the next day, so a
// sign can run on its own).
package boards

import (
	"sort"
	"sync/atomic"
	"time"

	"github.com/headway-transit/headway/internal/gtfs"
	"github.com/headway-transit/headway/internal/wire"
)

// TripKey names one run of a trip: the trip on one service day.
type TripKey struct {
	Trip     string
	DayStart int64 // unix seconds of the service day start
}

// Realtime is a prediction for one trip run at one stop, or, with a
// Status, a vehicle on the trip run that predicts nothing yet: the row stays
// scheduled and says so.
type Realtime struct {
	Vehicle   string
	Predicted time.Time
	Status    string // "" or a wire.Status* value
}

// StatusAtTerminal marks a trip run whose bus waits at its first stop.
const StatusAtTerminal = wire.StatusAtTerminal

// Predictions maps a trip run to its predicted arrivals by stop index. A
// trip run that is present but lacks a stop index has passed that stop.
type Predictions map[TripKey]map[int]Realtime

// Builder makes boards and timetables from a feed.
type Builder struct {
	Feed    *gtfs.Feed
	Horizon time.Duration
	MaxRows int
	// MissedAfter, when positive, labels a trip run with no vehicle on it
	// no_bus once its departure from the first stop is this long past.
	MissedAfter time.Duration
	// Skip, when set, takes a trip's call at a stop off boards and
	// timetables: the trip cancelled, the stop closed or skipped (service
	// alerts), judged at the call's scheduled time.
	Skip func(trip, stop string, at time.Time) bool
	// Prior holds predictions from elsewhere (the agency's own
	// TripUpdates), used for a trip run the hub's own do not cover.
	Prior atomic.Pointer[Predictions]
}

// graceAfter keeps a just-due arrival on the board briefly.
const graceAfter = 30 * time.Second

// Board builds the board of stop at now.
func (b *Builder) Board(stopID string, now time.Time, pred Predictions) wire.Board {
	board := wire.Board{Type: wire.TypeBoard, Stop: stopID, GeneratedAt: now.UTC(), Arrivals: []wire.Arrival{}}
	if s := b.Feed.Stops[stopID]; s != nil {
		board.StopName = s.Name
	}
	from, until := now.Add(-graceAfter), now.Add(b.Horizon)
	var prior Predictions
	if p := b.Prior.Load(); p != nil {
		prior = *p
	}
	b.eachCall(stopID, from.Add(-2*time.Hour), until, func(c gtfs.Call, dayStart time.Time) {
		sched := c.Trip.ArrivalAt(dayStart, c.Index)
		if b.Skip != nil && b.Skip(c.Trip.ID, stopID, sched) {
			return
		}
		a := wire.Arrival{
			Trip:         c.Trip.ID,
			Route:        c.Trip.RouteID,
			Headsign:     headsign(c),
			StopSequence: c.Trip.StopTimes[c.Index].Sequence,
			Scheduled:    sched.UTC(),
			Source:       wire.SourceSchedule,
		}
		if c.Trip.Route != nil {
			a.RouteShortName = c.Trip.Route.ShortName
		}
		key := TripKey{c.Trip.ID, dayStart.Unix()}
		run, ok := pred[key]
		if !ok {
			run, ok = prior[key]
		}
		if ok {
			rt, ok := run[c.Index]
			switch {
			case !ok:
				return // the vehicle has passed this stop
			case rt.Status != "":
				// Scheduled still, but with the bus that will run it.
				a.Vehicle, a.Status = rt.Vehicle, rt.Status
			default:
				// A prediction that has come due while its vehicle still
				// reports is "due now", not gone.
				p := rt.Predicted.UTC()
				if p.Before(now) {
					p = now.UTC().Truncate(time.Second)
				}
				a.Predicted, a.Vehicle, a.Source = &p, rt.Vehicle, wire.SourceRealtime
			}
		} else if b.MissedAfter > 0 && now.Sub(c.Trip.DepartureAt(dayStart, 0)) > b.MissedAfter {
			// Due to have left long ago, and no bus tracked on it: the
			// schedule is all there is, and the sign says so.
			a.Status = wire.StatusNoBus
		}
		if w := a.When(); w.Before(from) || !w.Before(until) {
			return
		}
		board.Arrivals = append(board.Arrivals, a)
	})
	sort.SliceStable(board.Arrivals, func(i, j int) bool {
		wi, wj := board.Arrivals[i].When(), board.Arrivals[j].When()
		if !wi.Equal(wj) {
			return wi.Before(wj)
		}
		return board.Arrivals[i].Trip < board.Arrivals[j].Trip
	})
	if len(board.Arrivals) > b.MaxRows {
		board.Arrivals = board.Arrivals[:b.MaxRows]
	}
	return board
}

// Timetable lists the scheduled departures from stop in [from, from+span).
func (b *Builder) Timetable(stopID string, from time.Time, span time.Duration) wire.Timetable {
	tt := wire.Timetable{Type: wire.TypeTimetable, Stop: stopID, From: from.UTC(), Until: from.Add(span).UTC(), Departures: []wire.Departure{}}
	tt.Timezone = zoneName(b.Feed.Location)
	b.eachCall(stopID, from, from.Add(span), func(c gtfs.Call, dayStart time.Time) {
		dep := c.Trip.DepartureAt(dayStart, c.Index)
		if dep.Before(from) || !dep.Before(tt.Until) || (b.Skip != nil && b.Skip(c.Trip.ID, stopID, dep)) {
			return
		}
		d := wire.Departure{Trip: c.Trip.ID, Route: c.Trip.RouteID, Headsign: headsign(c), Scheduled: dep.UTC()}
		if c.Trip.Route != nil {
			d.RouteShortName = c.Trip.Route.ShortName
		}
		tt.Departures = append(tt.Departures, d)
	})
	sort.SliceStable(tt.Departures, func(i, j int) bool {
		if !tt.Departures[i].Scheduled.Equal(tt.Departures[j].Scheduled) {
			return tt.Departures[i].Scheduled.Before(tt.Departures[j].Scheduled)
		}
		return tt.Departures[i].Trip < tt.Departures[j].Trip
	})
	return tt
}

// eachCall calls fn for every trip run calling at stop (except where the
// stop ends the trip: nobody boards there) on service days that can reach
// [from, until). Filtering by time is left to fn.
func (b *Builder) eachCall(stopID string, from, until time.Time, fn func(gtfs.Call, time.Time)) {
	calls := b.Feed.Calls(stopID)
	if len(calls) == 0 {
		return
	}
	loc := b.Feed.Location
	// GTFS times run up to a few days past the service day start; look back
	// far enough to catch trips of earlier service days still running.
	first, last := gtfs.DateOf(from, loc).AddDays(-2), gtfs.DateOf(until, loc)
	for d := first; d.Compare(last) <= 0; d = d.AddDays(1) {
		dayStart := b.Feed.ServiceDayStart(d)
		for _, c := range calls {
			if c.Index == len(c.Trip.StopTimes)-1 {
				continue
			}
			if !b.Feed.ServiceRunsOn(c.Trip.ServiceID, d) {
				continue
			}
			fn(c, dayStart)
		}
	}
}

// zoneName is the IANA name of the feed's agency_timezone for the
// timetable, so a sign shows the agency's time rather than its machine's;
// "" when there is no name to give ("Local" would mean the sign's machine).
func zoneName(loc *time.Location) string {
	if loc == nil || loc.String() == "Local" {
		return ""
	}
	return loc.String()
}

func headsign(c gtfs.Call) string {
	if h := c.Trip.StopTimes[c.Index].Headsign; h != "" {
		return h
	}
	if c.Trip.Headsign != "" {
		return c.Trip.Headsign
	}
	if r := c.Trip.Route; r != nil && r.LongName != "" {
		return r.LongName
	}
	return ""
}
