package gtfsrt

import (
	"maps"
	"slices"
	"sort"
	"time"

	rtpb "github.com/MobilityData/gtfs-realtime-bindings/golang/gtfs"
	"google.golang.org/protobuf/proto"

	"github.com/headway-transit/headway/hub/internal/engine"
	"github.com/headway-transit/headway/internal/gtfs"
)

// TripUpdates builds the TripUpdates feed of s: one entity per predicted
// trip run, with a stop_time_update for every stop the vehicle has still to
// reach, in stop_sequence order. Arrival times are the boards' predicted
// times; a prediction already due is "now", as on the boards. Runs under
// way with no bus tracked on them get one NO_DATA update. With service
// alerts (Builder.Cancelled, Builder.Skipped), cancelled trip runs yet to
// end are CANCELED, and a predicted run's skipped stops SKIPPED.
func (b *Builder) TripUpdates(s *engine.RealtimeSnapshot) *rtpb.FeedMessage {
	msg := header(s.At)
	vehicles := vehicleIndex(s)
	now := s.At.Truncate(time.Second)
	cancelled := map[string]bool{}
	if b.Cancelled != nil {
		for _, t := range b.Cancelled(now) {
			cancelled[t] = true
		}
	}
	for _, run := range s.Runs {
		tr := b.Feed.Trips[run.Trip]
		if tr == nil || len(run.Stops) == 0 || cancelled[run.Trip] {
			continue // a run at its terminus has nothing left to tell
		}
		tu := &rtpb.TripUpdate{
			Trip:           b.descriptor(tr, run.DayStart),
			StopTimeUpdate: stopTimeUpdates(tr, run, now),
		}
		if b.Skipped != nil {
			if skip := b.Skipped(run.Trip, now); len(skip) > 0 {
				for _, u := range tu.StopTimeUpdate {
					if skip[u.GetStopId()] {
						u.Arrival, u.Departure = nil, nil
						u.ScheduleRelationship = rtpb.TripUpdate_StopTimeUpdate_SKIPPED.Enum()
					}
				}
			}
		}
		if run.Vehicle != "" {
			tu.Vehicle = &rtpb.VehicleDescriptor{Id: proto.String(run.Vehicle)}
			if v := vehicles[run.Vehicle]; v != nil && !v.FixTime.IsZero() {
				// When the progress the predictions start from was measured.
				tu.Timestamp = proto.Uint64(unix(v.FixTime))
			}
		}
		msg.Entity = append(msg.Entity, &rtpb.FeedEntity{
			// A trip id alone may repeat: a run after midnight and the
			// next day's run of the same trip can both be predicted.
			Id:         proto.String(tr.ID + "@" + tu.Trip.GetStartDate()),
			TripUpdate: tu,
		})
	}
	for _, run := range s.NoBus {
		tr := b.Feed.Trips[run.Trip]
		if tr == nil || len(tr.StopTimes) == 0 || cancelled[run.Trip] {
			continue
		}
		// No realtime data for the run: a NO_DATA update at its first stop
		// stands for every stop after it (the spec's meaning), so a
		// consumer shows the schedule, as the signs do with "no bus
		// tracked". The trip itself stays SCHEDULED: the hub cannot know
		// it was cancelled, only that no bus it tracks runs it.
		tu := &rtpb.TripUpdate{
			Trip: b.descriptor(tr, run.DayStart),
			StopTimeUpdate: []*rtpb.TripUpdate_StopTimeUpdate{{
				StopSequence:         proto.Uint32(uint32(tr.StopTimes[0].Sequence)),
				StopId:               proto.String(tr.StopTimes[0].StopID),
				ScheduleRelationship: rtpb.TripUpdate_StopTimeUpdate_NO_DATA.Enum(),
			}},
		}
		msg.Entity = append(msg.Entity, &rtpb.FeedEntity{
			Id:         proto.String(tr.ID + "@" + tu.Trip.GetStartDate()),
			TripUpdate: tu,
		})
	}
	msg.Entity = append(msg.Entity, b.cancellations(cancelled, now)...)
	return msg
}

// cancellations are the CANCELED updates of the cancelled trips' runs that
// have not ended and start within a day: the run of the service day
// before (past midnight) and of today and tomorrow.
func (b *Builder) cancellations(cancelled map[string]bool, now time.Time) []*rtpb.FeedEntity {
	var out []*rtpb.FeedEntity
	today := gtfs.DateOf(now, b.Feed.Location)
	for _, id := range slices.Sorted(maps.Keys(cancelled)) {
		tr := b.Feed.Trips[id]
		if tr == nil || len(tr.StopTimes) == 0 {
			continue
		}
		for _, d := range []gtfs.Date{today.AddDays(-1), today, today.AddDays(1)} {
			if !b.Feed.ServiceRunsOn(tr.ServiceID, d) {
				continue
			}
			day := b.Feed.ServiceDayStart(d)
			start, end := tr.DepartureAt(day, 0), tr.ArrivalAt(day, len(tr.StopTimes)-1)
			if !end.After(now) || start.After(now.Add(24*time.Hour)) {
				continue
			}
			desc := b.descriptor(tr, day)
			desc.ScheduleRelationship = rtpb.TripDescriptor_CANCELED.Enum()
			out = append(out, &rtpb.FeedEntity{
				Id:         proto.String(tr.ID + "@" + desc.GetStartDate()),
				TripUpdate: &rtpb.TripUpdate{Trip: desc},
			})
		}
	}
	return out
}

func stopTimeUpdates(tr *gtfs.Trip, run engine.RealtimeRun, now time.Time) []*rtpb.TripUpdate_StopTimeUpdate {
	stops := append([]engine.RealtimeStop(nil), run.Stops...)
	sort.SliceStable(stops, func(i, j int) bool { return stops[i].Sequence < stops[j].Sequence })
	arr := make([]time.Time, len(stops))
	for i, st := range stops {
		arr[i] = st.Predicted
		if arr[i].Before(now) {
			arr[i] = now
		}
	}
	out := make([]*rtpb.TripUpdate_StopTimeUpdate, 0, len(stops))
	for i, st := range stops {
		if st.Index < 0 || st.Index >= len(tr.StopTimes) || st.Sequence < 0 {
			continue
		}
		sched := tr.StopTimes[st.Index]
		a := arr[i].Truncate(time.Second)
		u := &rtpb.TripUpdate_StopTimeUpdate{
			StopSequence: proto.Uint32(uint32(st.Sequence)),
			StopId:       proto.String(st.StopID),
			Arrival:      event(a, tr.ArrivalAt(run.DayStart, st.Index)),
		}
		if st.Index < len(tr.StopTimes)-1 {
			// The scheduled dwell, cut short where the next arrival comes
			// sooner, so times never run backwards along the trip.
			d := a.Add(time.Duration(sched.Departure-sched.Arrival) * time.Second)
			if i+1 < len(stops) {
				if next := arr[i+1].Truncate(time.Second); d.After(next) {
					d = next
				}
			}
			if d.Before(a) {
				d = a
			}
			u.Departure = event(d, tr.DepartureAt(run.DayStart, st.Index))
		}
		out = append(out, u)
	}
	return out
}

// event is a predicted time with its delay against the schedule.
func event(pred, sched time.Time) *rtpb.TripUpdate_StopTimeEvent {
	return &rtpb.TripUpdate_StopTimeEvent{
		Time:  proto.Int64(pred.Unix()),
		Delay: proto.Int32(int32(pred.Sub(sched.Truncate(time.Second)) / time.Second)),
	}
}
