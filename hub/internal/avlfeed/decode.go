package avlfeed

import (
	"errors"
	"fmt"
	"math"
	"time"

	rtpb "github.com/MobilityData/gtfs-realtime-bindings/golang/gtfs"

	"github.com/headway-transit/headway/hub/internal/feedpoll"
)

// Fix is one vehicle position read from a feed.
type Fix struct {
	Vehicle string
	Time    time.Time
	Lat     float64
	Lon     float64
	Speed   *float64 // m/s
	Bearing *float64 // degrees true
	Trip    string   // the trip the agency has it on, when the feed says
	Route   string
}

// Snapshot is one decoded feed document.
type Snapshot struct {
	// Time is when the producer made the document (GTFS-Realtime header
	// timestamp, SIRI ResponseTimestamp); zero when it does not say.
	Time  time.Time
	Fixes []Fix
	// Skipped holds one error per entity left out (no vehicle id, no
	// position, coordinates out of range), naming it; at most maxSkipped.
	Skipped []error
	// SkippedCount counts them all.
	SkippedCount int
}

const maxSkipped = 20

func (s *Snapshot) skip(err error) {
	s.SkippedCount++
	if len(s.Skipped) < maxSkipped {
		s.Skipped = append(s.Skipped, err)
	}
}

// Formats a feed may have.
const (
	FormatGTFSRT = "gtfs-rt"
	FormatSIRI   = "siri-vm"
)

// Decode decodes a feed document of the given format.
func Decode(format string, b []byte) (Snapshot, error) {
	switch format {
	case FormatGTFSRT, "":
		return DecodeGTFSRT(b)
	case FormatSIRI:
		return DecodeSIRI(b)
	}
	return Snapshot{}, fmt.Errorf("unknown feed format %q (want %s or %s)", format, FormatGTFSRT, FormatSIRI)
}

// ErrEmpty is returned for a zero-length document: a producer that wrote
// nothing, not a feed with no vehicles (which still has a header).
var ErrEmpty = feedpoll.ErrEmpty

// DecodeGTFSRT decodes a GTFS-Realtime FeedMessage and takes the
// VehiclePosition of each entity that has one. Entities with only trip
// updates or alerts are not vehicles and are passed over silently; a
// vehicle entity with no usable id, position or time is skipped and named.
func DecodeGTFSRT(b []byte) (Snapshot, error) {
	var s Snapshot
	msg, err := feedpoll.FeedMessage(b, "gtfs-rt")
	if err != nil {
		return s, err
	}
	h := msg.GetHeader()
	if h.GetIncrementality() == rtpb.FeedHeader_DIFFERENTIAL {
		return s, errors.New("gtfs-rt: header.incrementality DIFFERENTIAL is not supported: give the FULL_DATASET feed")
	}
	if ts := h.GetTimestamp(); ts > 0 {
		s.Time = feedpoll.UnixTime(ts)
	}
	for i, e := range msg.GetEntity() {
		vp := e.GetVehicle()
		if vp == nil || e.GetIsDeleted() {
			continue
		}
		where := fmt.Sprintf("entity[%d] (id %q)", i, e.GetId())
		f := Fix{
			Vehicle: vp.GetVehicle().GetId(),
			Trip:    vp.GetTrip().GetTripId(),
			Route:   vp.GetTrip().GetRouteId(),
		}
		if f.Vehicle == "" {
			// Some producers leave vehicle.id out; the entity id is then
			// the only stable name the vehicle has.
			f.Vehicle = e.GetId()
		}
		if f.Vehicle == "" {
			s.skip(fmt.Errorf("gtfs-rt: %s: no vehicle.vehicle.id and no entity id", where))
			continue
		}
		pos := vp.GetPosition()
		if pos == nil {
			s.skip(fmt.Errorf("gtfs-rt: %s: vehicle %q has no position", where, f.Vehicle))
			continue
		}
		f.Lat, f.Lon = float64(pos.GetLatitude()), float64(pos.GetLongitude())
		if err := checkLatLon(f.Lat, f.Lon); err != nil {
			s.skip(fmt.Errorf("gtfs-rt: %s: vehicle %q: %w", where, f.Vehicle, err))
			continue
		}
		switch ts := vp.GetTimestamp(); {
		case ts > 0:
			f.Time = feedpoll.UnixTime(ts)
		case !s.Time.IsZero():
			f.Time = s.Time // the feed's own time is the best there is
		default:
			s.skip(fmt.Errorf("gtfs-rt: %s: vehicle %q: no vehicle.timestamp nor header.timestamp", where, f.Vehicle))
			continue
		}
		if pos.Speed != nil {
			f.Speed = finite(float64(pos.GetSpeed()), 0, 100)
		}
		if pos.Bearing != nil {
			f.Bearing = bearing(float64(pos.GetBearing()))
		}
		s.Fixes = append(s.Fixes, f)
	}
	return s, nil
}

func checkLatLon(lat, lon float64) error {
	if math.IsNaN(lat) || math.IsNaN(lon) || lat < -90 || lat > 90 || lon < -180 || lon > 180 {
		return fmt.Errorf("position %v,%v is not a latitude and longitude", lat, lon)
	}
	if lat == 0 && lon == 0 {
		return errors.New("position 0,0 (a receiver with no fix)")
	}
	return nil
}

// finite returns &v when v is a number in [lo, hi], else nil: an optional
// field with a nonsense value is better left out than passed on.
func finite(v, lo, hi float64) *float64 {
	if math.IsNaN(v) || v < lo || v > hi {
		return nil
	}
	return &v
}

// bearing is finite for a compass bearing, 360 read as 0.
func bearing(v float64) *float64 {
	if v == 360 {
		v = 0
	}
	return finite(v, 0, 359.999999)
}
