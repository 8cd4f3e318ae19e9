package gtfsrt_test

import (
	"net/http"
	"testing"
	"time"

	rtpb "github.com/MobilityData/gtfs-realtime-bindings/golang/gtfs"

	"github.com/headway-transit/headway/hub/internal/alerts"
	"github.com/headway-transit/headway/hub/internal/gtfsrt"
	"github.com/headway-transit/headway/hub/internal/testfeed"
	"github.com/headway-transit/headway/internal/wire"
)

// Service alerts in TripUpdates: a cancelled trip's run is CANCELED, a
// skipped stop of a predicted run SKIPPED, and the feed still passes the
// checks journey planners rely on.
func TestTripUpdatesCarryCancellations(t *testing.T) {
	day := time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)
	at := day.Add(8*time.Hour + 4*time.Minute + 10*time.Second)
	feed := testfeed.Line(t)
	h := newHub(t, feed, at)
	store := alerts.NewStore(feed)
	store.Set("agency", []alerts.Alert{
		{ID: "c", Effect: wire.EffectNoService, Header: "The 09:00 does not run", Entities: []alerts.Entity{{Trip: "E0900"}}},
		{ID: "s", Effect: wire.EffectNoService, Header: "The 08:00 skips S3", Entities: []alerts.Entity{{Trip: "E0800", Stop: "S3"}}},
	})
	rt := gtfsrt.NewHandler(h.eng, gtfsrt.Builder{Feed: feed, Cancelled: store.CancelledTrips, Skipped: store.SkippedStops})
	h.mux = http.NewServeMux()
	h.mux.HandleFunc("GET /gtfs-rt/trip-updates", rt.TripUpdates)
	h.fix(t, "bus-1", 1, 1500, 90)
	h.eng.Flush()

	msg := h.get(t, "/gtfs-rt/trip-updates")
	c := entity(msg, byTrip("E0900"))
	if c == nil || c.GetTripUpdate().GetTrip().GetScheduleRelationship() != rtpb.TripDescriptor_CANCELED || len(c.GetTripUpdate().GetStopTimeUpdate()) != 0 {
		t.Fatalf("E0900: %v", c)
	}
	run := entity(msg, byTrip("E0800"))
	if run == nil {
		t.Fatal("no update for bus-1's E0800")
	}
	skipped := 0
	for _, u := range run.GetTripUpdate().GetStopTimeUpdate() {
		if u.GetStopId() == "S3" {
			if u.GetScheduleRelationship() != rtpb.TripUpdate_StopTimeUpdate_SKIPPED || u.Arrival != nil {
				t.Errorf("S3: %v", u)
			}
			skipped++
		} else if u.GetScheduleRelationship() == rtpb.TripUpdate_StopTimeUpdate_SKIPPED {
			t.Errorf("%s skipped too", u.GetStopId())
		}
	}
	if skipped != 1 {
		t.Errorf("S3 not in E0800's updates: %v", run)
	}
}
