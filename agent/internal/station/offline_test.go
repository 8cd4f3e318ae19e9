package station

import (
	"net"
	"testing"
	"time"

	"github.com/headway-transit/headway/internal/wire"
)

// TestOfflineFlow runs a Station on the injected clock through a hub
// outage: countdown, stale flag, timetable fallback, and fresh boards the
// moment a hub is back on the same address.
func TestOfflineFlow(t *testing.T) {
	clock := &testClock{t: t0}
	pred := t0.Add(5 * time.Minute)
	live := wire.Board{Type: wire.TypeBoard, Stop: "CEN", StopName: "Central", GeneratedAt: t0, Arrivals: []wire.Arrival{
		{Trip: "t1", Route: "r1", RouteShortName: "1", Headsign: "Harbour", Vehicle: "bus-1", Scheduled: t0.Add(4 * time.Minute), Predicted: &pred, Source: wire.SourceRealtime},
		{Trip: "s1", Route: "r1", RouteShortName: "1", Headsign: "Harbour", Scheduled: t0.Add(7 * time.Minute), Source: wire.SourceSchedule},
	}}
	tt := wire.Timetable{Type: wire.TypeTimetable, Stop: "CEN", From: t0, Until: t0.Add(24 * time.Hour), Departures: []wire.Departure{
		{Trip: "t1", Route: "r1", RouteShortName: "1", Headsign: "Harbour", Scheduled: t0.Add(4 * time.Minute)},
		{Trip: "s1", Route: "r1", RouteShortName: "1", Headsign: "Harbour", Scheduled: t0.Add(7 * time.Minute)},
		{Trip: "s2", Route: "r1", RouteShortName: "1", Headsign: "Harbour", Scheduled: t0.Add(20 * time.Minute)},
		{Trip: "s3", Route: "r1", RouteShortName: "1", Headsign: "Harbour", Scheduled: t0.Add(40 * time.Minute)},
	}}
	hub := newFakeHub(t, mustJSON(t, live), mustJSON(t, tt))
	addr := hub.srv.Listener.Addr().String()

	cfg := testConfig(t, []string{hub.URL()})
	cfg.Stops = []string{"CEN"}
	st, err := New(cfg, Options{Logger: testLogger(t), Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	base, _ := startStation(t, st)
	recv(t, hub.subs, "subscribe")

	check := func(what, mode, rows string) {
		t.Helper()
		var v View
		eventually(t, what, func() bool {
			v = getView(t, base)
			return v.Mode == mode && rowsOf(v.Stops[0]) == rows
		})
	}
	check("live", ModeLive, "t1:5:b,s1:7:b")

	// The hub goes away: its listener first, so the sign cannot reconnect.
	hub.srv.Listener.Close()
	hub.kick <- struct{}{}
	eventually(t, "offline", func() bool { return !getView(t, base).Online })

	clock.Set(t0.Add(80 * time.Second))
	check("counting down", ModeReconnecting, "t1:3:b,s1:5:b")
	clock.Set(t0.Add(2 * time.Minute))
	check("stale", ModeStale, "t1:3:b!,s1:5:b")
	clock.Set(t0.Add(5*time.Minute + time.Second))
	check("the bus dropped at its time", ModeStale, "s1:1:b")
	clock.Set(t0.Add(7*time.Minute + time.Second))
	// Nothing left on the board: the timetable after the board's last row.
	check("nothing left", ModeStale, "s2:12:t,s3:32:t")
	if v := getView(t, base); v.Stops[0].Mode != ModeScheduled {
		t.Errorf("stop mode %s, want scheduled", v.Stops[0].Mode)
	}
	clock.Set(t0.Add(11 * time.Minute))
	check("fallback", ModeScheduled, "s2:9:t,s3:29:t")

	// A hub is back on the same address with a fresh board.
	fresh := live
	p2 := t0.Add(15 * time.Minute)
	fresh.GeneratedAt = t0.Add(11 * time.Minute)
	fresh.Arrivals = []wire.Arrival{{Trip: "s2", Route: "r1", RouteShortName: "1", Headsign: "Harbour", Vehicle: "bus-2",
		Scheduled: t0.Add(20 * time.Minute), Predicted: &p2, Source: wire.SourceRealtime}}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Skipf("cannot listen on %s again: %v", addr, err)
	}
	hub2 := newFakeHubOn(t, ln, mustJSON(t, fresh), mustJSON(t, tt))
	recv(t, hub2.subs, "subscribe to the hub that came back")
	check("fresh boards replace the fallback", ModeLive, "s2:4:b")
}
