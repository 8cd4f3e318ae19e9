package wire

import (
	"errors"
	"fmt"
	"slices"
	"time"
	"unicode/utf8"
)

// TypeAlerts is the server's message with the service alerts in force at
// one stop (docs/contracts.md, "WebSocket: alerts").
const TypeAlerts = "alerts"

// Alert effects (GTFS-Realtime's Effect, lower case). A stop alert with
// EffectNoService closes the stop; a trip alert with it cancels the trip.
const (
	EffectNoService         = "no_service"
	EffectReducedService    = "reduced_service"
	EffectSignificantDelays = "significant_delays"
	EffectDetour            = "detour"
	EffectAdditionalService = "additional_service"
	EffectModifiedService   = "modified_service"
	EffectOtherEffect       = "other_effect"
	EffectUnknownEffect     = "unknown_effect"
	EffectStopMoved         = "stop_moved"
	EffectNoEffect          = "no_effect"
	EffectAccessibility     = "accessibility_issue"
)

// Effects lists every effect an alert may have.
var Effects = []string{EffectNoService, EffectReducedService, EffectSignificantDelays, EffectDetour,
	EffectAdditionalService, EffectModifiedService, EffectOtherEffect, EffectUnknownEffect,
	EffectStopMoved, EffectNoEffect, EffectAccessibility}

// Alert severities (GTFS-Realtime's SeverityLevel, lower case).
const (
	SeverityInfo    = "info"
	SeverityWarning = "warning"
	SeveritySevere  = "severe"
)

// Limits on what one alert may carry: a sign shows a line or two.
const (
	MaxAlertsPerStop  = 20
	MaxAlertHeader    = 300
	MaxAlertText      = 2000
	MaxAlertPeriods   = 20
	MaxAlertRoutes    = 50
	maxAlertURLLength = 500
)

// Alerts is the server's message: every alert in force at Stop now or
// later (the signs drop each when its periods end, online or not). It
// replaces the previous alerts of the stop whole; an empty list clears
// them.
type Alerts struct {
	Type        string    `json:"type"`
	Stop        string    `json:"stop"`
	GeneratedAt time.Time `json:"generated_at"`
	Alerts      []Alert   `json:"alerts"`
}

// Alert is one service alert as a sign needs it.
type Alert struct {
	ID          string `json:"id"`
	Effect      string `json:"effect"`
	Severity    string `json:"severity,omitempty"`
	Header      string `json:"header"`
	Description string `json:"description,omitempty"`
	URL         string `json:"url,omitempty"`
	// Active are the periods it is in force; none: always, until removed.
	Active []Period `json:"active,omitempty"`
	// Routes it concerns at this stop (route_short_name); none: the stop
	// as a whole.
	Routes []string `json:"routes,omitempty"`
	// StopClosed: the stop has no service while the alert is active.
	StopClosed bool `json:"stop_closed,omitempty"`
}

// Period is a time an alert is in force; a missing end is open.
type Period struct {
	Start *time.Time `json:"start,omitempty"`
	End   *time.Time `json:"end,omitempty"`
}

// ActiveAt reports whether a is in force at t.
func (a *Alert) ActiveAt(t time.Time) bool {
	if len(a.Active) == 0 {
		return true
	}
	for _, p := range a.Active {
		if p.Contains(t) {
			return true
		}
	}
	return false
}

// Contains reports whether t is within p.
func (p Period) Contains(t time.Time) bool {
	return (p.Start == nil || !t.Before(*p.Start)) && (p.End == nil || t.Before(*p.End))
}

// Over reports whether every period of a has ended by t: the alert will
// not be in force again.
func (a *Alert) Over(t time.Time) bool {
	if len(a.Active) == 0 {
		return false
	}
	for _, p := range a.Active {
		if p.End == nil || t.Before(*p.End) {
			return false
		}
	}
	return true
}

// Validate checks a against the contract; errors name the field.
func (a *Alert) Validate() error {
	if err := ValidID("alert", a.ID); err != nil {
		return err
	}
	if !slices.Contains(Effects, a.Effect) {
		return fmt.Errorf("alert %s: effect %q is not one of %v", a.ID, a.Effect, Effects)
	}
	switch a.Severity {
	case "", SeverityInfo, SeverityWarning, SeveritySevere:
	default:
		return fmt.Errorf("alert %s: severity %q: want info, warning or severe", a.ID, a.Severity)
	}
	if a.Header == "" {
		return fmt.Errorf("alert %s: header is empty", a.ID)
	}
	for _, f := range []struct {
		name, v string
		max     int
	}{{"header", a.Header, MaxAlertHeader}, {"description", a.Description, MaxAlertText}, {"url", a.URL, maxAlertURLLength}} {
		if len(f.v) > f.max {
			return fmt.Errorf("alert %s: %s is %d bytes, more than %d", a.ID, f.name, len(f.v), f.max)
		}
		if !utf8.ValidString(f.v) {
			return fmt.Errorf("alert %s: %s is not UTF-8", a.ID, f.name)
		}
	}
	if len(a.Active) > MaxAlertPeriods {
		return fmt.Errorf("alert %s: %d active periods, more than %d", a.ID, len(a.Active), MaxAlertPeriods)
	}
	for i, p := range a.Active {
		if p.Start != nil && p.End != nil && !p.End.After(*p.Start) {
			return fmt.Errorf("alert %s: active[%d] ends %s, not after it starts", a.ID, i, p.End.Format(time.RFC3339))
		}
	}
	if len(a.Routes) > MaxAlertRoutes {
		return fmt.Errorf("alert %s: %d routes, more than %d", a.ID, len(a.Routes), MaxAlertRoutes)
	}
	for i, r := range a.Routes {
		if r == "" || len(r) > MaxIDLen || !utf8.ValidString(r) {
			return fmt.Errorf("alert %s: routes[%d] %q is not a route name", a.ID, i, r)
		}
	}
	return nil
}

// DecodeAlerts parses and validates an alerts message.
func DecodeAlerts(b []byte) (Alerts, error) {
	var m Alerts
	if err := decodeServer(b, &m, MaxServerMessage); err != nil {
		return Alerts{}, fmt.Errorf("alerts: %w", err)
	}
	if m.Type != TypeAlerts {
		return Alerts{}, fmt.Errorf("alerts: type %q", m.Type)
	}
	if err := ValidID("stop", m.Stop); err != nil {
		return Alerts{}, fmt.Errorf("alerts: %w", err)
	}
	if m.GeneratedAt.IsZero() {
		return Alerts{}, errors.New("alerts: generated_at is missing")
	}
	if len(m.Alerts) > MaxAlertsPerStop {
		return Alerts{}, fmt.Errorf("alerts %s: %d alerts, more than %d", m.Stop, len(m.Alerts), MaxAlertsPerStop)
	}
	if m.Alerts == nil {
		m.Alerts = []Alert{}
	}
	for i := range m.Alerts {
		// A newer hub's effects and severities read as the most general
		// ones this sign knows, rather than losing the alert.
		a := &m.Alerts[i]
		if !slices.Contains(Effects, a.Effect) && a.Effect != "" {
			a.Effect = EffectUnknownEffect
		}
		if a.Severity != SeverityInfo && a.Severity != SeverityWarning && a.Severity != SeveritySevere {
			a.Severity = ""
		}
		if err := a.Validate(); err != nil {
			return Alerts{}, fmt.Errorf("alerts %s: alerts[%d]: %w", m.Stop, i, err)
		}
	}
	return m, nil
}
