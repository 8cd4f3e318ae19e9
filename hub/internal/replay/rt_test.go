package replay

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	rtpb "github.com/MobilityData/gtfs-realtime-bindings/golang/gtfs"
	"google.golang.org/protobuf/proto"

	"github.com/headway-transit/headway/hub/internal/avl"
)

// writeSnapshots turns recorded pings into what polling an agency's
// VehiclePositions feed every `every` would have saved: one .pb per poll,
// each listing every vehicle's latest position not older than five minutes
// (so a position is repeated in the snapshots until the next one, as feeds
// do). Two pings of one vehicle within one poll: the first is never seen.
func writeSnapshots(t testing.TB, dir string, pings []avl.Ping, every time.Duration) int {
	t.Helper()
	latest := map[string]avl.Ping{}
	files, i := 0, 0
	for at := pings[0].Time.Add(every); i < len(pings) || at.Sub(pings[len(pings)-1].Time) < every; at = at.Add(every) {
		for ; i < len(pings) && pings[i].Time.Before(at); i++ {
			latest[pings[i].Vehicle] = pings[i]
		}
		msg := &rtpb.FeedMessage{Header: &rtpb.FeedHeader{GtfsRealtimeVersion: proto.String("2.0"),
			Incrementality: rtpb.FeedHeader_FULL_DATASET.Enum(), Timestamp: proto.Uint64(uint64(at.Unix()))}}
		for v, p := range latest {
			if at.Sub(p.Time) > 5*time.Minute {
				delete(latest, v)
				continue
			}
			vp := &rtpb.VehiclePosition{
				Trip:      &rtpb.TripDescriptor{TripId: proto.String(p.Trip), RouteId: proto.String(p.Route), StartDate: proto.String(p.StartDate)},
				Vehicle:   &rtpb.VehicleDescriptor{Id: proto.String(p.Vehicle)},
				Position:  &rtpb.Position{Latitude: proto.Float32(float32(p.Lat)), Longitude: proto.Float32(float32(p.Lon))},
				Timestamp: proto.Uint64(uint64(p.Time.Unix())),
			}
			if !math.IsNaN(p.Bearing) {
				vp.Position.Bearing = proto.Float32(float32(p.Bearing))
			}
			if !math.IsNaN(p.Speed) {
				vp.Position.Speed = proto.Float32(float32(p.Speed))
			}
			if p.StopSeq >= 0 {
				vp.CurrentStopSequence = proto.Uint32(uint32(p.StopSeq))
			}
			msg.Entity = append(msg.Entity, &rtpb.FeedEntity{Id: proto.String(v), Vehicle: vp})
		}
		b, err := proto.Marshal(msg)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("vp-%d.pb", at.Unix())), b, 0o644); err != nil {
			t.Fatal(err)
		}
		files++
	}
	return files
}

// TestReplayFromRecordedFeed: the WMATA day as a folder of GTFS-Realtime
// snapshots (polled every 10 s), read back through avl.ReadGTFSRTDir and
// replayed, scores as the CSV does, within half a point in band.
func TestReplayFromRecordedFeed(t *testing.T) {
	feed, pings, _ := loadWMATA(t)
	dir := t.TempDir()
	files := writeSnapshots(t, dir, pings, 10*time.Second)
	fromFeed, err := avl.ReadGTFSRTDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d CSV pings, %d snapshots, %d pings read back", len(pings), files, len(fromFeed))
	if len(fromFeed) < len(pings)*95/100 || len(fromFeed) > len(pings) {
		t.Fatalf("%d pings from the snapshots, %d in the CSV", len(fromFeed), len(pings))
	}
	csvRes, err := Run(Options{Feed: feed, Pings: pings})
	if err != nil {
		t.Fatal(err)
	}
	rtRes, err := Run(Options{Feed: feed, Pings: fromFeed})
	if err != nil {
		t.Fatal(err)
	}
	c, r := csvRes.Score, rtRes.Score
	t.Logf("CSV: %.2f%% in band, MAE %.0f/%.0f/%.0f/%.0f s; snapshots: %.2f%% in band, MAE %.0f/%.0f/%.0f/%.0f s",
		c.InBandPct, c.MAE[0], c.MAE[1], c.MAE[2], c.MAE[3], r.InBandPct, r.MAE[0], r.MAE[1], r.MAE[2], r.MAE[3])
	if math.Abs(c.InBandPct-r.InBandPct) > 0.5 {
		t.Errorf("in band: CSV %.2f%%, snapshots %.2f%%: more than 0.5 points apart", c.InBandPct, r.InBandPct)
	}
	if r.Scored < c.Scored*9/10 {
		t.Errorf("scored: CSV %d, snapshots %d", c.Scored, r.Scored)
	}
}

func TestReadGTFSRTDirRefuses(t *testing.T) {
	dir := t.TempDir()
	if _, err := avl.ReadGTFSRTDir(dir); err == nil {
		t.Error("an empty folder was read")
	}
	if err := os.WriteFile(filepath.Join(dir, "a.pb"), []byte("<html>"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := avl.ReadGTFSRTDir(dir); err == nil || !strings.Contains(err.Error(), "a.pb: not a GTFS-Realtime FeedMessage") {
		t.Errorf("a broken snapshot: err %v, want one naming the file", err)
	}
}
