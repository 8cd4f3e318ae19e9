package gtfsrt_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	rtpb "github.com/MobilityData/gtfs-realtime-bindings/golang/gtfs"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/headway-transit/headway/hub/internal/engine"
	"github.com/headway-transit/headway/hub/internal/gtfsrt"
	"github.com/headway-transit/headway/hub/internal/ingest"
	"github.com/headway-transit/headway/hub/internal/testfeed"
	"github.com/headway-transit/headway/hub/internal/tracker"
	"github.com/headway-transit/headway/internal/geo"
	"github.com/headway-transit/headway/internal/gtfs"
	"github.com/headway-transit/headway/internal/wire"
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

// hub is an engine over feed, driven by hand, with its boards and its
// GTFS-Realtime endpoints.
type hub struct {
	feed   *gtfs.Feed
	clk    *clock
	eng    *engine.Engine
	boards map[string]wire.Board
	mux    *http.ServeMux
}

func newHub(t *testing.T, feed *gtfs.Feed, at time.Time) *hub {
	t.Helper()
	h := &hub{feed: feed, clk: &clock{at}, boards: map[string]wire.Board{}}
	h.eng = engine.New(engine.Options{
		Feed:    feed,
		Tracker: tracker.Config{MaxOffRoute: 100, MaxFuture: time.Minute},
		Horizon: 30 * time.Minute, MaxRows: 10, Refresh: time.Minute, Stale: time.Minute,
		Publish: []engine.Publisher{func(stop string, msg []byte) {
			b, err := wire.DecodeBoard(msg)
			if err != nil {
				t.Errorf("board of %s: %v", stop, err)
			}
			h.boards[stop] = b
		}},
		Now: h.clk.now,
	})
	h.mux = mux(h.eng, feed)
	return h
}

// mux routes the two feeds as the hub's server does.
func mux(src gtfsrt.Source, feed *gtfs.Feed) *http.ServeMux {
	rt := gtfsrt.NewHandler(src, gtfsrt.Builder{Feed: feed})
	m := http.NewServeMux()
	m.HandleFunc("GET /gtfs-rt/trip-updates", rt.TripUpdates)
	m.HandleFunc("GET /gtfs-rt/vehicle-positions", rt.VehiclePositions)
	return m
}

// fix sends one position, d metres east of testfeed.Origin, heading track.
func (h *hub) fix(t *testing.T, vehicle string, seq uint64, d, track float64) {
	t.Helper()
	p := geo.Offset(testfeed.Origin, 90, d)
	b, err := (&wire.Position{V: 1, Vehicle: vehicle, Seq: seq, Time: h.clk.t, Lat: p.Lat, Lon: p.Lon, Mode: 3, Speed: wire.Float(8), Track: wire.Float(track)}).Encode()
	if err != nil {
		t.Fatal(err)
	}
	h.eng.Handle(ingest.Message{Topic: wire.Topics{}.Position(vehicle), Payload: b, Received: h.clk.t})
}

// get fetches and decodes one feed, checking it on the way.
func (h *hub) get(t *testing.T, path string) *rtpb.FeedMessage {
	t.Helper()
	rec := httptest.NewRecorder()
	h.mux.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("GET %s: %d %s", path, rec.Code, rec.Body)
	}
	if ct := rec.Header().Get("Content-Type"); ct != gtfsrt.ContentTypeProtobuf {
		t.Errorf("GET %s: Content-Type %q", path, ct)
	}
	msg, err := gtfsrt.Decode(rec.Body.Bytes())
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	for _, err := range gtfsrt.Check(msg, h.feed) {
		t.Errorf("GET %s: %v", path, err)
	}
	return msg
}

func entity(msg *rtpb.FeedMessage, f func(*rtpb.FeedEntity) bool) *rtpb.FeedEntity {
	for _, e := range msg.GetEntity() {
		if f(e) {
			return e
		}
	}
	return nil
}

func byTrip(trip string) func(*rtpb.FeedEntity) bool {
	return func(e *rtpb.FeedEntity) bool { return e.GetTripUpdate().GetTrip().GetTripId() == trip }
}

func byVehicle(id string) func(*rtpb.FeedEntity) bool {
	return func(e *rtpb.FeedEntity) bool { return e.GetVehicle().GetVehicle().GetId() == id }
}

func TestFeedsFromEngine(t *testing.T) {
	day := time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)
	at := day.Add(8*time.Hour + 4*time.Minute + 10*time.Second)
	h := newHub(t, testfeed.Line(t), at)

	if got := h.get(t, "/gtfs-rt/trip-updates"); len(got.GetEntity()) != 0 || got.GetHeader().GetTimestamp() != uint64(at.Unix()) {
		t.Errorf("before any fix: %v", got)
	}

	// bus-1 runs E0800 a minute late, halfway from S1 to S2; bus-2 stands
	// at S3 heading west on W0800; bus-3 trails bus-1 on E0800, which
	// bus-1 claimed first and keeps.
	h.fix(t, "bus-1", 1, 1500, 90)
	h.fix(t, "bus-2", 1, 3000, 270)
	h.fix(t, "bus-3", 1, 1400, 90)
	h.eng.Flush()

	tu := h.get(t, "/gtfs-rt/trip-updates")
	hd := tu.GetHeader()
	if hd.GetGtfsRealtimeVersion() != "2.0" || hd.GetIncrementality() != rtpb.FeedHeader_FULL_DATASET || hd.GetTimestamp() != uint64(at.Unix()) {
		t.Errorf("header %v", hd)
	}
	e := entity(tu, byTrip("E0800"))
	if e == nil {
		t.Fatalf("no trip update for E0800 in %v", tu)
	}
	u := e.GetTripUpdate()
	want := &rtpb.TripDescriptor{
		TripId: proto.String("E0800"), RouteId: proto.String("R1"), DirectionId: proto.Uint32(0),
		StartTime: proto.String("08:00:00"), StartDate: proto.String("20261127"),
		ScheduleRelationship: rtpb.TripDescriptor_SCHEDULED.Enum(),
	}
	if !proto.Equal(u.GetTrip(), want) {
		t.Errorf("trip descriptor %v, want %v", u.GetTrip(), want)
	}
	if u.GetVehicle().GetId() != "bus-1" || u.GetTimestamp() != uint64(at.Unix()) {
		t.Errorf("vehicle %v timestamp %d", u.GetVehicle(), u.GetTimestamp())
	}
	// S2 (stop_sequence 3) is scheduled at 08:04:00, the bus is 60 s late.
	stus := u.GetStopTimeUpdate()
	if len(stus) != 3 || stus[0].GetStopId() != "S2" || stus[0].GetStopSequence() != 3 {
		t.Fatalf("stop_time_updates %v, want S2, S3, S4", stus)
	}
	if a, d := stus[0].GetArrival(), stus[0].GetDeparture(); a.GetTime() != day.Add(8*time.Hour+5*time.Minute).Unix() || a.GetDelay() != 60 ||
		d.GetTime() != day.Add(8*time.Hour+5*time.Minute+20*time.Second).Unix() || d.GetDelay() != 60 {
		t.Errorf("S2: arrival %v departure %v, want 08:05:00 and 08:05:20, 60 s late", a, d)
	}
	if last := stus[len(stus)-1]; last.GetDeparture() != nil {
		t.Errorf("departure from the terminus: %v", last)
	}
	// Signs and journey planners tell passengers the same time.
	matched := 0
	for _, s := range stus {
		b, ok := h.boards[s.GetStopId()]
		if !ok {
			continue
		}
		for _, a := range b.Arrivals {
			if a.Trip != "E0800" {
				continue
			}
			if a.Predicted == nil || a.Vehicle != "bus-1" || a.Predicted.Unix() != s.GetArrival().GetTime() || a.StopSequence != int(s.GetStopSequence()) {
				t.Errorf("stop %s: board says %+v, feed %v", s.GetStopId(), a, s)
			}
			matched++
		}
	}
	if matched < 2 {
		t.Errorf("only %d stop_time_updates found on boards %v", matched, h.boards)
	}
	if e := entity(tu, byTrip("W0800")); e == nil || e.GetTripUpdate().GetVehicle().GetId() != "bus-2" || e.GetTripUpdate().GetTrip().GetDirectionId() != 1 {
		t.Errorf("W0800: %v", e)
	}

	vp := h.get(t, "/gtfs-rt/vehicle-positions")
	if len(vp.GetEntity()) != 3 {
		t.Fatalf("%d vehicles, want 3: %v", len(vp.GetEntity()), vp)
	}
	tests := []struct {
		vehicle, trip, stop string
		seq                 uint32
		status              rtpb.VehiclePosition_VehicleStopStatus
		bearing             float32
	}{
		{"bus-1", "E0800", "S2", 3, rtpb.VehiclePosition_IN_TRANSIT_TO, 90},
		{"bus-2", "W0800", "S3", 2, rtpb.VehiclePosition_STOPPED_AT, 270},
		{"bus-3", "", "", 0, rtpb.VehiclePosition_IN_TRANSIT_TO, 90}, // E0800 is bus-1's
	}
	for _, tc := range tests {
		t.Run(tc.vehicle, func(t *testing.T) {
			e := entity(vp, byVehicle(tc.vehicle))
			if e == nil {
				t.Fatal("missing")
			}
			v := e.GetVehicle()
			if v.GetTrip().GetTripId() != tc.trip || v.GetStopId() != tc.stop || v.GetCurrentStopSequence() != tc.seq || v.GetCurrentStatus() != tc.status {
				t.Errorf("trip %q stop %q seq %d status %v, want %q %q %d %v",
					v.GetTrip().GetTripId(), v.GetStopId(), v.GetCurrentStopSequence(), v.GetCurrentStatus(), tc.trip, tc.stop, tc.seq, tc.status)
			}
			if tc.trip != "" && v.GetTrip().GetStartDate() != "20261127" {
				t.Errorf("start_date %q", v.GetTrip().GetStartDate())
			}
			p := v.GetPosition()
			if p.GetBearing() != tc.bearing || p.GetSpeed() != 8 || v.GetTimestamp() != uint64(at.Unix()) {
				t.Errorf("position %v timestamp %d", p, v.GetTimestamp())
			}
			if e.GetId() != tc.vehicle {
				t.Errorf("entity id %q", e.GetId())
			}
		})
	}

	// bus-1 falls silent: after the engine's Stale its predictions go, and
	// after MaxAge it leaves VehiclePositions too.
	h.clk.t = at.Add(70 * time.Second)
	h.eng.Refresh()
	if e := entity(h.get(t, "/gtfs-rt/trip-updates"), byTrip("E0800")); e != nil && e.GetTripUpdate().GetVehicle().GetId() == "bus-1" {
		t.Errorf("silent bus-1 still predicts E0800: %v", e)
	}
	h.clk.t = at.Add(gtfsrt.DefaultMaxAge + time.Second)
	h.eng.Refresh()
	if vp := h.get(t, "/gtfs-rt/vehicle-positions"); len(vp.GetEntity()) != 0 {
		t.Errorf("vehicles silent for %v still listed: %v", gtfsrt.DefaultMaxAge, vp)
	}
}

func TestJSONFormat(t *testing.T) {
	day := time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)
	h := newHub(t, testfeed.Line(t), day.Add(8*time.Hour+4*time.Minute+10*time.Second))
	h.fix(t, "bus-1", 1, 1500, 90)
	h.eng.Flush()
	for _, path := range []string{"/gtfs-rt/trip-updates", "/gtfs-rt/vehicle-positions"} {
		t.Run(path, func(t *testing.T) {
			pb := h.get(t, path)
			rec := httptest.NewRecorder()
			h.mux.ServeHTTP(rec, httptest.NewRequest("GET", path+"?format=json", nil))
			if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != gtfsrt.ContentTypeJSON {
				t.Fatalf("%d %q", rec.Code, rec.Header().Get("Content-Type"))
			}
			js := &rtpb.FeedMessage{}
			if err := protojson.Unmarshal(rec.Body.Bytes(), js); err != nil {
				t.Fatal(err)
			}
			if !proto.Equal(pb, js) {
				t.Errorf("JSON and protobuf feeds differ:\n%s", rec.Body)
			}
			// protojson's field names, as agencies' JSON decodes use.
			var raw struct {
				Header struct {
					Version string `json:"gtfsRealtimeVersion"`
				} `json:"header"`
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &raw); err != nil || raw.Header.Version != "2.0" {
				t.Errorf("JSON header %+v (%v):\n%s", raw.Header, err, rec.Body)
			}

			rec = httptest.NewRecorder()
			h.mux.ServeHTTP(rec, httptest.NewRequest("GET", path+"?format=xml", nil))
			if rec.Code != http.StatusBadRequest {
				t.Errorf("format=xml: %d", rec.Code)
			}
		})
	}
}

// nightFeed is a three-stop line in New York whose one trip, "N2510",
// leaves at 25:10:00 on Fridays' service: at 01:10 on Saturday morning.
func nightFeed(tb testing.TB) *gtfs.Feed {
	tb.Helper()
	var stops, times strings.Builder
	stops.WriteString("stop_id,stop_name,stop_lat,stop_lon\n")
	times.WriteString("trip_id,arrival_time,departure_time,stop_id,stop_sequence\n")
	for i := 0; i < 3; i++ {
		p := testfeed.StopPoint(i)
		fmt.Fprintf(&stops, "N%d,Night %d,%.7f,%.7f\n", i, i, p.Lat, p.Lon)
		arr := 25*3600 + 10*60 + i*120
		dep := arr + 20
		if i == 0 {
			dep = arr
		}
		fmt.Fprintf(&times, "N2510,%s,%s,N%d,%d\n", gtfs.FormatTime(arr), gtfs.FormatTime(dep), i, 10*(i+1))
	}
	f, err := gtfs.LoadFS(fstest.MapFS{
		"agency.txt":     {Data: []byte("agency_id,agency_name,agency_url,agency_timezone\nA,Night Transit,https://example.org,America/New_York\n")},
		"routes.txt":     {Data: []byte("route_id,agency_id,route_short_name,route_long_name,route_type\nOWL,A,N,Owl,3\n")},
		"calendar.txt":   {Data: []byte("service_id,monday,tuesday,wednesday,thursday,friday,saturday,sunday,start_date,end_date\nfri,0,0,0,0,1,0,0,20260101,20271231\n")},
		"trips.txt":      {Data: []byte("route_id,service_id,trip_id,direction_id\nOWL,fri,N2510,1\n")},
		"stops.txt":      {Data: []byte(stops.String())},
		"stop_times.txt": {Data: []byte(times.String())},
	})
	if err != nil {
		tb.Fatal(err)
	}
	return f
}

// TestTripPastMidnight: a run of Friday's service on Saturday morning is
// dated Friday, in the agency's time zone, and starts at 25:10:00.
func TestTripPastMidnight(t *testing.T) {
	feed := nightFeed(t)
	ny := feed.Location
	// Halfway from N1 (leaves 25:12:20) to N2 (25:14:00), a minute late.
	at := time.Date(2026, 11, 28, 1, 14, 10, 0, ny)
	h := newHub(t, feed, at)
	h.fix(t, "owl-1", 1, 1500, 90)
	h.eng.Flush()

	want := &rtpb.TripDescriptor{
		TripId: proto.String("N2510"), RouteId: proto.String("OWL"), DirectionId: proto.Uint32(1),
		StartTime: proto.String("25:10:00"), StartDate: proto.String("20261127"),
		ScheduleRelationship: rtpb.TripDescriptor_SCHEDULED.Enum(),
	}
	tu := h.get(t, "/gtfs-rt/trip-updates")
	e := entity(tu, byTrip("N2510"))
	if e == nil {
		t.Fatalf("no trip update for N2510: %v", tu)
	}
	if got := e.GetTripUpdate().GetTrip(); !proto.Equal(got, want) {
		t.Errorf("trip update descriptor %v, want %v", got, want)
	}
	if e.GetId() != "N2510@20261127" {
		t.Errorf("entity id %q", e.GetId())
	}
	stu := e.GetTripUpdate().GetStopTimeUpdate()
	if len(stu) != 1 || stu[0].GetStopSequence() != 30 || stu[0].GetArrival().GetTime() != time.Date(2026, 11, 28, 1, 15, 0, 0, ny).Unix() || stu[0].GetArrival().GetDelay() != 60 {
		t.Errorf("stop_time_updates %v, want N2 (30) at 01:15:00, 60 s late", stu)
	}
	vp := h.get(t, "/gtfs-rt/vehicle-positions")
	if v := entity(vp, byVehicle("owl-1")); v == nil || !proto.Equal(v.GetVehicle().GetTrip(), want) {
		t.Errorf("vehicle position %v, want trip %v", v, want)
	}
}

// TestUniqueIDs: many buses on many trips, ids unique in both feeds.
func TestUniqueIDs(t *testing.T) {
	day := time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)
	at := day.Add(12*time.Hour + 3*time.Minute)
	h := newHub(t, testfeed.Line(t), at)
	// Every eastbound and westbound bus on the road at 12:03, some twice
	// over (a second bus on each trip), with the same ids reused.
	n := 0
	for _, d := range []float64{200, 700, 1300, 2600, 3300, 3900} {
		for _, track := range []float64{90, 270} {
			n++
			h.fix(t, fmt.Sprintf("bus-%02d", n), 1, d, track)
			h.fix(t, fmt.Sprintf("bus-%02d", n), 2, d, track) // a duplicate
		}
	}
	h.eng.Flush()
	tu, vp := h.get(t, "/gtfs-rt/trip-updates"), h.get(t, "/gtfs-rt/vehicle-positions")
	if len(vp.GetEntity()) != n {
		t.Errorf("%d vehicles, want %d", len(vp.GetEntity()), n)
	}
	if len(tu.GetEntity()) < 2 {
		t.Errorf("only %d trip updates", len(tu.GetEntity()))
	}
	// Each predicted run's vehicle is the one VehiclePositions puts on it.
	onTrip := map[string]string{}
	for _, e := range vp.GetEntity() {
		if id := e.GetVehicle().GetTrip().GetTripId(); id != "" {
			if other, ok := onTrip[id]; ok {
				t.Errorf("trip %s on %s and %s", id, other, e.GetId())
			}
			onTrip[id] = e.GetVehicle().GetVehicle().GetId()
		}
	}
	if len(onTrip) < 2 || len(onTrip) == n {
		t.Errorf("%d of %d vehicles on trips: want some, and some left off a run another bus predicts", len(onTrip), n)
	}
	for _, e := range tu.GetEntity() {
		u := e.GetTripUpdate()
		if got := onTrip[u.GetTrip().GetTripId()]; got != u.GetVehicle().GetId() {
			t.Errorf("trip %s: predicted by %s, VehiclePositions says %s", u.GetTrip().GetTripId(), u.GetVehicle().GetId(), got)
		}
		if !sort.SliceIsSorted(u.GetStopTimeUpdate(), func(i, j int) bool {
			return u.GetStopTimeUpdate()[i].GetStopSequence() < u.GetStopTimeUpdate()[j].GetStopSequence()
		}) {
			t.Errorf("%s: stop_time_updates out of order", e.GetId())
		}
	}
}

// TestServeWhileRunning polls the feeds while Run applies fixes, for the
// race detector's sake.
func TestServeWhileRunning(t *testing.T) {
	feed := testfeed.Line(t)
	start := time.Now()
	day := time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)
	base := day.Add(8*time.Hour + 4*time.Minute)
	// Simulated time moves with the wall clock from 08:04.
	now := func() time.Time { return base.Add(time.Since(start)) }
	eng := engine.New(engine.Options{
		Feed: feed, Tracker: tracker.Config{MaxOffRoute: 100, MaxFuture: time.Minute},
		Horizon: 30 * time.Minute, MaxRows: 10, Refresh: 10 * time.Millisecond, Stale: time.Minute, Now: now,
	})
	srv := httptest.NewServer(mux(eng, feed))
	defer srv.Close()
	msgs := make(chan ingest.Message, 16)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- eng.Run(ctx, msgs) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()

	go func() {
		for i := 0; i < 50 && ctx.Err() == nil; i++ {
			p := geo.Offset(testfeed.Origin, 90, 1500+float64(i))
			b, _ := (&wire.Position{V: 1, Vehicle: "bus-1", Seq: uint64(i + 1), Time: now(), Lat: p.Lat, Lon: p.Lon, Mode: 3,
				Speed: wire.Float(8), Track: wire.Float(90)}).Encode() // eastbound: E0800 plainly, not W0800 (see engine.DefaultSettle)
			select {
			case msgs <- ingest.Message{Topic: wire.Topics{}.Position("bus-1"), Payload: b}:
			case <-ctx.Done():
				return
			}
			time.Sleep(time.Millisecond)
		}
	}()
	deadline := time.Now().Add(5 * time.Second)
	for {
		var msgs [2]*rtpb.FeedMessage
		for i, path := range []string{"/gtfs-rt/trip-updates", "/gtfs-rt/vehicle-positions"} {
			resp, err := http.Get(srv.URL + path)
			if err != nil {
				t.Fatal(err)
			}
			b, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil {
				t.Fatal(err)
			}
			if msgs[i], err = gtfsrt.Decode(b); err != nil {
				t.Fatal(err)
			}
			for _, err := range gtfsrt.Check(msgs[i], feed) {
				t.Errorf("%s: %v", path, err)
			}
		}
		if entity(msgs[0], byTrip("E0800")) != nil && entity(msgs[1], byVehicle("bus-1")) != nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("bus-1 never showed up: %v %v", msgs[0], msgs[1])
		}
		time.Sleep(5 * time.Millisecond)
	}
}
