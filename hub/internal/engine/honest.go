package engine

import (
	"sort"
	"time"

	"github.com/headway-transit/headway/hub/internal/boards"
	"github.com/headway-transit/headway/hub/internal/tracker"
	"github.com/headway-transit/headway/internal/gtfs"
)

// A sign must not promise a bus that is not coming. A vehicle on a trip
// feeds realtime arrivals only while it is plainly running it; these are
// the cases where it is not, or not yet.

// DefaultMaxStand is how long a vehicle may stand still past its trip's
// first stop and still feed predictions: far beyond any dwell or traffic
// light, it has broken down, been taken out of service, or is held by
// something no model foresees.
const DefaultMaxStand = 10 * time.Minute

// DefaultTerminalLead is how long before its departure a vehicle waiting at
// its trip's first stop starts to feed predictions. Before that its
// departure is the timetable's and nothing else: buses wait there for
// their time, and some never leave on that trip (a driver change, a bus
// swapped out, a layover that ends the block). On the WMATA recording such
// early predictions were most of the ghost arrivals.
const DefaultTerminalLead = 5 * time.Minute

// DefaultSettle is how long a newly tracked vehicle whose inferred trip is
// a guess feeds no predictions. A bus first heard mid-route (the hub
// restarted, the bus came into service or back into coverage) that fits
// two trips about as well, one late and the next early, is told apart by
// its block evidence over the next fixes; a countdown meanwhile would
// promise a bus on a trip it may not run. On the WMATA recording (hub
// restarted at the first fix) 4 minutes halved the wrong-vehicle
// predictions of the first hour and kept missed realtime within its target
// (BENCHMARKS.md).
const DefaultSettle = 4 * time.Minute

// DefaultMissedAfter is how long past its departure a trip run with no
// vehicle on it is labelled no_bus: the bus may be late, or untracked (an
// agency with buses that run no agent), or the trip was not run; the sign
// says what is known, that no bus is tracked on it.
const DefaultMissedAfter = 10 * time.Minute

type standState int

const (
	running           standState = iota
	standingTooLong              // mid-route, longer than maxStand
	waitingAtTerminal            // at the first stop: more than terminalLead before departure, or standing past it
	unsure                       // newly tracked, its inferred trip a guess (see DefaultSettle)
)

// standing says whether v, on a trip, should feed predictions.
func (e *Engine) standing(v *tracker.Vehicle) standState {
	if v.Ambiguous && v.FixTime.Sub(v.TrackedSince) < e.settle {
		return unsure
	}
	if v.Next == 0 {
		dep := v.DayStart.Add(time.Duration(v.Trip.StopTimes[0].Departure) * time.Second)
		if dep.Sub(v.FixTime) > e.terminalLead {
			return waitingAtTerminal
		}
		// A bus still at the first stop after its departure time stands
		// from then on, not from when it pulled in. Still there
		// MissedAfter past it, the trip counts as not run, no bus
		// tracked on it, as one with no bus at all: the bus may yet
		// leave on it late, or be the next trip's (see the tracker's
		// departure).
		if !v.StandingSince.IsZero() && v.FixTime.Sub(maxTime(v.StandingSince, dep)) > min(e.maxStand, e.builder.MissedAfter) {
			return standingTooLong
		}
		// Nor does a bus that far past it and not yet gone from the
		// first stop run it because it creeps off: which trip it runs
		// is known once it has left (the tracker's departure).
		if v.FixTime.Sub(dep) > e.builder.MissedAfter {
			return standingTooLong
		}
		// Standing there past its departure, it has not left on this
		// trip: it may be running it late, or be the next trip's bus
		// early. It is at the terminal until it moves; then the tracker
		// knows which.
		if !v.StandingSince.IsZero() && v.FixTime.After(dep) {
			return waitingAtTerminal
		}
		return running
	}
	if !v.StandingSince.IsZero() && v.FixTime.Sub(v.StandingSince) > e.maxStand {
		return standingTooLong
	}
	return running
}

// atTerminal puts v's trip run on the boards as scheduled, with the bus
// named and at the terminal, unless another vehicle predicts the run.
func (e *Engine) atTerminal(v *tracker.Vehicle, key boards.TripKey) {
	if other, ok := e.owner[key]; ok && other != v.ID {
		return
	}
	run := make(map[int]boards.Realtime, len(v.Trip.StopTimes))
	for i := range v.Trip.StopTimes {
		run[i] = boards.Realtime{Vehicle: v.ID, Status: boards.StatusAtTerminal}
	}
	e.preds[key] = run
	e.runOf[v.ID] = key
	e.owner[key] = v.ID
	e.markTrip(key)
	e.shareChanged(key)
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// waiting reports a trip run held by a vehicle at its terminal: on the
// boards, but with no predictions.
func (e *Engine) waiting(key boards.TripKey) bool {
	for _, rt := range e.preds[key] {
		return rt.Status != ""
	}
	return false
}

// findNoBus lists the trip runs under way by the schedule at now, more
// than MissedAfter past their departure, with no vehicle on them: what
// GTFS-Realtime says has no realtime data. Refresh calls it, so it costs a
// pass over the feed's trips every board refresh, not every fix.
func (e *Engine) findNoBus(now time.Time) []boards.TripKey {
	feed := e.opts.Feed
	day := gtfs.DateOf(now, feed.Location)
	var out []boards.TripKey
	for _, d := range []gtfs.Date{day.AddDays(-1), day} {
		start := feed.ServiceDayStart(d)
		for _, tr := range feed.Trips {
			st := tr.StopTimes
			if len(st) < 2 || !now.After(tr.DepartureAt(start, 0).Add(e.builder.MissedAfter)) || !now.Before(tr.ArrivalAt(start, len(st)-1)) {
				continue
			}
			if !feed.ServiceRunsOn(tr.ServiceID, d) {
				continue
			}
			k := boards.TripKey{Trip: tr.ID, DayStart: start.Unix()}
			if _, ok := e.preds[k]; !ok {
				out = append(out, k)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Trip != out[j].Trip {
			return out[i].Trip < out[j].Trip
		}
		return out[i].DayStart < out[j].DayStart
	})
	return out
}
