package gtfsrt_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	rtpb "github.com/MobilityData/gtfs-realtime-bindings/golang/gtfs"
	"google.golang.org/protobuf/proto"

	"github.com/headway-transit/headway/hub/internal/engine"
	"github.com/headway-transit/headway/hub/internal/gtfsrt"
	"github.com/headway-transit/headway/hub/internal/testfeed"
	"github.com/headway-transit/headway/internal/gtfs"
)

// goodFeeds builds both feeds of a hand-made snapshot: bus-1 on E0800,
// bus-2 on W0800, over testfeed.Line.
func goodFeeds(t testing.TB) (*gtfs.Feed, *rtpb.FeedMessage, *rtpb.FeedMessage) {
	t.Helper()
	feed := testfeed.Line(t)
	day := time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)
	at := day.Add(8*time.Hour + 4*time.Minute)
	run := func(trip, vehicle string) engine.RealtimeRun {
		r := engine.RealtimeRun{Trip: trip, DayStart: day, Vehicle: vehicle}
		for i, st := range feed.Trips[trip].StopTimes[2:] {
			r.Stops = append(r.Stops, engine.RealtimeStop{Index: i + 2, StopID: st.StopID, Sequence: st.Sequence, Predicted: feed.Trips[trip].ArrivalAt(day, i+2).Add(time.Minute)})
		}
		return r
	}
	s := &engine.RealtimeSnapshot{At: at, Seq: 1,
		Vehicles: []engine.RealtimeVehicle{
			{ID: "bus-1", Time: at, Lat: 45, Lon: 9.02, Trip: "E0800", DayStart: day, Dist: 1500, FixTime: at},
			{ID: "bus-2", Time: at, Lat: 45, Lon: 9.03, Trip: "W0800", DayStart: day, Dist: 1500, FixTime: at},
		},
		Runs: []engine.RealtimeRun{run("E0800", "bus-1"), run("W0800", "bus-2")},
	}
	b := gtfsrt.Builder{Feed: feed}
	return feed, b.TripUpdates(s), b.VehiclePositions(s)
}

func TestCheckFindsProblems(t *testing.T) {
	tests := []struct {
		name   string
		vp     bool // break the VehiclePositions feed, not TripUpdates
		mutate func(m *rtpb.FeedMessage)
		field  string // of the problem expected
	}{
		{name: "version", mutate: func(m *rtpb.FeedMessage) { m.Header.GtfsRealtimeVersion = proto.String("3.0") }, field: "header.gtfs_realtime_version"},
		{name: "differential", mutate: func(m *rtpb.FeedMessage) { m.Header.Incrementality = rtpb.FeedHeader_DIFFERENTIAL.Enum() }, field: "header.incrementality"},
		{name: "no timestamp", mutate: func(m *rtpb.FeedMessage) { m.Header.Timestamp = nil }, field: "header.timestamp"},
		{name: "duplicate entity id", mutate: func(m *rtpb.FeedMessage) { m.Entity[1].Id = m.Entity[0].Id }, field: "id"},
		{name: "empty entity", mutate: func(m *rtpb.FeedMessage) { m.Entity[1].TripUpdate = nil }, field: "entity"},
		{name: "unknown trip", mutate: func(m *rtpb.FeedMessage) { m.Entity[0].TripUpdate.Trip.TripId = proto.String("nope") }, field: "trip_update.trip.trip_id"},
		{name: "unknown route", mutate: func(m *rtpb.FeedMessage) { m.Entity[0].TripUpdate.Trip.RouteId = proto.String("R9") }, field: "trip_update.trip.route_id"},
		{name: "wrong direction", mutate: func(m *rtpb.FeedMessage) { m.Entity[0].TripUpdate.Trip.DirectionId = proto.Uint32(1) }, field: "trip_update.trip.direction_id"},
		{name: "wrong start time", mutate: func(m *rtpb.FeedMessage) { m.Entity[0].TripUpdate.Trip.StartTime = proto.String("08:10:00") }, field: "trip_update.trip.start_time"},
		{name: "bad start date", mutate: func(m *rtpb.FeedMessage) { m.Entity[0].TripUpdate.Trip.StartDate = proto.String("2026-11-27") }, field: "trip_update.trip.start_date"},
		{name: "no service that day", mutate: func(m *rtpb.FeedMessage) { m.Entity[0].TripUpdate.Trip.StartDate = proto.String("21000101") }, field: "trip_update.trip.start_date"},
		{name: "unknown stop", mutate: func(m *rtpb.FeedMessage) { m.Entity[0].TripUpdate.StopTimeUpdate[1].StopId = proto.String("S9") }, field: "trip_update.stop_time_update[1].stop_id"},
		{name: "stop not at that sequence", mutate: func(m *rtpb.FeedMessage) { m.Entity[0].TripUpdate.StopTimeUpdate[1].StopId = proto.String("S0") }, field: "trip_update.stop_time_update[1].stop_id"},
		{name: "unknown sequence", mutate: func(m *rtpb.FeedMessage) { m.Entity[0].TripUpdate.StopTimeUpdate[2].StopSequence = proto.Uint32(99) }, field: "trip_update.stop_time_update[2].stop_sequence"},
		{name: "unsorted", mutate: func(m *rtpb.FeedMessage) {
			u := m.Entity[0].TripUpdate.StopTimeUpdate
			u[0], u[1] = u[1], u[0]
		}, field: "trip_update.stop_time_update[1].stop_sequence"},
		{name: "time backwards", mutate: func(m *rtpb.FeedMessage) {
			m.Entity[0].TripUpdate.StopTimeUpdate[1].Arrival.Time = proto.Int64(0)
		}, field: "trip_update.stop_time_update[1].arrival.time"},
		{name: "no stops", mutate: func(m *rtpb.FeedMessage) { m.Entity[0].TripUpdate.StopTimeUpdate = nil }, field: "trip_update.stop_time_update"},
		{name: "same run twice", mutate: func(m *rtpb.FeedMessage) {
			m.Entity[1].TripUpdate.Trip = proto.Clone(m.Entity[0].TripUpdate.Trip).(*rtpb.TripDescriptor)
			m.Entity[1].TripUpdate.StopTimeUpdate = m.Entity[0].TripUpdate.StopTimeUpdate
		}, field: "trip_update.trip"},
		{name: "duplicate vehicle", vp: true, mutate: func(m *rtpb.FeedMessage) { m.Entity[1].Vehicle.Vehicle.Id = proto.String("bus-1") }, field: "vehicle.vehicle.id"},
		{name: "null island", vp: true, mutate: func(m *rtpb.FeedMessage) {
			m.Entity[0].Vehicle.Position.Latitude, m.Entity[0].Vehicle.Position.Longitude = proto.Float32(0), proto.Float32(0)
		}, field: "vehicle.position"},
		{name: "vehicle stop not on trip", vp: true, mutate: func(m *rtpb.FeedMessage) {
			m.Entity[0].Vehicle.CurrentStopSequence = nil
			m.Entity[0].Vehicle.StopId = proto.String("nope")
		}, field: "vehicle.stop_id"},
		{name: "vehicle unknown trip", vp: true, mutate: func(m *rtpb.FeedMessage) { m.Entity[0].Vehicle.Trip.TripId = proto.String("nope") }, field: "vehicle.trip.trip_id"},
	}
	feed, tu, vp := goodFeeds(t)
	for _, m := range []*rtpb.FeedMessage{tu, vp} {
		if errs := gtfsrt.Check(m, feed); len(errs) != 0 {
			t.Fatalf("good feed fails: %v", errs)
		}
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := proto.Clone(tu).(*rtpb.FeedMessage)
			if tc.vp {
				m = proto.Clone(vp).(*rtpb.FeedMessage)
			}
			tc.mutate(m)
			errs := gtfsrt.Check(m, feed)
			for _, err := range errs {
				var p *gtfsrt.Problem
				if errors.As(err, &p) && p.Field == tc.field {
					return
				}
			}
			t.Errorf("no problem with %s among %v", tc.field, errs)
		})
	}
}

func TestDecodeRejectsGarbage(t *testing.T) {
	for _, b := range [][]byte{[]byte("not a feed"), {0x0a, 0x02, 0x08}} {
		if _, err := gtfsrt.Decode(b); err == nil {
			t.Errorf("%q decoded", b)
		}
	}
	// A message without its required header is not a feed.
	b, err := proto.Marshal(&rtpb.FeedMessage{Entity: []*rtpb.FeedEntity{{Id: proto.String("x")}}})
	if err == nil {
		if _, err := gtfsrt.Decode(b); err == nil {
			t.Error("feed without header decoded")
		}
	}
}

// FuzzDecode: any bytes are decoded or refused, and any decoded message
// checked, without a panic.
func FuzzDecode(f *testing.F) {
	feed, tu, vp := goodFeeds(f)
	for _, m := range []*rtpb.FeedMessage{tu, vp} {
		b, err := proto.Marshal(m)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, name := range []string{"caltrain/ct-trip-updates.pb", "metrotransit-route2/VehiclePositions_20190619104102.pb"} {
		if b, err := os.ReadFile(filepath.Join("..", "..", "..", "..", "shared", "testdata", "gtfs", name)); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		msg, err := gtfsrt.Decode(b)
		if err != nil {
			return
		}
		_ = gtfsrt.Check(msg, feed)
	})
}
