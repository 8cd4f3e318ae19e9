package gtfsrt

import (
	"math"

	rtpb "github.com/MobilityData/gtfs-realtime-bindings/golang/gtfs"
	"google.golang.org/protobuf/proto"

	"github.com/headway-transit/headway/hub/internal/engine"
	"github.com/headway-transit/headway/internal/gtfs"
)

// VehiclePositions builds the VehiclePositions feed of s: one entity per
// vehicle heard from within MaxAge, with its trip when it is on one. A trip
// run goes to one vehicle only, the one whose predictions TripUpdates
// carries, so the two feeds never disagree on who runs a trip.
func (b *Builder) VehiclePositions(s *engine.RealtimeSnapshot) *rtpb.FeedMessage {
	msg := header(s.At)
	claimed := make(map[runKey]string, len(s.Runs))
	for _, r := range s.Runs {
		if r.Vehicle != "" {
			claimed[keyOf(r.Trip, r.DayStart)] = r.Vehicle
		}
	}
	maxAge := b.maxAge()
	for _, v := range s.Vehicles {
		if v.Time.IsZero() || s.At.Sub(v.Time) > maxAge || !validLatLon(v.Lat, v.Lon) {
			continue
		}
		vp := &rtpb.VehiclePosition{
			Vehicle:   &rtpb.VehicleDescriptor{Id: proto.String(v.ID)},
			Position:  &rtpb.Position{Latitude: proto.Float32(float32(v.Lat)), Longitude: proto.Float32(float32(v.Lon))},
			Timestamp: proto.Uint64(unix(v.Time)),
		}
		if v.Bearing != nil && *v.Bearing >= 0 && *v.Bearing <= 360 {
			vp.Position.Bearing = proto.Float32(float32(*v.Bearing))
		}
		if v.Speed != nil && *v.Speed >= 0 && !math.IsInf(*v.Speed, 0) {
			vp.Position.Speed = proto.Float32(float32(*v.Speed))
		}
		if tr := b.Feed.Trips[v.Trip]; tr != nil && len(tr.StopTimes) > 0 {
			k := keyOf(v.Trip, v.DayStart)
			if owner, ok := claimed[k]; !ok || owner == v.ID {
				claimed[k] = v.ID
				vp.Trip = b.descriptor(tr, v.DayStart)
				i, status := stopStatus(tr, v.Dist)
				vp.CurrentStopSequence = proto.Uint32(uint32(max(tr.StopTimes[i].Sequence, 0)))
				vp.StopId = proto.String(tr.StopTimes[i].StopID)
				vp.CurrentStatus = status.Enum()
			}
		}
		msg.Entity = append(msg.Entity, &rtpb.FeedEntity{Id: proto.String(v.ID), Vehicle: vp})
	}
	return msg
}

// stopStatus places a vehicle dist metres along tr: STOPPED_AT the nearest
// stop within stoppedWithin, else IN_TRANSIT_TO the next one. Past the
// last stop it is at the terminus.
func stopStatus(tr *gtfs.Trip, dist float64) (int, rtpb.VehiclePosition_VehicleStopStatus) {
	st := tr.StopTimes
	best, bestOff := -1, math.Inf(1)
	for i := range st {
		if off := math.Abs(st[i].Dist - dist); off <= stoppedWithin && off < bestOff {
			best, bestOff = i, off
		}
	}
	if best >= 0 {
		return best, rtpb.VehiclePosition_STOPPED_AT
	}
	for i := range st {
		if st[i].Dist > dist {
			return i, rtpb.VehiclePosition_IN_TRANSIT_TO
		}
	}
	return len(st) - 1, rtpb.VehiclePosition_STOPPED_AT
}

func validLatLon(lat, lon float64) bool {
	return lat >= -90 && lat <= 90 && lon >= -180 && lon <= 180
}
