package engine

import (
	"sort"
	"time"

	"github.com/headway-transit/headway/internal/gtfs"
)

// StopPrediction is one predicted arrival of a vehicle's trip run.
type StopPrediction struct {
	StopID       string
	StopSequence int
	Predicted    time.Time
}

// Predicted returns the trip run vehicle predicts and its predictions, in
// stop order. Like Handle, it must be called from the goroutine that drives
// the engine (Run's, or a replay's).
func (e *Engine) Predicted(vehicle string) (*gtfs.Trip, time.Time, []StopPrediction) {
	key, ok := e.runOf[vehicle]
	if !ok || e.waiting(key) {
		return nil, time.Time{}, nil
	}
	trip := e.opts.Feed.Trips[key.Trip]
	run := e.preds[key]
	out := make([]StopPrediction, 0, len(run))
	for i, rt := range run {
		st := trip.StopTimes[i]
		out = append(out, StopPrediction{StopID: st.StopID, StopSequence: st.Sequence, Predicted: rt.Predicted})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].StopSequence < out[j].StopSequence })
	return trip, time.Unix(key.DayStart, 0), out
}

// TripOf returns the trip the tracker has vehicle on ("" for none). Call it
// from the goroutine that drives the engine.
func (e *Engine) TripOf(vehicle string) string {
	if v := e.tracker.Vehicle(vehicle); v != nil && v.Trip != nil {
		return v.Trip.ID
	}
	return ""
}
