package signframe

import (
	"testing"
	"time"

	"github.com/headway-transit/headway/agent/internal/station"
	"github.com/headway-transit/headway/internal/wire"
)

func TestBoard(t *testing.T) {
	t0 := time.Date(2026, 12, 6, 8, 15, 0, 0, time.UTC)
	p := t0.Add(3 * time.Minute)
	v := station.View{GeneratedAt: t0, Online: false, Mode: station.ModeStale, Clock: station.Clock24h, Stops: []station.StopView{
		{Stop: "CEN", StopName: "Central", Arrivals: []station.ArrivalView{
			{Arrival: wire.Arrival{Trip: "b", RouteShortName: "2", Headsign: "Lighthouse", Scheduled: t0.Add(10 * time.Minute), Source: wire.SourceSchedule, Status: wire.StatusAtTerminal}, Minutes: 10},
			{Arrival: wire.Arrival{Trip: "a", RouteShortName: "1", Headsign: "University", Scheduled: t0, Predicted: &p, Source: wire.SourceRealtime}, Minutes: 3, Stale: true},
			{Arrival: wire.Arrival{Trip: "c", RouteShortName: "3", Headsign: "Airport", Scheduled: t0, Source: wire.SourceSchedule}, Minutes: 0},
		}, Alerts: []wire.Alert{{ID: "x", Header: "Diverted", Routes: []string{"2"}}, {ID: "y", Header: "Lift out of order"}}},
	}}
	b := Board(v, time.UTC, 1)
	if b.Title != "Central" || b.Clock != "08:15" || b.Banner != "LIVE TIMES MAY BE OUT OF DATE" || b.Alert != "Lift out of order" {
		t.Errorf("%+v", b)
	}
	if len(b.Rows) != 3 || b.Rows[0].When != "Due" || b.Rows[1].When != "3 min" || !b.Rows[1].Live || !b.Rows[1].Stale || b.Rows[2].When != "08:25" {
		t.Errorf("rows %+v", b.Rows)
	}
	if b := Board(v, time.UTC, 2); b.Alert != "2: Diverted" {
		t.Errorf("the alerts rotate: %q", b.Alert)
	}
	closed := station.View{GeneratedAt: t0, Online: true, Mode: station.ModeLive, Stops: []station.StopView{{Stop: "HAR", Note: station.NoteClosed}}}
	if b := Board(closed, time.UTC, 0); b.Banner != "STOP CLOSED" || b.Empty != "This stop is closed" {
		t.Errorf("closed: %+v", b)
	}
}
