package gtfsrt_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	rtpb "github.com/MobilityData/gtfs-realtime-bindings/golang/gtfs"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/headway-transit/headway/hub/internal/gtfsrt"
	"github.com/headway-transit/headway/internal/gtfs"
)

// sharedGTFS is ../shared/testdata/gtfs seen from the repository root,
// which is three levels above this package.
func sharedGTFS(tb testing.TB) string {
	tb.Helper()
	dir := filepath.Join("..", "..", "..", "..", "shared", "testdata", "gtfs")
	if _, err := os.Stat(dir); err != nil {
		tb.Skipf("real GTFS-Realtime snapshots not found at %s (the ../shared/testdata folder beside the repository; CI has it): %v", dir, err)
	}
	return dir
}

// TestRealSnapshots reads agencies' own GTFS-Realtime feeds with the
// bindings and holds them to Check against their static schedules: every
// trip_id and stop_id resolves, as SOURCES.md promises.
func TestRealSnapshots(t *testing.T) {
	dir := sharedGTFS(t)
	tests := []struct {
		name      string
		static    string
		snapshots []string
		withJSON  bool
		// Each snapshot has at least this many trip updates with stops,
		// and vehicles on a trip.
		trips, vehicles int
		stops           int // stop ids across the snapshot, at least
		// quirks are fields where the agency's feed is known to break a
		// rule, and why: reported, not failed.
		quirks map[string]string
	}{
		{
			name:   "metrotransit-route2",
			static: "metrotransit-route2/gtfs.zip",
			snapshots: []string{
				"metrotransit-route2/VehiclePositions_20190619104102.pb",
				"metrotransit-route2/VehiclePositions_20190619104123.pb",
				"metrotransit-route2/VehiclePositions_20190619104154.pb",
			},
			vehicles: 5,
			quirks: map[string]string{
				"vehicle.trip.route_id": `Metro Transit's realtime route ids ("2") lack the static feed's version suffix ("2-111")`,
			},
		},
		{
			name: "caltrain-trip-updates", static: "caltrain/ct.zip",
			snapshots: []string{"caltrain/ct-trip-updates.pb"}, withJSON: true, trips: 10, stops: 100,
		},
		{
			name: "caltrain-vehicle-positions", static: "caltrain/ct.zip",
			snapshots: []string{"caltrain/ct-vehicle-positions.pb"}, withJSON: true, vehicles: 1,
		},
	}
	feeds := map[string]*gtfs.Feed{}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			feed := feeds[tc.static]
			if feed == nil {
				var err error
				if feed, err = gtfs.Load(filepath.Join(dir, tc.static)); err != nil {
					t.Fatal(err)
				}
				feeds[tc.static] = feed
			}
			for _, name := range tc.snapshots {
				b, err := os.ReadFile(filepath.Join(dir, name))
				if err != nil {
					t.Fatal(err)
				}
				msg, err := gtfsrt.Decode(b)
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				quirks := 0
				for _, err := range gtfsrt.Check(msg, feed) {
					var p *gtfsrt.Problem
					if errors.As(err, &p) && tc.quirks[p.Field] != "" {
						quirks++
						continue
					}
					t.Errorf("%s: %v", name, err)
				}
				if quirks > 0 {
					t.Logf("%s: %d known quirks (%v)", name, quirks, tc.quirks)
				}
				var trips, vehicles, stops int
				for _, e := range msg.GetEntity() {
					for _, u := range e.GetTripUpdate().GetStopTimeUpdate() {
						if u.GetStopId() != "" {
							stops++
						}
					}
					if e.GetVehicle().GetStopId() != "" {
						stops++
					}
					if tu := e.GetTripUpdate(); tu != nil && tu.GetTrip().GetTripId() != "" && len(tu.GetStopTimeUpdate()) > 0 {
						trips++
					}
					if vp := e.GetVehicle(); vp != nil && vp.GetTrip().GetTripId() != "" {
						vehicles++
					}
				}
				if trips < tc.trips || vehicles < tc.vehicles || stops < tc.stops {
					t.Errorf("%s: %d trip updates, %d vehicles on trips and %d stop ids, want at least %d, %d and %d", name, trips, vehicles, stops, tc.trips, tc.vehicles, tc.stops)
				}
				t.Logf("%s: %d entities checked: %d trip updates, %d vehicles on trips, %d stop ids", name, len(msg.GetEntity()), trips, vehicles, stops)
				if !tc.withJSON {
					continue
				}
				// The agency's JSON decode of the same snapshot says the
				// bindings read every field as its own tools did.
				js, err := os.ReadFile(filepath.Join(dir, name+".json"))
				if err != nil {
					t.Fatal(err)
				}
				fromJSON := &rtpb.FeedMessage{}
				if err := protojson.Unmarshal(js, fromJSON); err != nil {
					t.Fatalf("%s.json: %v", name, err)
				}
				if !proto.Equal(msg, fromJSON) {
					t.Errorf("%s and its JSON decode differ", name)
				}
			}
		})
	}
}
