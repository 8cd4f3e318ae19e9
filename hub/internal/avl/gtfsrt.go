package avl

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	rtpb "github.com/MobilityData/gtfs-realtime-bindings/golang/gtfs"
	"google.golang.org/protobuf/proto"
)

// maxSnapshot bounds one recorded snapshot file.
const maxSnapshot = 64 << 20

// ReadGTFSRTDir reads a recorded GTFS-Realtime VehiclePositions feed: a
// folder of .pb snapshots, taken in file-name order (name them by time).
// A feed repeats each vehicle's last position in every snapshot until it
// reports again: a vehicle's position with the time of one already read is
// the same ping, taken once. Entities with no trip, vehicle, position or
// time are skipped, as Read skips such rows; a file that is not a
// FeedMessage is an error naming it.
func ReadGTFSRTDir(dir string) ([]Ping, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.pb"))
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("avl: no .pb snapshots in %s", dir)
	}
	sort.Strings(files)
	seen := map[[2]string]bool{} // (vehicle, unix time)
	var out []Ping
	for n, f := range files {
		st, err := os.Stat(f)
		if err != nil {
			return nil, err
		}
		if st.Size() > maxSnapshot {
			return nil, fmt.Errorf("avl: %s: %d bytes, more than %d", f, st.Size(), maxSnapshot)
		}
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		ps, err := snapshotPings(b)
		if err != nil {
			return nil, fmt.Errorf("avl: %s: %w", f, err)
		}
		for _, p := range ps {
			k := [2]string{p.Vehicle, fmt.Sprint(p.Time.Unix())}
			if seen[k] {
				continue
			}
			seen[k] = true
			p.Line = n + 1 // the snapshot's number, for errors
			out = append(out, p)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Time.Before(out[j].Time) })
	return out, nil
}

func snapshotPings(b []byte) ([]Ping, error) {
	if len(b) == 0 {
		return nil, errors.New("empty snapshot")
	}
	var msg rtpb.FeedMessage
	if err := proto.Unmarshal(b, &msg); err != nil {
		return nil, fmt.Errorf("not a GTFS-Realtime FeedMessage: %w", err)
	}
	var out []Ping
	for _, e := range msg.GetEntity() {
		vp := e.GetVehicle()
		if vp == nil || vp.GetTrip().GetTripId() == "" || vp.GetPosition() == nil || vp.GetTimestamp() == 0 {
			continue
		}
		id := vp.GetVehicle().GetId()
		if id == "" {
			id = e.GetId()
		}
		if id == "" || strings.ContainsAny(id, " /+#") {
			continue
		}
		pos := vp.GetPosition()
		p := Ping{
			Vehicle: id, Trip: vp.GetTrip().GetTripId(), Route: vp.GetTrip().GetRouteId(),
			StartDate: vp.GetTrip().GetStartDate(),
			Time:      time.Unix(int64(min(vp.GetTimestamp(), 253402300799)), 0).UTC(),
			Lat:       float64(pos.GetLatitude()), Lon: float64(pos.GetLongitude()),
			Bearing: math.NaN(), Speed: math.NaN(), StopSeq: -1,
		}
		if pos.Bearing != nil {
			p.Bearing = float64(pos.GetBearing())
		}
		if pos.Speed != nil {
			p.Speed = float64(pos.GetSpeed())
		}
		if vp.CurrentStopSequence != nil {
			p.StopSeq = int(vp.GetCurrentStopSequence())
		}
		if vp.CurrentStatus != nil {
			p.Status = fmt.Sprint(int32(vp.GetCurrentStatus()))
		}
		out = append(out, p)
	}
	return out, nil
}
