package gtfsrt

import (
	"fmt"

	rtpb "github.com/MobilityData/gtfs-realtime-bindings/golang/gtfs"
	"google.golang.org/protobuf/proto"

	"github.com/headway-transit/headway/internal/gtfs"
)

// Decode parses a GTFS-Realtime feed message in protobuf.
func Decode(b []byte) (*rtpb.FeedMessage, error) {
	msg := &rtpb.FeedMessage{}
	if err := proto.Unmarshal(b, msg); err != nil {
		return nil, fmt.Errorf("decode gtfs-realtime feed: %w", err)
	}
	return msg, nil
}

// Problem is one rule a feed message breaks.
type Problem struct {
	Entity string // entity id; "" for the header and the message as a whole
	Field  string // path of the offending field, as in the .proto
	Msg    string
}

func (p *Problem) Error() string {
	if p.Entity == "" {
		return fmt.Sprintf("%s: %s", p.Field, p.Msg)
	}
	return fmt.Sprintf("entity %q: %s: %s", p.Entity, p.Field, p.Msg)
}

// Check holds msg to the rules journey planners rely on, against the static
// schedule it refers to, and returns every *Problem found:
//   - header: gtfs_realtime_version 1.0 or 2.0, incrementality FULL_DATASET,
//     a timestamp;
//   - entity ids present and unique, each entity carrying a payload;
//   - every trip_id (except of ADDED trips), route_id and stop_id resolves in
//     feed; a trip's route_id, direction_id and start_time agree with the
//     schedule and its service runs on start_date;
//   - stop_time_updates strictly sorted by stop_sequence, each naming a stop
//     of its trip, with times that never run backwards;
//   - vehicle ids unique among VehiclePositions, positions on the globe.
func Check(msg *rtpb.FeedMessage, feed *gtfs.Feed) []error {
	c := &checker{feed: feed}
	c.header(msg.GetHeader())
	ids := map[string]bool{}
	vehicles := map[string]string{} // vehicle id -> entity
	runs := map[string]string{}     // trip run -> entity
	for i, e := range msg.GetEntity() {
		c.entity = e.GetId()
		if c.entity == "" {
			c.entity = fmt.Sprintf("#%d", i)
			c.add("id", "missing")
		} else if ids[c.entity] {
			c.add("id", "not unique")
		}
		ids[c.entity] = true
		if e.GetTripUpdate() == nil && e.GetVehicle() == nil && e.GetAlert() == nil {
			c.add("entity", "carries no trip_update, vehicle or alert")
		}
		if tu := e.GetTripUpdate(); tu != nil {
			tr := c.trip("trip_update.trip", tu.GetTrip())
			if d := tu.GetTrip(); d.GetTripId() != "" {
				run := d.GetTripId() + "|" + d.GetStartDate() + "|" + d.GetStartTime()
				if other, ok := runs[run]; ok {
					c.add("trip_update.trip", "trip %s on %q is also updated by entity %q", d.GetTripId(), d.GetStartDate(), other)
				}
				runs[run] = c.entity
			}
			c.stopTimeUpdates(tu, tr)
		}
		if vp := e.GetVehicle(); vp != nil {
			c.vehiclePosition(vp, vehicles)
		}
	}
	return c.problems
}

type checker struct {
	feed     *gtfs.Feed
	entity   string
	problems []error
}

func (c *checker) add(field, format string, args ...any) {
	c.problems = append(c.problems, &Problem{Entity: c.entity, Field: field, Msg: fmt.Sprintf(format, args...)})
}

func (c *checker) header(h *rtpb.FeedHeader) {
	if h == nil {
		c.add("header", "missing")
		return
	}
	switch v := h.GetGtfsRealtimeVersion(); v {
	case "1.0", "2.0":
	default:
		c.add("header.gtfs_realtime_version", "%q, want 1.0 or 2.0", v)
	}
	if h.GetIncrementality() != rtpb.FeedHeader_FULL_DATASET {
		c.add("header.incrementality", "%v, want FULL_DATASET", h.GetIncrementality())
	}
	if h.GetTimestamp() == 0 {
		c.add("header.timestamp", "missing")
	}
}

// trip checks a trip descriptor and returns its trip, when it resolves.
func (c *checker) trip(field string, d *rtpb.TripDescriptor) *gtfs.Trip {
	if d == nil {
		c.add(field, "missing")
		return nil
	}
	if r := d.GetRouteId(); r != "" && c.feed.Routes[r] == nil {
		c.add(field+".route_id", "%q is not in routes.txt", r)
	}
	var date gtfs.Date
	if s := d.GetStartDate(); s != "" {
		var err error
		if date, err = gtfs.ParseDate(s); err != nil {
			c.add(field+".start_date", "%q: %v", s, err)
		}
	}
	start := -1
	if s := d.GetStartTime(); s != "" {
		var err error
		if start, err = gtfs.ParseTime(s); err != nil {
			c.add(field+".start_time", "%q: %v", s, err)
			start = -1
		}
	}
	id := d.GetTripId()
	if id == "" {
		if d.GetRouteId() == "" {
			c.add(field, "names neither trip_id nor route_id")
		}
		return nil
	}
	tr := c.feed.Trips[id]
	if tr == nil {
		if d.GetScheduleRelationship() != rtpb.TripDescriptor_ADDED {
			c.add(field+".trip_id", "%q is not in trips.txt", id)
		}
		return nil
	}
	if r := d.GetRouteId(); r != "" && r != tr.RouteID {
		c.add(field+".route_id", "%q, but trip %s runs on route %s", r, id, tr.RouteID)
	}
	if d.DirectionId != nil && int(d.GetDirectionId()) != tr.DirectionID {
		c.add(field+".direction_id", "%d, but trip %s has direction_id %d", d.GetDirectionId(), id, tr.DirectionID)
	}
	if start >= 0 && len(tr.Frequencies) == 0 && len(tr.StopTimes) > 0 {
		if first := tr.StopTimes[0]; start != first.Departure && start != first.Arrival {
			c.add(field+".start_time", "%s, but trip %s leaves its first stop at %s", d.GetStartTime(), id, gtfs.FormatTime(first.Departure))
		}
	}
	if date != (gtfs.Date{}) && !c.feed.ServiceRunsOn(tr.ServiceID, date) {
		c.add(field+".start_date", "%s, but service %s of trip %s does not run that day", date, tr.ServiceID, id)
	}
	return tr
}

// stop checks that stop resolves and, when tr is known, that tr calls at
// it (the stop or, for a platform, its station), at seq when given.
func (c *checker) stop(field, stop string, seq *uint32, tr *gtfs.Trip) {
	if stop != "" && c.feed.Stops[stop] == nil {
		c.add(field+".stop_id", "%q is not in stops.txt", stop)
		return
	}
	if tr == nil {
		return
	}
	if seq != nil {
		i := indexOfSeq(tr, int(*seq))
		if i < 0 {
			c.add(field+".stop_sequence", "%d is not a stop_sequence of trip %s", *seq, tr.ID)
			return
		}
		if stop != "" && !sameStop(c.feed, stop, tr.StopTimes[i].StopID) {
			c.add(field+".stop_id", "%q, but trip %s calls at %s at stop_sequence %d", stop, tr.ID, tr.StopTimes[i].StopID, *seq)
		}
		return
	}
	if stop != "" {
		for _, st := range tr.StopTimes {
			if sameStop(c.feed, stop, st.StopID) {
				return
			}
		}
		c.add(field+".stop_id", "%q is not a stop of trip %s", stop, tr.ID)
	}
}

func indexOfSeq(tr *gtfs.Trip, seq int) int {
	for i, st := range tr.StopTimes {
		if st.Sequence == seq {
			return i
		}
	}
	return -1
}

// sameStop reports whether a and b are one stop, or a platform and its
// station: realtime feeds may name either.
func sameStop(feed *gtfs.Feed, a, b string) bool {
	if a == b {
		return true
	}
	sa, sb := feed.Stops[a], feed.Stops[b]
	return sa != nil && sb != nil && (sa.ParentStation == b || sb.ParentStation == a ||
		(sa.ParentStation != "" && sa.ParentStation == sb.ParentStation && sa.LocationType != sb.LocationType))
}

func (c *checker) stopTimeUpdates(tu *rtpb.TripUpdate, tr *gtfs.Trip) {
	stus := tu.GetStopTimeUpdate()
	if len(stus) == 0 && tu.GetTrip().GetScheduleRelationship() != rtpb.TripDescriptor_CANCELED {
		c.add("trip_update.stop_time_update", "none, and the trip is not CANCELED")
	}
	prevSeq := int64(-1)
	var prevTime int64
	for i, u := range stus {
		field := fmt.Sprintf("trip_update.stop_time_update[%d]", i)
		if u.StopSequence == nil && u.GetStopId() == "" {
			c.add(field, "names neither stop_sequence nor stop_id")
		}
		if u.StopSequence != nil {
			if s := int64(u.GetStopSequence()); s <= prevSeq {
				c.add(field+".stop_sequence", "%d after %d: stop_time_updates must be sorted by stop_sequence", s, prevSeq)
			} else {
				prevSeq = s
			}
		}
		c.stop(field, u.GetStopId(), u.StopSequence, tr)
		if u.GetScheduleRelationship() != rtpb.TripUpdate_StopTimeUpdate_SCHEDULED {
			continue // SKIPPED and NO_DATA carry no times to order
		}
		for _, ev := range []struct {
			name string
			e    *rtpb.TripUpdate_StopTimeEvent
		}{{"arrival", u.GetArrival()}, {"departure", u.GetDeparture()}} {
			if ev.e == nil || ev.e.Time == nil {
				continue
			}
			t := ev.e.GetTime()
			if t < prevTime {
				c.add(field+"."+ev.name+".time", "%d is before the previous time %d: times must not run backwards along the trip", t, prevTime)
			}
			prevTime = t
		}
	}
}

func (c *checker) vehiclePosition(vp *rtpb.VehiclePosition, seen map[string]string) {
	if id := vp.GetVehicle().GetId(); id != "" {
		if other, ok := seen[id]; ok {
			c.add("vehicle.vehicle.id", "%q is also entity %q: vehicle ids must be unique", id, other)
		} else {
			seen[id] = c.entity
		}
	}
	if p := vp.GetPosition(); p != nil {
		lat, lon := float64(p.GetLatitude()), float64(p.GetLongitude())
		if !validLatLon(lat, lon) || (lat == 0 && lon == 0) {
			c.add("vehicle.position", "%g,%g is not a place on the globe a bus could be", lat, lon)
		}
		if p.Bearing != nil && (p.GetBearing() < 0 || p.GetBearing() > 360) {
			c.add("vehicle.position.bearing", "%g, want 0 to 360", p.GetBearing())
		}
	}
	var tr *gtfs.Trip
	if vp.GetTrip() != nil {
		tr = c.trip("vehicle.trip", vp.GetTrip())
	}
	c.stop("vehicle", vp.GetStopId(), vp.CurrentStopSequence, tr)
}
