package tufeed

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	rtpb "github.com/MobilityData/gtfs-realtime-bindings/golang/gtfs"
	"google.golang.org/protobuf/proto"

	"github.com/headway-transit/headway/hub/internal/alerts"
	"github.com/headway-transit/headway/hub/internal/boards"
	"github.com/headway-transit/headway/hub/internal/engine"
	"github.com/headway-transit/headway/hub/internal/feedpoll"
	"github.com/headway-transit/headway/hub/internal/testfeed"
	"github.com/headway-transit/headway/internal/gtfs"
	"github.com/headway-transit/headway/internal/wire"
)

func demoFeed(t testing.TB) *gtfs.Feed { return testfeed.Demo(t) }

func tripUpdates(t testing.TB, tus ...*rtpb.TripUpdate) []byte {
	msg := &rtpb.FeedMessage{Header: &rtpb.FeedHeader{GtfsRealtimeVersion: proto.String("2.0"), Timestamp: proto.Uint64(1)}}
	for _, tu := range tus {
		msg.Entity = append(msg.Entity, &rtpb.FeedEntity{Id: proto.String(tu.GetTrip().GetTripId()), TripUpdate: tu})
	}
	b, err := proto.Marshal(msg)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func stu(seq uint32, delay int32) *rtpb.TripUpdate_StopTimeUpdate {
	return &rtpb.TripUpdate_StopTimeUpdate{StopSequence: proto.Uint32(seq), Arrival: &rtpb.TripUpdate_StopTimeEvent{Delay: proto.Int32(delay)}}
}

// The agency's TripUpdates on the demo feed: a run's delay carried to its
// later stops, a cancelled run and a skipped stop; then on the boards the
// prior shows where the hub tracks no bus, the cancelled run is gone and
// the skipped stop has no row for its trip.
func TestTripUpdatesOnTheBoards(t *testing.T) {
	feed := demoFeed(t)
	loc := feed.Location
	now := time.Date(2026, 12, 7, 8, 2, 0, 0, loc) // a Monday
	doc := tripUpdates(t,
		&rtpb.TripUpdate{Trip: &rtpb.TripDescriptor{TripId: proto.String("1-0-0800"), StartDate: proto.String("20261207")},
			Vehicle:        &rtpb.VehicleDescriptor{Id: proto.String("4711")},
			StopTimeUpdate: []*rtpb.TripUpdate_StopTimeUpdate{stu(2, 120), stu(4, 180)}},
		&rtpb.TripUpdate{Trip: &rtpb.TripDescriptor{TripId: proto.String("1-0-0810"), ScheduleRelationship: rtpb.TripDescriptor_CANCELED.Enum()}},
		&rtpb.TripUpdate{Trip: &rtpb.TripDescriptor{TripId: proto.String("1-0-0820")},
			StopTimeUpdate: []*rtpb.TripUpdate_StopTimeUpdate{stu(1, 0), {StopSequence: proto.Uint32(7), ScheduleRelationship: rtpb.TripUpdate_StopTimeUpdate_SKIPPED.Enum()}}},
		&rtpb.TripUpdate{Trip: &rtpb.TripDescriptor{TripId: proto.String("no-such-trip")}},
	)
	u, err := Decode(doc, "agency", "avl-", feed, now)
	if err != nil {
		t.Fatal(err)
	}
	if len(u.Skipped) != 1 || !strings.Contains(u.Skipped[0].Error(), `trip "no-such-trip" is not in the schedule`) {
		t.Errorf("skipped: %v", u.Skipped)
	}
	tr := feed.Trips["1-0-0800"]
	day := feed.ServiceDayStart(gtfs.DateOf(now, loc))
	run := u.Prior[boards.TripKey{Trip: "1-0-0800", DayStart: day.Unix()}]
	if len(run) != len(tr.StopTimes)-1 {
		t.Fatalf("1-0-0800: predictions at %d stops, want every stop from the second (%d)", len(run), len(tr.StopTimes)-1)
	}
	if got := run[1].Predicted.Sub(tr.ArrivalAt(day, 1)); got != 2*time.Minute || run[1].Vehicle != "avl-4711" {
		t.Errorf("stop 2: %+v (delay %v)", run[1], got)
	}
	if got := run[len(tr.StopTimes)-1].Predicted.Sub(tr.ArrivalAt(day, len(tr.StopTimes)-1)); got != 3*time.Minute {
		t.Errorf("the last stop's delay %v, want the last update's 3m carried on", got)
	}
	if len(u.Cancel) != 2 || !u.Cancel[0].Hidden || u.Cancel[0].Entities[0].Trip != "1-0-0810" || u.Cancel[1].Entities[0] != (alerts.Entity{Trip: "1-0-0820", Stop: "CEN"}) {
		out, _ := json.Marshal(u.Cancel)
		t.Fatalf("cancellations: %s", out)
	}

	// Through a poller into a store and an engine.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/x-protobuf")
		w.Write(doc)
	}))
	defer srv.Close()
	store := alerts.NewStore(feed)
	eng := engine.New(engine.Options{Feed: feed, Horizon: time.Hour, MaxRows: 20, Refresh: time.Minute, Stale: 5 * time.Minute,
		Skip: store.Skip, Now: func() time.Time { return now }})
	p, err := NewPoller(Config{Config: feedpoll.Config{Name: "agency", URL: srv.URL, Every: time.Minute, Timeout: time.Second, MaxBytes: 1 << 20}, VehiclePrefix: "avl-"},
		feed, Target{SetPrior: eng.SetPrior, Store: store}, nil, nil, func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Poll(context.Background()); err != nil {
		t.Fatal(err)
	}
	if h := p.Health(); !h.OK || h.Trips != 2 || h.Cancelled != 2 {
		t.Errorf("health %+v", h)
	}
	var b wire.Board
	if err := json.Unmarshal(eng.CurrentBoard("CEN"), &b); err != nil {
		t.Fatal(err)
	}
	rows := map[string]wire.Arrival{}
	for _, a := range b.Arrivals {
		rows[a.Trip] = a
	}
	if a, ok := rows["1-0-0800"]; !ok || a.Source != wire.SourceRealtime || a.Vehicle != "avl-4711" || a.Predicted.Sub(a.Scheduled) != 3*time.Minute {
		t.Errorf("1-0-0800 at CEN: %+v", a)
	}
	if _, ok := rows["1-0-0810"]; ok {
		t.Error("the cancelled 1-0-0810 is on CEN's board")
	}
	if _, ok := rows["1-0-0820"]; ok {
		t.Error("1-0-0820 skips CEN, yet is on its board")
	}
	if len(store.ForStop("CEN", now).Alerts) != 0 {
		t.Error("hidden cancellations reached the signs' alerts")
	}
}

// Caltrain's real TripUpdates snapshot: every update is read.
func TestCaltrainTripUpdates(t *testing.T) {
	root := filepath.Join("..", "..", "..", "..", "shared", "testdata", "gtfs", "caltrain")
	if _, err := os.Stat(root); err != nil {
		t.Skipf("../shared/testdata/gtfs/caltrain is not here (a fresh machine): %v", err)
	}
	feed, err := gtfs.Load(filepath.Join(root, "ct.zip"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(root, "ct-trip-updates.pb"))
	if err != nil {
		t.Fatal(err)
	}
	u, err := Decode(b, "caltrain", "", feed, time.Unix(1699405534, 0))
	if err != nil {
		t.Fatal(err)
	}
	if len(u.Prior) < 15 || len(u.Skipped) != 0 {
		t.Errorf("%d runs predicted, skipped %v", len(u.Prior), u.Skipped)
	}
}

func FuzzDecode(f *testing.F) {
	feed := demoFeed(f)
	f.Add(tripUpdates(f, &rtpb.TripUpdate{Trip: &rtpb.TripDescriptor{TripId: proto.String("1-0-0800")}, StopTimeUpdate: []*rtpb.TripUpdate_StopTimeUpdate{stu(2, 60)}}))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		u, err := Decode(b, "f", "", feed, time.Date(2026, 12, 7, 8, 0, 0, 0, time.UTC))
		if err != nil {
			return
		}
		for _, a := range u.Cancel {
			if err := a.Check(feed); err != nil {
				t.Fatalf("a cancellation the store would refuse: %v", err)
			}
		}
	})
}
