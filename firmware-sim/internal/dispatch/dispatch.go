// Package dispatch decides which trip each simulated bus drives: the trip of
// its route in progress when the simulation starts, and, when a trip ends,
// the next one to take, as a depot's duty schedule would.
//
// It works on runs, trip instances on a service day (with frequency-based
// trips expanded), because a trip ID alone does not say when a bus drives it.
//
// Runs can be skipped, as an agency's missed trips are (see Skip): no bus is
// given one, and a bus whose next run it would have been takes the one after.
package dispatch

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/headway-transit/headway/internal/geo"
	"github.com/headway-transit/headway/internal/gtfs"
)

// Run is one trip driven once: its stop times count from Base, so stop i is
// scheduled at Base + StopTimes[i].Departure seconds. For a scheduled trip
// Base is the service day start; for a frequency-based trip it is shifted to
// this instance.
type Run struct {
	Trip *gtfs.Trip
	Date gtfs.Date // the service date
	Base time.Time
}

// Departs is the scheduled departure from the first stop.
func (r Run) Departs() time.Time { return r.Trip.DepartureAt(r.Base, 0) }

// Arrives is the scheduled arrival at the last stop.
func (r Run) Arrives() time.Time { return r.Trip.ArrivalAt(r.Base, len(r.Trip.StopTimes)-1) }

// String names the run for logs: "trip T1 of 20261127".
func (r Run) String() string { return fmt.Sprintf("trip %s of %s", r.Trip.ID, r.Date) }

type runKey struct {
	trip string
	base int64
}

func (r Run) key() runKey { return runKey{r.Trip.ID, r.Base.Unix()} }

// Dispatcher hands out runs so that two buses do not drive the same one. It
// is not safe for concurrent use.
type Dispatcher struct {
	feed    *gtfs.Feed
	byRoute map[string][]*gtfs.Trip // drivable trips, sorted by ID for reproducibility
	byBlock map[string][]*gtfs.Trip // the same, by block_id
	taken   map[runKey]time.Time    // run -> scheduled arrival, to forget old runs

	skip      Skips
	skipTrips map[string]bool
	kept      map[runKey]bool // runs named with Trip: driven even if drawn to skip
}

// Horizon is how far ahead the dispatcher looks for a next run.
const Horizon = 7 * 24 * time.Hour

// New indexes the drivable trips of feed: those with two or more stops and a
// path.
func New(feed *gtfs.Feed) *Dispatcher {
	d := &Dispatcher{feed: feed, byRoute: map[string][]*gtfs.Trip{}, byBlock: map[string][]*gtfs.Trip{}, taken: map[runKey]time.Time{}, kept: map[runKey]bool{}}
	for _, tr := range feed.Trips {
		if len(tr.StopTimes) >= 2 && tr.Path != nil {
			d.byRoute[tr.RouteID] = append(d.byRoute[tr.RouteID], tr)
			if tr.BlockID != "" {
				d.byBlock[tr.BlockID] = append(d.byBlock[tr.BlockID], tr)
			}
		}
	}
	byID := func(a, b *gtfs.Trip) int { return strings.Compare(a.ID, b.ID) }
	for _, trips := range d.byRoute {
		slices.SortFunc(trips, byID)
	}
	for _, trips := range d.byBlock {
		slices.SortFunc(trips, byID)
	}
	return d
}

// Route finds a route by ID, or else by its short name, the number on the bus.
func (d *Dispatcher) Route(name string) (*gtfs.Route, error) {
	if r := d.feed.Routes[name]; r != nil {
		return d.drivable(r)
	}
	var found []*gtfs.Route
	for _, r := range d.feed.Routes {
		if r.ShortName == name {
			found = append(found, r)
		}
	}
	switch len(found) {
	case 0:
		return nil, fmt.Errorf("route %q: no route has that ID or short name", name)
	case 1:
		return d.drivable(found[0])
	}
	return nil, fmt.Errorf("route %q: %d routes have that short name; give the route ID", name, len(found))
}

func (d *Dispatcher) drivable(r *gtfs.Route) (*gtfs.Route, error) {
	if len(d.byRoute[r.ID]) == 0 {
		return nil, fmt.Errorf("route %s has no trip with two or more stops", r.ID)
	}
	return r, nil
}

// runs returns the runs of trips whose scheduled span overlaps [from, to],
// ordered by departure then trip ID.
func (d *Dispatcher) runs(trips []*gtfs.Trip, from, to time.Time) []Run {
	var out []Run
	loc := d.feed.Location
	// Service days start before their date's midnight at most by a few hours
	// of DST and their trips may run past the next midnight by a day or so:
	// start two days back.
	for day := gtfs.DateOf(from, loc).AddDays(-2); day.Compare(gtfs.DateOf(to, loc)) <= 0; day = day.AddDays(1) {
		dayStart := d.feed.ServiceDayStart(day)
		for _, tr := range trips {
			if !d.feed.ServiceRunsOn(tr.ServiceID, day) {
				continue
			}
			add := func(base time.Time) {
				r := Run{Trip: tr, Date: day, Base: base}
				if !r.Arrives().Before(from) && !r.Departs().After(to) {
					out = append(out, r)
				}
			}
			if len(tr.Frequencies) == 0 {
				add(dayStart)
				continue
			}
			first := tr.StopTimes[0].Departure
			for _, f := range tr.Frequencies {
				if f.HeadwaySecs <= 0 {
					continue
				}
				for s := f.Start; s < f.End; s += f.HeadwaySecs {
					add(dayStart.Add(time.Duration(s-first) * time.Second))
				}
			}
		}
	}
	slices.SortFunc(out, func(a, b Run) int {
		return cmp.Or(a.Departs().Compare(b.Departs()), strings.Compare(a.Trip.ID, b.Trip.ID))
	})
	return out
}

func (d *Dispatcher) take(r Run) Run {
	d.taken[r.key()] = r.Arrives()
	return r
}

// Current assigns a run of route routeID to a bus at t: the free run in
// progress that is earliest in its journey, so the bus is seen approaching
// most of its stops; else the next free run to depart.
func (d *Dispatcher) Current(routeID string, t time.Time) (Run, error) {
	runs := d.runs(d.byRoute[routeID], t, t.Add(Horizon))
	var best *Run
	bestProgress := 2.0
	for i, r := range runs {
		if !d.free(r) || r.Departs().After(t) || !r.Arrives().After(t) {
			continue
		}
		span := r.Arrives().Sub(r.Departs()).Seconds()
		progress := 0.0
		if span > 0 {
			progress = t.Sub(r.Departs()).Seconds() / span
		}
		if progress < bestProgress {
			best, bestProgress = &runs[i], progress
		}
	}
	if best != nil {
		return d.take(*best), nil
	}
	for _, r := range runs {
		if d.free(r) && r.Departs().After(t) {
			return d.take(r), nil
		}
	}
	return Run{}, fmt.Errorf("route %s: no free trip runs within %v of %s; check the feed's calendar or pick another -start",
		routeID, Horizon, t.Format(time.RFC3339))
}

// Spread assigns n buses at t over routes (IDs): bus i drives route
// routes[i % len(routes)]. As Current does for one bus, each takes the free
// run of its route in progress that is earliest in its journey; when a route
// has more buses than runs in progress, the rest take its next runs to
// depart and wait at their first stops. It lists each route's runs once,
// rather than once per bus as Current does, for fleets of thousands.
func (d *Dispatcher) Spread(routes []string, n int, t time.Time) ([]Run, error) {
	if len(routes) == 0 {
		return nil, fmt.Errorf("no routes to spread %d buses over", n)
	}
	queues := make(map[string][]Run, len(routes))
	for _, id := range routes {
		if _, ok := queues[id]; ok {
			continue
		}
		var moving, waiting []Run
		for _, r := range d.runs(d.byRoute[id], t, t.Add(Horizon)) {
			switch {
			case !d.free(r):
			case r.Departs().After(t):
				waiting = append(waiting, r)
			case r.Arrives().After(t):
				moving = append(moving, r)
			}
		}
		progress := func(r Run) float64 {
			span := r.Arrives().Sub(r.Departs()).Seconds()
			if span <= 0 {
				return 0
			}
			return t.Sub(r.Departs()).Seconds() / span
		}
		slices.SortStableFunc(moving, func(a, b Run) int { return cmp.Compare(progress(a), progress(b)) })
		queues[id] = append(moving, waiting...)
	}
	out := make([]Run, 0, n)
	for i := range n {
		id := routes[i%len(routes)]
		q := queues[id]
		if len(q) == 0 {
			return nil, fmt.Errorf("route %s: no free trip runs left for bus %d within %v of %s; use fewer buses or more routes",
				id, i, Horizon, t.Format(time.RFC3339))
		}
		out = append(out, d.take(q[0]))
		queues[id] = q[1:]
	}
	return out, nil
}

// Block returns the runs of block blockID (the trips one bus drives in a
// day, in order) on the first service day whose block is in progress at t
// or starts after it, from the run in progress on, less the skipped runs.
// It takes them all.
func (d *Dispatcher) Block(blockID string, t time.Time) ([]Run, error) {
	trips := d.byBlock[blockID]
	if len(trips) == 0 {
		return nil, fmt.Errorf("block %q: no trip with two or more stops has that block_id", blockID)
	}
	var out []Run
	for _, r := range d.runs(trips, t, t.Add(Horizon)) {
		if !d.free(r) || len(out) > 0 && r.Date != out[0].Date {
			continue
		}
		out = append(out, r)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("block %s: no free runs within %v of %s; check the feed's calendar or pick another -start",
			blockID, Horizon, t.Format(time.RFC3339))
	}
	for _, r := range out {
		d.take(r)
	}
	return out, nil
}

// Toward returns a free run of the route that will call at stop soon: of
// the runs in progress or about to depart that still have stop ahead of
// them (boarding there: not as their last stop), the one that reaches it
// first, at least lead after t. It is for testing a sign: the buses it
// dispatches show up on that stop's board as live arrivals within minutes.
func (d *Dispatcher) Toward(routeID, stopID string, t time.Time, lead time.Duration) (Run, error) {
	runs := d.runs(d.byRoute[routeID], t, t.Add(Horizon))
	var best *Run
	var bestAt time.Time
	for i, r := range runs {
		if !d.free(r) || !r.Arrives().After(t) {
			continue
		}
		st := r.Trip.StopTimes
		for k := 0; k < len(st)-1; k++ {
			if st[k].StopID != stopID {
				continue
			}
			at := r.Trip.ArrivalAt(r.Base, k)
			if at.Before(t.Add(lead)) {
				continue
			}
			if best == nil || at.Before(bestAt) {
				best, bestAt = &runs[i], at
			}
			break
		}
	}
	if best == nil {
		return Run{}, fmt.Errorf("route %s: no free trip run calls at stop %s within %v of %s", routeID, stopID, Horizon, t.Format(time.RFC3339))
	}
	return d.take(*best), nil
}

// Trip assigns trip tripID to a bus at t: its run in progress at t, else its
// next run, else its latest one (the bus then sits at the last stop until it
// takes the next trip of the route). The run is driven even if Skip's share
// drew it: the trip was asked for by name.
func (d *Dispatcher) Trip(tripID string, t time.Time) (Run, error) {
	tr := d.feed.Trips[tripID]
	if tr == nil {
		return Run{}, fmt.Errorf("trip %q is not in the feed", tripID)
	}
	if len(tr.StopTimes) < 2 || tr.Path == nil {
		return Run{}, fmt.Errorf("trip %s has fewer than two stops; pick another", tripID)
	}
	if d.skipTrips[tripID] {
		return Run{}, fmt.Errorf("trip %s is both to drive and to skip; give it as one or the other", tripID)
	}
	runs := d.runs([]*gtfs.Trip{tr}, t.Add(-Horizon), t.Add(Horizon))
	var last *Run
	for i, r := range runs {
		if !r.Departs().After(t) && r.Arrives().After(t) || r.Departs().After(t) {
			return d.keep(r), nil
		}
		last = &runs[i]
	}
	if last != nil {
		return d.keep(*last), nil
	}
	return Run{}, fmt.Errorf("trip %s: its service %s does not run within %v of %s; pick another -start",
		tripID, tr.ServiceID, Horizon, t.Format(time.RFC3339))
}

// Near is how close the next trip's first stop must be to where the last one
// ended for the bus to take it without deadheading (a jump in the simulation).
const Near = 1000.0 // metres

// Late is how long after its departure a run can still be taken: a bus that
// ended its last trip late takes the next one late rather than skipping it.
const Late = 10 * time.Minute

// Next assigns the bus that finished prev at time end, at position at, its
// next run on the same route: the soonest departing within two hours from a
// first stop within Near of it, else the soonest departing from anywhere.
// Skipped runs are passed over, so the bus lays over at its terminus until
// the next one it drives, as when a trip is missed.
func (d *Dispatcher) Next(prev Run, end time.Time, at geo.Point) (Run, error) {
	for k, arrives := range d.taken {
		if arrives.Before(end.Add(-24 * time.Hour)) {
			delete(d.taken, k)
		}
	}
	runs := d.runs(d.byRoute[prev.Trip.RouteID], end.Add(-Late), end.Add(Horizon))
	var anywhere *Run
	for i, r := range runs {
		if !d.free(r) || r.key() == prev.key() || r.Departs().Before(end.Add(-Late)) {
			continue
		}
		if anywhere == nil {
			anywhere = &runs[i]
		}
		if r.Departs().After(end.Add(2 * time.Hour)) {
			break
		}
		if st := r.Trip.StopTimes[0].Stop; st != nil && geo.Distance(st.Point(), at) <= Near {
			return d.take(r), nil
		}
	}
	if anywhere != nil {
		return d.take(*anywhere), nil
	}
	return Run{}, fmt.Errorf("route %s: no trip after %s within %v", prev.Trip.RouteID, end.Format(time.RFC3339), Horizon)
}

// Release frees a run a bus no longer drives.
func (d *Dispatcher) Release(r Run) { delete(d.taken, r.key()) }

func (d *Dispatcher) isTaken(r Run) bool { _, ok := d.taken[r.key()]; return ok }

// free reports whether r can be given to a bus: not taken, not skipped.
func (d *Dispatcher) free(r Run) bool { return !d.isTaken(r) && !d.Skipped(r) }

func (d *Dispatcher) keep(r Run) Run {
	d.kept[r.key()] = true
	return d.take(r)
}
