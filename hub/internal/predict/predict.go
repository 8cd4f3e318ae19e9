package predict

import (
	"time"

	"github.com/headway-transit/headway/hub/internal/tracker"
)

// Predictor predicts a tracked vehicle's times at the stops ahead of it.
// The engine calls Observe with every live fix the tracker accepted (of
// every vehicle, whether or not it predicts for it), then Predict. Neither
// is called concurrently.
type Predictor interface {
	Observe(v *tracker.Vehicle)
	Predict(v *tracker.Vehicle, now time.Time) []Arrival
}

// Delay is delay propagation as a Predictor; it learns nothing.
type Delay struct{}

// Observe does nothing: delay propagation has no memory.
func (Delay) Observe(*tracker.Vehicle) {}

// Predict is DelayPropagation.
func (Delay) Predict(v *tracker.Vehicle, now time.Time) []Arrival { return DelayPropagation(v, now) }

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
