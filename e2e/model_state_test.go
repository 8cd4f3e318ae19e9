package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/headway-transit/headway/internal/gtfs"
	"github.com/headway-transit/headway/internal/wire"
)

// TestHubKeepsLearnedModel: what the hub learned from a bus's trip is in
// its state file when it stops, is loaded when it starts again, and a
// damaged file is reported and does not keep the hub down.
func TestHubKeepsLearnedModel(t *testing.T) {
	skipShort(t)
	feed, err := gtfs.Load(filepath.Join(bins.root, "configs/demo-feed"))
	if err != nil {
		t.Fatal(err)
	}
	s, cfg := startHubConfig(t, func(dir string) string {
		return fmt.Sprintf("state: %q\nstate_every: 1s\n", filepath.Join(dir, "model.json"))
	})
	statePath := filepath.Join(s.dir, "model.json")

	// A bus on the route 1 trip that left last, at least 10 minutes ago
	// (today's service or yesterday's), drives its first stops: fixes
	// every 10 s, sent at once.
	now := time.Now()
	var trip *gtfs.Trip
	var start time.Time
	for _, date := range []gtfs.Date{gtfs.DateOf(now, feed.Location), gtfs.DateOf(now, feed.Location).AddDays(-1)} {
		ds := feed.ServiceDayStart(date)
		for _, tr := range feed.Trips {
			dep := tr.DepartureAt(ds, 0)
			if tr.RouteID == "1" && tr.Path != nil && feed.ServiceRunsOn(tr.ServiceID, date) && dep.Before(now.Add(-10*time.Minute)) && dep.After(start) {
				trip, start = tr, dep
			}
		}
	}
	if trip == nil {
		t.Fatal("no route 1 trip in the demo feed today or yesterday")
	}
	t.Logf("bus-9 on %s, which left at %s", trip.ID, start.Format(time.DateTime))
	c := mqtt.NewClient(mqtt.NewClientOptions().AddBroker(s.mqttURL).SetClientID("bus-9"))
	if tok := c.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("connect: %v", tok.Error())
	}
	defer c.Disconnect(100)
	topics := wire.Topics{}
	const n = 60
	for i := 0; i < n; i++ {
		d := float64(i) * 80 // 8 m/s, a fix every 10 s
		pt, track := trip.Path.At(d)
		p := wire.Position{V: wire.Version, Vehicle: "bus-9", Seq: uint64(i + 1), Time: start.Add(time.Duration(i) * 10 * time.Second).UTC(),
			Lat: pt.Lat, Lon: pt.Lon, Speed: wire.Float(8), Track: wire.Float(track), Mode: 3, Trip: trip.ID}
		b, err := p.Encode()
		if err != nil {
			t.Fatal(err)
		}
		if tok := c.Publish(topics.Position("bus-9"), 1, false, b); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
			t.Fatalf("publish: %v", tok.Error())
		}
	}
	eventually(t, 20*time.Second, "the hub to take the bus's fixes", func() bool {
		v, ok := s.vehicle(t, "bus-9")
		return ok && v.Accepted == n
	})

	// Stopped, the hub saves what it learned.
	s.hub.stop(t)
	var saved struct {
		Model struct {
			Segments []struct{ From, To string } `json:"segments"`
		} `json:"model"`
		Vehicles map[string]struct {
			Low uint64 `json:"low"`
		} `json:"vehicles"`
	}
	b, err := os.ReadFile(statePath)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &saved); err != nil || len(saved.Model.Segments) < 3 || saved.Vehicles["bus-9"].Low != n {
		t.Fatalf("state file: %d segments, bus-9 seen to seq %d, %v; want the trip's first segments and seq %d", len(saved.Model.Segments), saved.Vehicles["bus-9"].Low, err, n)
	}
	t.Logf("state file: %d bytes, %d segments", len(b), len(saved.Model.Segments))

	s.restartHub(t, cfg)
	eventually(t, 10*time.Second, "the hub to load its model and the bus's seqs", func() bool {
		out := s.hub.output()
		return strings.Contains(out, "learned model loaded") && strings.Contains(out, "vehicles' seqs loaded")
	})
	// The hub remembers which fixes it had: one sent again (the broker
	// redelivering it, say) is a duplicate, a new one is taken.
	for _, seq := range []uint64{5, n + 1} {
		pt, track := trip.Path.At(float64(seq-1) * 80)
		p := wire.Position{V: wire.Version, Vehicle: "bus-9", Seq: seq, Time: start.Add(time.Duration(seq-1) * 10 * time.Second).UTC(),
			Lat: pt.Lat, Lon: pt.Lon, Speed: wire.Float(8), Track: wire.Float(track), Mode: 3, Trip: trip.ID, Backfill: seq == 5}
		b, _ := p.Encode()
		if tok := c.Publish(topics.Position("bus-9"), 1, false, b); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
			t.Fatalf("publish: %v", tok.Error())
		}
	}
	eventually(t, 20*time.Second, "seq 5 a duplicate and seq 61 taken after the restart", func() bool {
		v, ok := s.vehicle(t, "bus-9")
		return ok && v.Duplicates == 1 && v.Accepted == 1 && v.Seq == n+1
	})
	s.hub.stop(t)

	// A damaged file: the hub says so and starts afresh.
	if err := os.WriteFile(statePath, []byte(`{"version":1,"model":{"version":1,"segments":[{"from":""`), 0o644); err != nil {
		t.Fatal(err)
	}
	s.restartHub(t, cfg)
	eventually(t, 10*time.Second, "the hub to report the damaged model file", func() bool {
		out := s.hub.output()
		return strings.Contains(out, "state not loaded") && strings.Contains(out, statePath)
	})
}
