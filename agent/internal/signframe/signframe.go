// Package signframe turns the station agent's view into what a hardware
// sign shows (drivers/display): the same rows, banner and alerts as the
// sign page and the terminal board, in a panel's few lines.
package signframe

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/headway-transit/headway/agent/internal/station"
	"github.com/headway-transit/headway/drivers/display"
	"github.com/headway-transit/headway/internal/wire"
)

// banners, by the sign's mode, as the sign page words them (shorter).
var banners = map[string]string{
	station.ModeReconnecting: "RECONNECTING",
	station.ModeStale:        "LIVE TIMES MAY BE OUT OF DATE",
	station.ModeScheduled:    "SCHEDULED TIMES ONLY",
}

// Board is v as a panel shows it, times in loc. alert picks which of the
// alerts in force to show (a sign rotates them: the frame's number).
func Board(v station.View, loc *time.Location, alert int) display.Board {
	if loc == nil {
		loc = time.UTC
	}
	b := display.Board{Clock: clock(v.GeneratedAt, loc, v.Clock), Banner: banners[v.Mode]}
	var names, alerts []string
	closed := true
	var rows []station.ArrivalView
	for _, s := range v.Stops {
		names = append(names, cmpOr(s.StopName, s.Stop))
		closed = closed && s.Note == station.NoteClosed
		for _, a := range s.Alerts {
			text := a.Header
			if len(a.Routes) > 0 && !a.StopClosed {
				text = strings.Join(a.Routes, ",") + ": " + text
			}
			alerts = append(alerts, text)
		}
		rows = append(rows, s.Arrivals...)
	}
	b.Title = strings.Join(names, " / ")
	if len(v.Stops) > 0 && closed {
		b.Banner = "STOP CLOSED"
	}
	if len(alerts) > 0 {
		b.Alert = alerts[((alert%len(alerts))+len(alerts))%len(alerts)]
	}
	slices.SortStableFunc(rows, func(a, c station.ArrivalView) int { return a.When().Compare(c.When()) })
	for _, a := range rows {
		r := display.Row{Route: cmpOr(a.RouteShortName, a.Route, "?"), Headsign: a.Headsign,
			Live: a.Source == wire.SourceRealtime, Stale: a.Stale}
		switch {
		case !r.Live && a.Status != "":
			r.When = clock(a.When(), loc, v.Clock) // the bus may not run it: no countdown
		case a.Minutes == 0:
			r.When = "Due"
		default:
			r.When = fmt.Sprintf("%d min", a.Minutes)
		}
		b.Rows = append(b.Rows, r)
	}
	switch {
	case closed && len(v.Stops) > 0:
		b.Empty = "This stop is closed"
	case v.Online:
		b.Empty = "No departures in the next hour"
	default:
		b.Empty = "No departure information"
	}
	return b
}

func clock(t time.Time, loc *time.Location, c string) string {
	if c == station.Clock12h {
		return t.In(loc).Format("3:04pm")
	}
	return t.In(loc).Format("15:04")
}

func cmpOr(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}
