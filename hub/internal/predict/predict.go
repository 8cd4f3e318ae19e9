// Package predict turns a tracked vehicle into predicted arrival times at
// the stops still ahead of it on its trip.
//
// The model here is delay propagation, the common practice (OneBusAway):
// the vehicle's current delay against the schedule is added to the
// scheduled arrival at every later stop. It is the baseline that better
// models are measured against.
package predict

import (
	"time"

	"github.com/headway-transit/headway/hub/internal/tracker"
)

// Arrival is one predicted arrival of a vehicle's trip at a stop.
type Arrival struct {
	Index     int // into Trip.StopTimes
	StopID    string
	Scheduled time.Time
	Predicted time.Time
}

// passedMargin is how far past a stop, in metres, the vehicle must be before
// the stop counts as served: GPS noise at a stop must not drop it early.
const passedMargin = 25

// DelayPropagation predicts arrivals at the stops ahead of v as their
// scheduled arrival plus v's current delay, never earlier than now.
func DelayPropagation(v *tracker.Vehicle, now time.Time) []Arrival {
	if v.Trip == nil {
		return nil
	}
	st := v.Trip.StopTimes
	out := make([]Arrival, 0, len(st))
	for i := range st {
		if st[i].Dist+passedMargin <= v.Dist && i < len(st)-1 {
			continue
		}
		if i == len(st)-1 && v.Dist >= st[i].Dist-passedMargin {
			continue // arrived at the terminus
		}
		sched := v.Trip.ArrivalAt(v.DayStart, i)
		// Whole seconds: sub-second precision is noise, and GTFS-Realtime
		// carries seconds.
		pred := sched.Add(v.Delay).Round(time.Second)
		if pred.Before(now) {
			pred = now
		}
		out = append(out, Arrival{Index: i, StopID: st[i].StopID, Scheduled: sched, Predicted: pred})
	}
	return out
}
