package avlfeed

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	rtpb "github.com/MobilityData/gtfs-realtime-bindings/golang/gtfs"
	"google.golang.org/protobuf/proto"
)

// vehicleEntity is one VehiclePosition entity for the tests' feeds.
type vehicleEntity struct {
	id, trip string
	lat, lon float32
	ts       uint64
}

// feedBytes is a FULL_DATASET GTFS-Realtime feed of es made at ts.
func feedBytes(t testing.TB, ts uint64, es ...vehicleEntity) []byte {
	t.Helper()
	msg := &rtpb.FeedMessage{Header: &rtpb.FeedHeader{
		GtfsRealtimeVersion: proto.String("2.0"),
		Incrementality:      rtpb.FeedHeader_FULL_DATASET.Enum(),
		Timestamp:           proto.Uint64(ts),
	}}
	for _, e := range es {
		vp := &rtpb.VehiclePosition{
			Vehicle:  &rtpb.VehicleDescriptor{Id: proto.String(e.id)},
			Position: &rtpb.Position{Latitude: proto.Float32(e.lat), Longitude: proto.Float32(e.lon)},
		}
		if e.ts > 0 {
			vp.Timestamp = proto.Uint64(e.ts)
		}
		if e.trip != "" {
			vp.Trip = &rtpb.TripDescriptor{TripId: proto.String(e.trip)}
		}
		msg.Entity = append(msg.Entity, &rtpb.FeedEntity{Id: proto.String("e-" + e.id), Vehicle: vp})
	}
	b, err := proto.Marshal(msg)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDecodeGTFSRT(t *testing.T) {
	b := feedBytes(t, 1000,
		vehicleEntity{id: "7", trip: "t1", lat: 44.4, lon: 8.9, ts: 990},
		vehicleEntity{id: "8", lat: 44.5, lon: 8.8},         // no own timestamp: the header's
		vehicleEntity{id: "9", lat: 0, lon: 0, ts: 995},     // no fix
		vehicleEntity{id: "10", lat: 95, lon: 8.8, ts: 995}, // not a latitude
	)
	s, err := DecodeGTFSRT(b)
	if err != nil {
		t.Fatal(err)
	}
	if !s.Time.Equal(time.Unix(1000, 0)) {
		t.Errorf("feed time %v, want unix 1000", s.Time)
	}
	if len(s.Fixes) != 2 {
		t.Fatalf("%d fixes, want 2: %+v", len(s.Fixes), s.Fixes)
	}
	if f := s.Fixes[0]; f.Vehicle != "7" || f.Trip != "t1" || !f.Time.Equal(time.Unix(990, 0)) {
		t.Errorf("first fix %+v", f)
	}
	if f := s.Fixes[1]; f.Vehicle != "8" || !f.Time.Equal(time.Unix(1000, 0)) {
		t.Errorf("a fix with no timestamp of its own takes the header's: %+v", f)
	}
	if s.SkippedCount != 2 || len(s.Skipped) != 2 {
		t.Fatalf("skipped %d (%v), want 2", s.SkippedCount, s.Skipped)
	}
	for i, want := range []string{`entity[2] (id "e-9"): vehicle "9": position 0,0`, `entity[3] (id "e-10"): vehicle "10": position 95`} {
		if !strings.Contains(s.Skipped[i].Error(), want) {
			t.Errorf("skipped[%d] = %q, want it to name %q", i, s.Skipped[i], want)
		}
	}
}

func TestDecodeGTFSRTRefuses(t *testing.T) {
	good := feedBytes(t, 1000, vehicleEntity{id: "7", lat: 44.4, lon: 8.9, ts: 990})
	diff := &rtpb.FeedMessage{Header: &rtpb.FeedHeader{GtfsRealtimeVersion: proto.String("2.0"), Incrementality: rtpb.FeedHeader_DIFFERENTIAL.Enum()}}
	db, _ := proto.Marshal(diff)
	v3 := &rtpb.FeedMessage{Header: &rtpb.FeedHeader{GtfsRealtimeVersion: proto.String("3.0")}}
	vb, _ := proto.Marshal(v3)
	for _, c := range []struct {
		name string
		b    []byte
		want string
	}{
		{"empty", nil, "empty document"},
		{"truncated", good[:len(good)-5], "not a FeedMessage"},
		{"html", []byte("<html><body>502 Bad Gateway</body></html>"), "not a FeedMessage"},
		{"differential", db, "DIFFERENTIAL"},
		{"version", vb, `gtfs_realtime_version "3.0"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := DecodeGTFSRT(c.b)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err %v, want one saying %q", err, c.want)
			}
		})
	}
}

func TestDecodeSIRI(t *testing.T) {
	b, err := os.ReadFile("testdata/vm.xml")
	if err != nil {
		t.Fatal(err)
	}
	s, err := DecodeSIRI(b)
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2026, 12, 6, 9, 0, 5, 0, time.UTC); !s.Time.Equal(want) {
		t.Errorf("feed time %v, want %v", s.Time, want)
	}
	if len(s.Fixes) != 2 {
		t.Fatalf("%d fixes, want 2", len(s.Fixes))
	}
	f := s.Fixes[0]
	if f.Vehicle != "4711" || f.Trip != "1-0-0900" || f.Route != "1" || f.Lat != 44.406 || f.Lon != 8.902 || f.Bearing == nil || *f.Bearing != 90 {
		t.Errorf("first fix %+v", f)
	}
	if want := time.Date(2026, 12, 6, 9, 0, 1, 0, time.UTC); !f.Time.Equal(want) {
		t.Errorf("first fix at %v, want %v", f.Time, want)
	}
	if g := s.Fixes[1]; g.Trip != "2-1-0930" || !g.Time.Equal(time.Date(2026, 12, 6, 9, 59, 58, 5e8, time.UTC)) {
		t.Errorf("second fix %+v: the journey from DatedVehicleJourneyRef, fractional seconds kept", g)
	}
	if s.SkippedCount != 1 || !strings.Contains(s.Skipped[0].Error(), `VehicleActivity[2] (VehicleRef "4713"): no VehicleLocation`) {
		t.Errorf("skipped %v", s.Skipped)
	}
}

func TestDecodeSIRIRefuses(t *testing.T) {
	for _, c := range []struct{ name, doc, want string }{
		{"empty", "  \n", "empty document"},
		{"not xml", "{\"Siri\":{}}", "not a SIRI document"},
		{"other root", "<Feed></Feed>", "not a SIRI document"},
		{"no delivery", "<Siri><ServiceDelivery></ServiceDelivery></Siri>", "no ServiceDelivery/VehicleMonitoringDelivery"},
		{"truncated", "<Siri><ServiceDelivery><VehicleMonitoringDelivery><VehicleActivity>", "not a SIRI document"},
		{"latin1", `<?xml version="1.0" encoding="ISO-8859-1"?><Siri/>`, "only UTF-8"},
		{"bad time", "<Siri><ServiceDelivery><ResponseTimestamp>yesterday</ResponseTimestamp><VehicleMonitoringDelivery/></ServiceDelivery></Siri>", `"yesterday" is not a date and time`},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := DecodeSIRI([]byte(c.doc))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err %v, want one saying %q", err, c.want)
			}
		})
	}
	s, err := DecodeSIRI([]byte(`<Siri><ServiceDelivery><VehicleMonitoringDelivery><VehicleActivity>
<RecordedAtTime>2026-12-06T10:00:00</RecordedAtTime><MonitoredVehicleJourney><VehicleRef>1</VehicleRef>
<VehicleLocation><Longitude>8.9</Longitude><Latitude>north</Latitude></VehicleLocation></MonitoredVehicleJourney>
</VehicleActivity></VehicleMonitoringDelivery></ServiceDelivery></Siri>`))
	if err != nil || s.SkippedCount != 1 || !strings.Contains(s.Skipped[0].Error(), "VehicleLocation/Latitude") {
		t.Errorf("a vehicle with a word for latitude: err %v, skipped %v", err, s.Skipped)
	}
}

func TestDecodeUnknownFormat(t *testing.T) {
	if _, err := Decode("json", []byte("{}")); err == nil || !strings.Contains(err.Error(), `unknown feed format "json"`) {
		t.Fatalf("err %v", err)
	}
	if _, err := Decode(FormatGTFSRT, nil); !errors.Is(err, ErrEmpty) {
		t.Fatalf("err %v, want ErrEmpty", err)
	}
}

// sharedRT returns the real GTFS-Realtime snapshots in
// ../shared/testdata/gtfs/<dir>, skipping when the shared data is absent.
func sharedRT(t testing.TB, dir, glob string) []string {
	t.Helper()
	root := filepath.Join("..", "..", "..", "..", "shared", "testdata", "gtfs", dir)
	if _, err := os.Stat(root); err != nil {
		t.Skipf("../shared/testdata/gtfs/%s is not here (a fresh machine): %v", dir, err)
	}
	files, err := filepath.Glob(filepath.Join(root, glob))
	if err != nil || len(files) == 0 {
		t.Fatalf("no %s in %s: %v", glob, root, err)
	}
	return files
}

// The real VehiclePositions snapshots decode whole: every entity a fix.
func TestDecodeRealSnapshots(t *testing.T) {
	for _, c := range []struct{ dir, glob string }{{"metrotransit-route2", "VehiclePositions_*.pb"}, {"caltrain", "ct-vehicle-positions.pb"}} {
		for _, f := range sharedRT(t, c.dir, c.glob) {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			s, err := DecodeGTFSRT(b)
			if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			if len(s.Fixes) < 5 || s.SkippedCount != 0 || s.Time.Year() < 2019 {
				t.Errorf("%s: %d fixes, %d skipped (%v), feed time %v", filepath.Base(f), len(s.Fixes), s.SkippedCount, s.Skipped, s.Time)
			}
			for _, fx := range s.Fixes {
				if fx.Trip == "" || fx.Time.IsZero() {
					t.Errorf("%s: fix without trip or time: %+v", filepath.Base(f), fx)
				}
			}
		}
	}
}

func FuzzDecode(f *testing.F) {
	f.Add([]byte{}, false)
	f.Add(feedBytes(f, 1000, vehicleEntity{id: "7", trip: "t", lat: 44.4, lon: 8.9, ts: 990}), false)
	if b, err := os.ReadFile("testdata/vm.xml"); err == nil {
		f.Add(b, true)
	}
	f.Add([]byte("<Siri><ServiceDelivery><VehicleMonitoringDelivery><VehicleActivity><RecordedAtTime>2026-12-06T10:00:00Z</RecordedAtTime></VehicleActivity></VehicleMonitoringDelivery></ServiceDelivery></Siri>"), true)
	f.Fuzz(func(t *testing.T, b []byte, siri bool) {
		format := FormatGTFSRT
		if siri {
			format = FormatSIRI
		}
		s, err := Decode(format, b)
		if err != nil {
			return
		}
		for _, fx := range s.Fixes {
			if fx.Vehicle == "" || fx.Time.IsZero() || checkLatLon(fx.Lat, fx.Lon) != nil {
				t.Fatalf("a fix the decoder should have skipped: %+v", fx)
			}
			if fx.Bearing != nil && (*fx.Bearing < 0 || *fx.Bearing >= 360) {
				t.Fatalf("bearing %v", *fx.Bearing)
			}
		}
		if s.SkippedCount < len(s.Skipped) || len(s.Skipped) > maxSkipped {
			t.Fatalf("skipped %d, listed %d", s.SkippedCount, len(s.Skipped))
		}
	})
}
