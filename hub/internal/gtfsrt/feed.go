package gtfsrt

import (
	"time"

	rtpb "github.com/MobilityData/gtfs-realtime-bindings/golang/gtfs"
	"google.golang.org/protobuf/proto"

	"github.com/headway-transit/headway/hub/internal/engine"
	"github.com/headway-transit/headway/internal/gtfs"
)

// Version is the gtfs_realtime_version the hub writes.
const Version = "2.0"

// DefaultMaxAge is Builder.MaxAge when left zero.
const DefaultMaxAge = 5 * time.Minute

// stoppedWithin is how close to a stop, in metres along the trip, a vehicle
// counts as STOPPED_AT it: the margin predictions use to call a stop served.
const stoppedWithin = 25

// Builder turns engine snapshots into GTFS-Realtime feed messages.
type Builder struct {
	Feed *gtfs.Feed
	// MaxAge leaves out of VehiclePositions the vehicles whose latest fix
	// is older than this at the snapshot's time: a bus parked with its
	// agent off is not in service. Zero means DefaultMaxAge.
	MaxAge time.Duration
	// Cancelled lists the trips cancelled at a time, Skipped the stops a
	// trip skips (service alerts: alerts.Store); nil: none.
	Cancelled func(at time.Time) []string
	Skipped   func(trip string, at time.Time) map[string]bool
}

// header starts a full-dataset message stamped with the snapshot's time.
func header(at time.Time) *rtpb.FeedMessage {
	return &rtpb.FeedMessage{Header: &rtpb.FeedHeader{
		GtfsRealtimeVersion: proto.String(Version),
		Incrementality:      rtpb.FeedHeader_FULL_DATASET.Enum(),
		Timestamp:           proto.Uint64(unix(at)),
	}}
}

// descriptor names a trip run the way the static schedule does: start_date
// is the service date in the agency's time zone, start_time the first
// departure in GTFS time, which passes 24:00:00 for runs after midnight.
func (b *Builder) descriptor(tr *gtfs.Trip, dayStart time.Time) *rtpb.TripDescriptor {
	d := &rtpb.TripDescriptor{
		TripId:               proto.String(tr.ID),
		RouteId:              proto.String(tr.RouteID),
		DirectionId:          proto.Uint32(uint32(tr.DirectionID)),
		StartDate:            proto.String(b.serviceDate(dayStart).String()),
		ScheduleRelationship: rtpb.TripDescriptor_SCHEDULED.Enum(),
	}
	// A frequency-based trip's start_time is that of the run, which the
	// tracker does not tell apart; better none than a wrong one.
	if len(tr.StopTimes) > 0 && len(tr.Frequencies) == 0 {
		d.StartTime = proto.String(gtfs.FormatTime(tr.StopTimes[0].Departure))
	}
	return d
}

// serviceDate is the date whose service day starts at dayStart: noon of
// that date is 12 hours on, even on the days clocks change (see
// gtfs.Feed.ServiceDayStart).
func (b *Builder) serviceDate(dayStart time.Time) gtfs.Date {
	loc := b.Feed.Location
	if loc == nil {
		loc = time.UTC
	}
	return gtfs.DateOf(dayStart.Add(12*time.Hour), loc)
}

func (b *Builder) maxAge() time.Duration {
	if b.MaxAge > 0 {
		return b.MaxAge
	}
	return DefaultMaxAge
}

// runKey names a trip run in a snapshot.
type runKey struct {
	trip     string
	dayStart int64
}

func keyOf(trip string, dayStart time.Time) runKey { return runKey{trip, dayStart.Unix()} }

// unix is t in whole seconds, as GTFS-Realtime carries it: truncated, so
// a timestamp is never ahead of the clock that took it.
func unix(t time.Time) uint64 {
	s := t.Unix()
	if s < 0 {
		return 0
	}
	return uint64(s)
}

// vehicleIndex maps vehicle ids to their entries in s.
func vehicleIndex(s *engine.RealtimeSnapshot) map[string]*engine.RealtimeVehicle {
	m := make(map[string]*engine.RealtimeVehicle, len(s.Vehicles))
	for i := range s.Vehicles {
		m[s.Vehicles[i].ID] = &s.Vehicles[i]
	}
	return m
}
