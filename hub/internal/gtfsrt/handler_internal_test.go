package gtfsrt

import (
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	rtpb "github.com/MobilityData/gtfs-realtime-bindings/golang/gtfs"

	"github.com/headway-transit/headway/hub/internal/engine"
	"github.com/headway-transit/headway/hub/internal/testfeed"
	"github.com/headway-transit/headway/internal/gtfs"
)

type fixedSource struct {
	mu sync.Mutex
	s  *engine.RealtimeSnapshot
}

func (f *fixedSource) Realtime() *engine.RealtimeSnapshot {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.s
}

// TestEncodedOncePerSnapshot: consumers polling an unchanged snapshot get
// the bytes encoded for the first of them.
func TestEncodedOncePerSnapshot(t *testing.T) {
	at := time.Date(2026, 11, 27, 8, 4, 0, 0, time.UTC)
	src := &fixedSource{s: &engine.RealtimeSnapshot{At: at, Seq: 1, Vehicles: []engine.RealtimeVehicle{{ID: "bus-1", Time: at, Lat: 45, Lon: 9}}}}
	h := NewHandler(src, Builder{Feed: testfeed.Line(t)})
	builds := 0
	build := h.vehs.build
	h.vehs.build = func(s *engine.RealtimeSnapshot) *rtpb.FeedMessage { builds++; return build(s) }

	get := func(query, etag string) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest("GET", "/gtfs-rt/vehicle-positions"+query, nil)
		if etag != "" {
			req.Header.Set("If-None-Match", etag)
		}
		h.VehiclePositions(rec, req)
		return rec
	}
	first := get("", "")
	for range 3 {
		if rec := get("", ""); rec.Body.String() != first.Body.String() {
			t.Fatal("same snapshot, different bytes")
		}
	}
	get("?format=json", "")
	get("?format=json", "")
	if builds != 1 {
		t.Errorf("built %d times for one snapshot", builds)
	}
	if rec := get("", first.Header().Get("ETag")); rec.Code != http.StatusNotModified {
		t.Errorf("If-None-Match of the current ETag: %d, want 304", rec.Code)
	}

	src.mu.Lock()
	src.s = &engine.RealtimeSnapshot{At: at.Add(time.Second), Seq: 2}
	src.mu.Unlock()
	rec := get("", first.Header().Get("ETag"))
	if rec.Code != http.StatusOK || builds != 2 || rec.Body.String() == first.Body.String() {
		t.Errorf("new snapshot: %d, %d builds", rec.Code, builds)
	}
}

// TestServiceDate: start_date is the service date whatever the hour of
// the run and however the clocks change that day.
func TestServiceDate(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	b := Builder{Feed: &gtfs.Feed{Location: ny}}
	for _, s := range []string{"20260307", "20260308", "20260309", "20261031", "20261101", "20261102", "20261231"} {
		d, err := gtfs.ParseDate(s)
		if err != nil {
			t.Fatal(err)
		}
		if got := b.serviceDate(b.Feed.ServiceDayStart(d)); got != d {
			t.Errorf("service day %s dated %s", d, got)
		}
	}
}

func TestStopStatus(t *testing.T) {
	tr := testfeed.Line(t).Trips["E0800"] // stops every 1000 m
	tests := []struct {
		dist   float64
		index  int
		status rtpb.VehiclePosition_VehicleStopStatus
	}{
		{-50, 0, rtpb.VehiclePosition_IN_TRANSIT_TO},
		{0, 0, rtpb.VehiclePosition_STOPPED_AT},
		{20, 0, rtpb.VehiclePosition_STOPPED_AT},
		{30, 1, rtpb.VehiclePosition_IN_TRANSIT_TO},
		{980, 1, rtpb.VehiclePosition_STOPPED_AT},
		{1500, 2, rtpb.VehiclePosition_IN_TRANSIT_TO},
		{4000, 4, rtpb.VehiclePosition_STOPPED_AT},
		{4100, 4, rtpb.VehiclePosition_STOPPED_AT},
	}
	for _, tc := range tests {
		if i, s := stopStatus(tr, tc.dist); i != tc.index || s != tc.status {
			t.Errorf("at %v m: %d %v, want %d %v", tc.dist, i, s, tc.index, tc.status)
		}
	}
}
