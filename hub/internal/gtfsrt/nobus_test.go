package gtfsrt_test

import (
	"testing"
	"time"

	rtpb "github.com/MobilityData/gtfs-realtime-bindings/golang/gtfs"

	"github.com/headway-transit/headway/hub/internal/engine"
	"github.com/headway-transit/headway/hub/internal/testfeed"
	"github.com/headway-transit/headway/hub/internal/tracker"
)

// TestNoBusRuns: a trip run under way by the schedule, more than
// MissedAfter past its departure, with no bus on it, is in TripUpdates
// with a single NO_DATA update (no realtime for any of its stops), and the
// trip stays SCHEDULED; a run with a bus is predicted as usual.
func TestNoBusRuns(t *testing.T) {
	day := time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)
	feed := testfeed.Line(t)
	h := newHub(t, feed, day.Add(8*time.Hour+3*time.Minute+30*time.Second))
	// Trips on the test line take 8 minutes: 2 minutes stands in for the
	// default 10.
	h.eng = engine.New(engine.Options{
		Feed: feed, Tracker: tracker.Config{MaxOffRoute: 100, MaxFuture: time.Minute},
		Horizon: 30 * time.Minute, MaxRows: 10, Refresh: time.Minute, Stale: time.Minute,
		MissedAfter: 2 * time.Minute, Now: h.clk.now,
	})
	h.mux = mux(h.eng, feed)

	h.fix(t, "bus-2", 1, 3000, 270) // on W0800, left S4 at 08:00
	h.eng.Refresh()
	tu := h.get(t, "/gtfs-rt/trip-updates")
	e := entity(tu, byTrip("E0800"))
	if e == nil {
		t.Fatalf("no trip update for E0800, which no bus runs: %v", tu)
	}
	u := e.GetTripUpdate()
	if u.GetTrip().GetScheduleRelationship() != rtpb.TripDescriptor_SCHEDULED || u.GetVehicle() != nil {
		t.Errorf("E0800: trip %v vehicle %v, want SCHEDULED and no vehicle", u.GetTrip(), u.GetVehicle())
	}
	if stus := u.GetStopTimeUpdate(); len(stus) != 1 || stus[0].GetScheduleRelationship() != rtpb.TripUpdate_StopTimeUpdate_NO_DATA ||
		stus[0].GetStopSequence() != 1 || stus[0].GetArrival() != nil {
		t.Errorf("E0800 stop_time_updates %v, want one NO_DATA at its first stop", stus)
	}
	w := entity(tu, byTrip("W0800"))
	if w == nil || len(w.GetTripUpdate().GetStopTimeUpdate()) == 0 || w.GetTripUpdate().GetStopTimeUpdate()[0].GetArrival() == nil {
		t.Errorf("W0800, which bus-2 runs: %v, want predictions", w)
	}
	// Not yet MissedAfter past its departure (E0810 leaves at 08:10): not listed.
	if e := entity(tu, byTrip("E0810")); e != nil {
		t.Errorf("E0810 listed before its departure: %v", e)
	}
}
