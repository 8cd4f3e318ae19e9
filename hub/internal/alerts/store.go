package alerts

import (
	"cmp"
	"encoding/json"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/headway-transit/headway/internal/gtfs"
	"github.com/headway-transit/headway/internal/wire"
)

// Store holds the alerts of every source.
type Store struct {
	feed *gtfs.Feed
	// routesAt lists the routes that call at each stop.
	routesAt map[string]map[string]bool

	mu      sync.RWMutex
	sources map[string][]Alert
	// What the boards need, rebuilt on every change: trips cancelled,
	// stops closed, and (trip, stop) pairs skipped, each with the alerts
	// that say so (in force only while one of them is).
	cancelled map[string][]*Alert
	closed    map[string][]*Alert
	skipped   map[[2]string][]*Alert
	onChange  []func()
}

// NewStore builds an empty store for feed's stops, routes and trips.
func NewStore(feed *gtfs.Feed) *Store {
	s := &Store{feed: feed, routesAt: map[string]map[string]bool{}, sources: map[string][]Alert{}}
	for _, tr := range feed.Trips {
		for _, st := range tr.StopTimes {
			rs := s.routesAt[st.StopID]
			if rs == nil {
				rs = map[string]bool{}
				s.routesAt[st.StopID] = rs
			}
			rs[tr.RouteID] = true
		}
	}
	s.index()
	return s
}

// OnChange registers f, called (on the changing goroutine) after every
// change of the alerts.
func (s *Store) OnChange(f func()) {
	s.mu.Lock()
	s.onChange = append(s.onChange, f)
	s.mu.Unlock()
}

// Set replaces the alerts of source (a feed's name, or Operator).
func (s *Store) Set(source string, as []Alert) {
	cp := make([]Alert, len(as))
	for i, a := range as {
		a.Source = source
		cp[i] = a
	}
	s.mu.Lock()
	old := s.sources[source]
	same := sameAlerts(old, cp)
	if !same {
		if len(cp) == 0 {
			delete(s.sources, source)
		} else {
			s.sources[source] = cp
		}
		s.index()
	}
	fs := slices.Clone(s.onChange)
	s.mu.Unlock()
	if !same {
		for _, f := range fs {
			f()
		}
	}
}

func sameAlerts(a, b []Alert) bool {
	if len(a) != len(b) {
		return false
	}
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}

// Source returns a copy of source's alerts.
func (s *Store) Source(source string) []Alert {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return slices.Clone(s.sources[source])
}

// All returns every alert, by source then id.
func (s *Store) All() []Alert {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []Alert
	for _, src := range slices.Sorted(maps.Keys(s.sources)) {
		out = append(out, s.sources[src]...)
	}
	return out
}

// index rebuilds the boards' indexes; s.mu held.
func (s *Store) index() {
	s.cancelled, s.closed, s.skipped = map[string][]*Alert{}, map[string][]*Alert{}, map[[2]string][]*Alert{}
	for _, as := range s.sources {
		for i := range as {
			a := &as[i]
			if a.Effect != wire.EffectNoService {
				continue
			}
			for _, e := range a.Entities {
				switch {
				case e.Trip != "" && e.Stop != "":
					k := [2]string{e.Trip, e.Stop}
					s.skipped[k] = append(s.skipped[k], a)
				case e.Trip != "":
					s.cancelled[e.Trip] = append(s.cancelled[e.Trip], a)
				case e.Stop != "" && e.Route == "":
					s.closed[e.Stop] = append(s.closed[e.Stop], a)
				}
			}
		}
	}
}

func anyActive(as []*Alert, now time.Time) bool {
	for _, a := range as {
		if a.ActiveAt(now) {
			return true
		}
	}
	return false
}

// Skip reports whether trip's call at stop is off the board at now: the
// trip is cancelled, the stop closed, or the trip skips the stop.
func (s *Store) Skip(trip, stop string, now time.Time) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return anyActive(s.cancelled[trip], now) || anyActive(s.closed[stop], now) || anyActive(s.skipped[[2]string{trip, stop}], now)
}

// Cancelled reports whether trip is cancelled at now.
func (s *Store) Cancelled(trip string, now time.Time) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return anyActive(s.cancelled[trip], now)
}

// CancelledTrips lists the trips cancelled at now, sorted.
func (s *Store) CancelledTrips(now time.Time) []string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []string
	for trip, as := range s.cancelled {
		if anyActive(as, now) {
			out = append(out, trip)
		}
	}
	slices.Sort(out)
	return out
}

// SkippedStops are the stops trip skips at now (not counting closed ones).
func (s *Store) SkippedStops(trip string, now time.Time) map[string]bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out map[string]bool
	for k, as := range s.skipped {
		if k[0] == trip && anyActive(as, now) {
			if out == nil {
				out = map[string]bool{}
			}
			out[k[1]] = true
		}
	}
	return out
}

// concerns reports whether a is shown at stop, for which routes (ids; none
// when it concerns the stop as a whole) and whether it closes the stop.
func (s *Store) concerns(a *Alert, stop string) (match bool, routes []string, closes bool) {
	whole := false
	parent := ""
	if st := s.feed.Stops[stop]; st != nil {
		parent = st.ParentStation
	}
	for _, e := range a.Entities {
		switch {
		case e.Trip != "":
			tr := s.feed.Trips[e.Trip]
			if tr == nil || (e.Stop != "" && e.Stop != stop) {
				continue
			}
			if slices.ContainsFunc(tr.StopTimes, func(st gtfs.StopTime) bool { return st.StopID == stop }) {
				match = true
				routes = append(routes, tr.RouteID)
			}
		case e.Stop != "":
			if e.Stop != stop && e.Stop != parent {
				continue
			}
			match = true
			if e.Route != "" {
				routes = append(routes, e.Route)
			} else {
				whole = true
				closes = closes || a.Effect == wire.EffectNoService
			}
		case e.Route != "":
			if s.routesAt[stop][e.Route] {
				match = true
				routes = append(routes, e.Route)
			}
		case e.Agency != "":
			match, whole = true, true
		}
	}
	if whole {
		routes = nil
	}
	return match, routes, closes
}

// severityRank orders alerts on a sign: the most severe first.
func severityRank(a wire.Alert) int {
	switch {
	case a.StopClosed:
		return 0
	case a.Severity == wire.SeveritySevere:
		return 1
	case a.Severity == wire.SeverityWarning:
		return 2
	case a.Severity == "":
		return 3
	}
	return 4
}

// ForStop is the alerts message of stop at now: every alert not over that
// concerns it, the most severe first, at most wire.MaxAlertsPerStop.
func (s *Store) ForStop(stop string, now time.Time) wire.Alerts {
	m := wire.Alerts{Type: wire.TypeAlerts, Stop: stop, GeneratedAt: now.UTC(), Alerts: []wire.Alert{}}
	s.mu.RLock()
	for _, src := range slices.Sorted(maps.Keys(s.sources)) {
		for i := range s.sources[src] {
			a := &s.sources[src][i]
			if a.Over(now) || a.Hidden {
				continue
			}
			ok, routes, closes := s.concerns(a, stop)
			if !ok {
				continue
			}
			w := a.wire()
			w.StopClosed = closes
			for _, r := range routes {
				name := r
				if rt := s.feed.Routes[r]; rt != nil && rt.ShortName != "" {
					name = rt.ShortName
				}
				if !slices.Contains(w.Routes, name) {
					w.Routes = append(w.Routes, name)
				}
			}
			m.Alerts = append(m.Alerts, w)
		}
	}
	s.mu.RUnlock()
	slices.SortStableFunc(m.Alerts, func(a, b wire.Alert) int {
		return cmp.Or(cmp.Compare(severityRank(a), severityRank(b)), cmp.Compare(a.ID, b.ID))
	})
	if len(m.Alerts) > wire.MaxAlertsPerStop {
		m.Alerts = m.Alerts[:wire.MaxAlertsPerStop]
	}
	return m
}

// Message is ForStop encoded, for the signs.
func (s *Store) Message(stop string, now time.Time) []byte {
	b, _ := json.Marshal(s.ForStop(stop, now))
	return b
}
