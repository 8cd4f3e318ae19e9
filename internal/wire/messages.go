package wire

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// WebSocket message types (the "type" field).
const (
	TypeSubscribe = "subscribe"
	TypeBoard     = "board"
	TypeTimetable = "timetable"
	TypeHeartbeat = "heartbeat"
	TypeError     = "error"
)

// Arrival sources.
const (
	SourceRealtime = "realtime"
	SourceSchedule = "schedule"
)

// MaxStopsPerSubscribe bounds the stops one sign may subscribe to.
const MaxStopsPerSubscribe = 64

// ErrTooManyStops is returned for a subscription over MaxStopsPerSubscribe.
var ErrTooManyStops = fmt.Errorf("more than %d stops", MaxStopsPerSubscribe)

// Subscribe is sent by a sign to choose its stops.
type Subscribe struct {
	Type    string   `json:"type"`
	Display string   `json:"display"`
	Stops   []string `json:"stops"`
}

// Heartbeat is sent by a sign every 30 s.
type Heartbeat struct {
	Type      string  `json:"type"`
	Display   string  `json:"display"`
	CacheAgeS float64 `json:"cache_age_s"`
	Version   string  `json:"version"`
}

// Arrival is one row of a board.
type Arrival struct {
	Trip           string     `json:"trip"`
	Route          string     `json:"route"`
	RouteShortName string     `json:"route_short_name"`
	Headsign       string     `json:"headsign"`
	Vehicle        string     `json:"vehicle,omitempty"`
	StopSequence   int        `json:"stop_sequence"`
	Scheduled      time.Time  `json:"scheduled"`
	Predicted      *time.Time `json:"predicted,omitempty"`
	Source         string     `json:"source"`
	// Status qualifies a scheduled row (docs/contracts.md): "at_terminal"
	// when Vehicle waits at the trip's first stop to run it; "no_bus" when
	// the trip should have left its first stop a while ago and no bus is
	// tracked on it.
	Status string `json:"status,omitempty"`
}

// Arrival statuses. A reader ignores one it does not know.
const (
	StatusAtTerminal = "at_terminal"
	StatusNoBus      = "no_bus"
)

// When is the best known arrival time: predicted when known, else scheduled.
func (a Arrival) When() time.Time {
	if a.Predicted != nil {
		return *a.Predicted
	}
	return a.Scheduled
}

// Board is the hub's current list of arrivals at one stop. A board replaces
// the previous board of its stop whole.
type Board struct {
	Type        string    `json:"type"`
	Stop        string    `json:"stop"`
	StopName    string    `json:"stop_name"`
	GeneratedAt time.Time `json:"generated_at"`
	Arrivals    []Arrival `json:"arrivals"`
}

// Departure is one scheduled departure in a timetable.
type Departure struct {
	Trip           string    `json:"trip"`
	Route          string    `json:"route"`
	RouteShortName string    `json:"route_short_name"`
	Headsign       string    `json:"headsign"`
	Scheduled      time.Time `json:"scheduled"`
}

// Timetable lists a stop's scheduled departures over [From, Until), so a sign
// can run on its own when the hub is gone.
type Timetable struct {
	Type       string      `json:"type"`
	Stop       string      `json:"stop"`
	From       time.Time   `json:"from"`
	Until      time.Time   `json:"until"`
	Departures []Departure `json:"departures"`
	// Timezone is the agency's IANA time zone (GTFS agency_timezone), in
	// which a sign shows times unless its own config sets one. Optional
	// (docs/contracts.md); signs must validate it before use.
	Timezone string `json:"timezone,omitempty"`
}

// Error is sent before the server closes a connection it will not serve.
type Error struct {
	Type    string `json:"type"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Error codes.
const (
	CodeBadMessage  = "bad_message"
	CodeTooLarge    = "too_large"
	CodeTooManyStop = "too_many_stops"
	CodeUnknownStop = "unknown_stop"
	// A hub that registers its signs (http.signs) refuses a connection
	// with no token, an unknown or revoked one (CodeUnauthorized, closed
	// with CloseUnauthorized), and a subscribe outside the sign's display
	// or stops (CodeForbidden, CloseForbidden).
	CodeUnauthorized = "unauthorized"
	CodeForbidden    = "forbidden"
)

// WebSocket close codes of the refusals above (the 4000-4999 range is the
// application's; these echo HTTP's 401 and 403).
const (
	CloseUnauthorized = 4401
	CloseForbidden    = 4403
)

// Envelope reads only the type of a message.
type envelope struct {
	Type string `json:"type"`
}

// MessageType returns the "type" field of a WebSocket message.
func MessageType(b []byte) (string, error) {
	if len(b) > MaxServerMessage {
		return "", fmt.Errorf("message is %d bytes, more than %d", len(b), MaxServerMessage)
	}
	var e envelope
	if err := json.Unmarshal(b, &e); err != nil {
		return "", fmt.Errorf("message: %w", err)
	}
	if e.Type == "" {
		return "", errors.New("message: type is missing")
	}
	return e.Type, nil
}

// DecodeSubscribe parses and validates a subscribe message.
func DecodeSubscribe(b []byte) (Subscribe, error) {
	var s Subscribe
	if err := decodeStrict(b, &s, MaxPayload); err != nil {
		return Subscribe{}, fmt.Errorf("subscribe: %w", err)
	}
	if s.Type != TypeSubscribe {
		return Subscribe{}, fmt.Errorf("subscribe: type %q", s.Type)
	}
	if err := ValidID("display", s.Display); err != nil {
		return Subscribe{}, fmt.Errorf("subscribe: %w", err)
	}
	if len(s.Stops) == 0 {
		return Subscribe{}, errors.New("subscribe: no stops")
	}
	if len(s.Stops) > MaxStopsPerSubscribe {
		return Subscribe{}, fmt.Errorf("subscribe: %d stops: %w", len(s.Stops), ErrTooManyStops)
	}
	for i, st := range s.Stops {
		if err := ValidID("stop", st); err != nil {
			return Subscribe{}, fmt.Errorf("subscribe: stops[%d]: %w", i, err)
		}
	}
	return s, nil
}

// DecodeHeartbeat parses and validates a heartbeat message.
func DecodeHeartbeat(b []byte) (Heartbeat, error) {
	var h Heartbeat
	if err := decodeStrict(b, &h, MaxPayload); err != nil {
		return Heartbeat{}, fmt.Errorf("heartbeat: %w", err)
	}
	if h.Type != TypeHeartbeat {
		return Heartbeat{}, fmt.Errorf("heartbeat: type %q", h.Type)
	}
	if err := ValidID("display", h.Display); err != nil {
		return Heartbeat{}, fmt.Errorf("heartbeat: %w", err)
	}
	if !finite(h.CacheAgeS) || h.CacheAgeS < 0 {
		return Heartbeat{}, fmt.Errorf("heartbeat: cache_age_s %v", h.CacheAgeS)
	}
	if len(h.Version) > MaxIDLen {
		return Heartbeat{}, fmt.Errorf("heartbeat: version longer than %d", MaxIDLen)
	}
	return h, nil
}

// DecodeBoard parses and validates a board message.
func DecodeBoard(b []byte) (Board, error) {
	var bd Board
	if err := decodeServer(b, &bd, MaxServerMessage); err != nil {
		return Board{}, fmt.Errorf("board: %w", err)
	}
	if bd.Type != TypeBoard {
		return Board{}, fmt.Errorf("board: type %q", bd.Type)
	}
	if err := ValidID("stop", bd.Stop); err != nil {
		return Board{}, fmt.Errorf("board: %w", err)
	}
	if bd.GeneratedAt.IsZero() {
		return Board{}, errors.New("board: generated_at is missing")
	}
	for i, a := range bd.Arrivals {
		if a.Scheduled.IsZero() {
			return Board{}, fmt.Errorf("board %s: arrivals[%d]: scheduled is missing", bd.Stop, i)
		}
		if a.Source != SourceRealtime && a.Source != SourceSchedule {
			return Board{}, fmt.Errorf("board %s: arrivals[%d]: source %q", bd.Stop, i, a.Source)
		}
		if a.Status != StatusAtTerminal && a.Status != StatusNoBus {
			bd.Arrivals[i].Status = "" // one this sign does not know
		}
	}
	return bd, nil
}

// DecodeTimetable parses and validates a timetable message.
func DecodeTimetable(b []byte) (Timetable, error) {
	var tt Timetable
	if err := decodeServer(b, &tt, MaxServerMessage); err != nil {
		return Timetable{}, fmt.Errorf("timetable: %w", err)
	}
	if tt.Type != TypeTimetable {
		return Timetable{}, fmt.Errorf("timetable: type %q", tt.Type)
	}
	if err := ValidID("stop", tt.Stop); err != nil {
		return Timetable{}, fmt.Errorf("timetable: %w", err)
	}
	if !tt.Until.After(tt.From) {
		return Timetable{}, fmt.Errorf("timetable %s: until %v is not after from %v", tt.Stop, tt.Until, tt.From)
	}
	return tt, nil
}

// DecodeError parses an error message.
func DecodeError(b []byte) (Error, error) {
	var e Error
	if err := decodeServer(b, &e, MaxPayload); err != nil {
		return Error{}, fmt.Errorf("error message: %w", err)
	}
	return e, nil
}
