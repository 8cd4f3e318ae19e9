// Package alerts keeps the service alerts the hub knows, from the agency's
// GTFS-Realtime ServiceAlerts feeds and from its operators, and says which
// are in force at each stop: the signs' banners, the trips cancelled off
// the boards and the stops closed.
//
//   - alert.go: an alert and what it concerns (Entity), checked against the
//     schedule.
//   - store.go: the alerts by source; per stop, the wire message the signs
//     get; cancelled trips and closed stops for the boards.
//   - feed.go: a GTFS-Realtime ServiceAlerts document to alerts (FuzzDecode)
//     and the poller that keeps a feed's alerts current.
//   - operator.go: the operators' alerts, kept in a file across restarts.
package alerts

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/headway-transit/headway/internal/gtfs"
	"github.com/headway-transit/headway/internal/wire"
)

// Entity is what an alert concerns (GTFS-Realtime's EntitySelector): an
// agency, a route, a stop, a route at a stop, or one trip.
type Entity struct {
	Agency string `json:"agency,omitempty"`
	Route  string `json:"route,omitempty"`
	Stop   string `json:"stop,omitempty"`
	Trip   string `json:"trip,omitempty"`
}

// Alert is a service alert as the hub keeps it.
type Alert struct {
	ID          string        `json:"id"`
	Source      string        `json:"source"` // "operator" or the feed's name
	Cause       string        `json:"cause,omitempty"`
	Effect      string        `json:"effect"`
	Severity    string        `json:"severity,omitempty"`
	Header      string        `json:"header"`
	Description string        `json:"description,omitempty"`
	URL         string        `json:"url,omitempty"`
	Active      []wire.Period `json:"active,omitempty"`
	Entities    []Entity      `json:"entities"`
	// Hidden: it only takes trips or stops off the boards (a cancellation
	// or skipped stop from the agency's TripUpdates), with nothing for a
	// sign to show: not in the signs' alerts nor in /gtfs-rt/alerts.
	Hidden bool `json:"hidden,omitempty"`
}

// Operator is the source of alerts written by the hub's operators.
const Operator = "operator"

// MaxEntities bounds what one alert may concern.
const MaxEntities = 200

// wire is a's sign-facing part, without what concerns which stop.
func (a *Alert) wire() wire.Alert {
	return wire.Alert{ID: a.ID, Effect: a.Effect, Severity: a.Severity, Header: a.Header,
		Description: a.Description, URL: a.URL, Active: a.Active}
}

// Check reports what is wrong with a, naming the field; with feed, also
// what it concerns that the schedule does not have.
func (a *Alert) Check(feed *gtfs.Feed) error {
	w := a.wire()
	if a.Hidden && w.Header == "" {
		w.Header = "-" // nothing to show, nothing to check
	}
	if err := w.Validate(); err != nil {
		return err
	}
	if len(a.Entities) == 0 {
		return fmt.Errorf("alert %s: entities: say what it concerns (an agency, route, stop or trip)", a.ID)
	}
	if len(a.Entities) > MaxEntities {
		return fmt.Errorf("alert %s: %d entities, more than %d", a.ID, len(a.Entities), MaxEntities)
	}
	for i, e := range a.Entities {
		if e == (Entity{}) {
			return fmt.Errorf("alert %s: entities[%d] is empty", a.ID, i)
		}
		if feed == nil {
			continue
		}
		switch {
		case e.Trip != "" && feed.Trips[e.Trip] == nil:
			return fmt.Errorf("alert %s: entities[%d]: trip %q is not in the schedule", a.ID, i, e.Trip)
		case e.Route != "" && feed.Routes[e.Route] == nil:
			return fmt.Errorf("alert %s: entities[%d]: route %q is not in the schedule", a.ID, i, e.Route)
		case e.Stop != "" && feed.Stops[e.Stop] == nil:
			return fmt.Errorf("alert %s: entities[%d]: stop %q is not in the schedule", a.ID, i, e.Stop)
		case e.Agency != "" && !slices.ContainsFunc(feed.Agencies, func(ag gtfs.Agency) bool { return ag.ID == e.Agency }) && len(feed.Agencies) > 1:
			return fmt.Errorf("alert %s: entities[%d]: agency %q is not in the schedule", a.ID, i, e.Agency)
		}
	}
	return nil
}

// Over reports whether a will not be in force again after t.
func (a *Alert) Over(t time.Time) bool {
	w := wire.Alert{Active: a.Active}
	return w.Over(t)
}

// ActiveAt reports whether a is in force at t.
func (a *Alert) ActiveAt(t time.Time) bool {
	w := wire.Alert{Active: a.Active}
	return w.ActiveAt(t)
}

// errNoHeader and friends are for the feed decoder's messages.
var errNoText = errors.New("no header_text")
