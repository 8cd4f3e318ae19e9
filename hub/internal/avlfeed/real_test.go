package avlfeed_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/headway-transit/headway/hub/internal/avlfeed"
	"github.com/headway-transit/headway/hub/internal/engine"
	"github.com/headway-transit/headway/hub/internal/ingest"
	"github.com/headway-transit/headway/hub/internal/predict"
	"github.com/headway-transit/headway/hub/internal/tracker"
	"github.com/headway-transit/headway/internal/gtfs"
	"github.com/headway-transit/headway/internal/wire"
)

// Real VehiclePositions snapshots (Metro Transit's three, Caltrain's one),
// served one after the other by a local HTTP server, reach the tracker
// through the feed path and put the agency's vehicles on the boards with
// realtime arrivals.
func TestRealFeedsMakeBoards(t *testing.T) {
	for _, c := range []struct {
		dir, schedule, glob   string
		snaps, tracked, shown int // at least
	}{
		{"metrotransit-route2", "gtfs.zip", "VehiclePositions_*.pb", 3, 10, 6},
		{"caltrain", "ct.zip", "ct-vehicle-positions.pb", 1, 12, 9},
	} {
		t.Run(c.dir, func(t *testing.T) {
			root := filepath.Join("..", "..", "..", "..", "shared", "testdata", "gtfs", c.dir)
			if _, err := os.Stat(root); err != nil {
				t.Skipf("../shared/testdata/gtfs/%s is not here (a fresh machine): %v", c.dir, err)
			}
			feed, err := gtfs.Load(filepath.Join(root, c.schedule))
			if err != nil {
				t.Fatal(err)
			}
			snaps, _ := filepath.Glob(filepath.Join(root, c.glob))
			sort.Strings(snaps)
			if len(snaps) != c.snaps {
				t.Fatalf("want %d snapshots, found %v", c.snaps, snaps)
			}
			feedMakesBoards(t, feed, snaps, c.tracked, c.shown)
		})
	}
}

func feedMakesBoards(t *testing.T, feed *gtfs.Feed, snaps []string, wantTracked, wantShown int) {
	var err error
	docs := make([][]byte, len(snaps))
	for i, f := range snaps {
		if docs[i], err = os.ReadFile(f); err != nil {
			t.Fatal(err)
		}
	}
	var cur atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/x-protobuf")
		w.Write(docs[cur.Load()])
	}))
	defer srv.Close()

	first, err := avlfeed.DecodeGTFSRT(docs[0])
	if err != nil {
		t.Fatal(err)
	}
	now := first.Time.Add(5 * time.Second)
	clock := func() time.Time { return now }
	eng := engine.New(engine.Options{
		Feed: feed, Predictor: predict.NewLearned(feed, predict.LearnedConfig{}),
		Tracker: tracker.Config{MaxOffRoute: 150, MaxFuture: 2 * time.Minute},
		Horizon: 90 * time.Minute, MaxRows: 20, Refresh: time.Minute, Stale: 5 * time.Minute,
		Now: clock,
	})
	src, err := avlfeed.New(avlfeed.Options{
		Feed: avlfeed.Config{Name: "agency", URL: srv.URL + "/VehiclePositions.pb", Every: 30 * time.Second,
			Timeout: 5 * time.Second, Prefix: "mt-", MaxAge: 5 * time.Minute, MaxBytes: 1 << 20},
		Enqueue: func(topic string, b []byte) bool {
			eng.Handle(ingest.Message{Topic: topic, Payload: b, Received: now})
			return true
		},
		Now: clock,
	})
	if err != nil {
		t.Fatal(err)
	}
	for i := range docs {
		cur.Store(int32(i))
		snap, _ := avlfeed.DecodeGTFSRT(docs[i])
		now = snap.Time.Add(5 * time.Second)
		if err := src.Poll(context.Background()); err != nil {
			t.Fatalf("snapshot %d: %v", i, err)
		}
	}
	eng.Flush()
	h := src.Health()
	if int(h.Positions[avlfeed.Accepted]) < wantTracked || !h.OK {
		t.Fatalf("health %+v", h)
	}

	// Every agency bus the hub tracks on a trip of route 2, and boards
	// with their realtime arrivals.
	tracked := 0
	for _, v := range eng.Vehicles() {
		if strings.HasPrefix(v.ID, "mt-") && v.Trip != "" {
			tracked++
		}
	}
	onBoards := map[string]bool{}
	for id := range feed.Stops {
		b := eng.Board(id)
		if b == nil {
			continue
		}
		var board wire.Board
		if err := json.Unmarshal(b, &board); err != nil {
			t.Fatal(err)
		}
		for _, a := range board.Arrivals {
			if a.Source == wire.SourceRealtime && strings.HasPrefix(a.Vehicle, "mt-") {
				onBoards[a.Vehicle] = true
			}
		}
	}
	t.Logf("%d fixes taken (%v); %d buses tracked on a trip, %d with realtime rows on the boards", h.Positions[avlfeed.Accepted], h.Positions, tracked, len(onBoards))
	if tracked < wantTracked || len(onBoards) < wantShown {
		t.Errorf("%d of the feed's vehicles tracked on a trip (want %d), %d on the boards (want %d)", tracked, wantTracked, len(onBoards), wantShown)
	}
}
