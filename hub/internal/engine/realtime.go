package engine

import (
	"sort"
	"time"

	"github.com/headway-transit/headway/internal/gtfs"
)

// RealtimeSnapshot is the engine's live state as GTFS-Realtime publishes
// it: where the vehicles are and what each predicted trip run will do.
// Run publishes a new one when anything changed; a published snapshot is
// never modified, so readers share it and must not modify it either.
type RealtimeSnapshot struct {
	// At is the engine clock when the snapshot was taken.
	At time.Time
	// Seq grows by one with every published snapshot (0: none yet), so a
	// reader can cache whatever it derives from one.
	Seq      uint64
	Vehicles []RealtimeVehicle // sorted by ID
	Runs     []RealtimeRun     // sorted by Trip, then DayStart
	// NoBus are the trip runs under way by the schedule, more than
	// MissedAfter past their departure, with no vehicle tracked on them
	// (as of the last Refresh), sorted as Runs; Vehicle and Stops empty.
	NoBus []RealtimeRun
}

// RealtimeVehicle is a vehicle's latest live position and, when it is on a
// trip, its progress along it.
type RealtimeVehicle struct {
	ID       string
	Time     time.Time // GPS time of the latest live fix
	Lat, Lon float64
	Bearing  *float64 // degrees true, when known
	Speed    *float64 // m/s, when known

	// Trip is "" when the vehicle is on no known trip.
	Trip       string
	TripSource string
	DayStart   time.Time // start of the trip run's service day
	Dist       float64   // metres along the trip's path
	Delay      time.Duration
	FixTime    time.Time // fix Dist and Delay were measured at
}

// RealtimeRun is one trip run's predictions, made by one vehicle.
type RealtimeRun struct {
	Trip     string
	DayStart time.Time
	Vehicle  string
	Stops    []RealtimeStop // the stops not yet passed, in trip order
}

// RealtimeStop is a predicted arrival at Trip.StopTimes[Index].
type RealtimeStop struct {
	Index     int
	StopID    string
	Sequence  int // stop_sequence
	Predicted time.Time
}

// Realtime returns the latest snapshot. Before Run first flushed, that is
// an empty one taken now.
func (e *Engine) Realtime() *RealtimeSnapshot {
	e.mu.RLock()
	s := e.realtime
	e.mu.RUnlock()
	if s == nil {
		return &RealtimeSnapshot{At: e.opts.Now()}
	}
	return s
}

// Feed is the schedule the engine runs on; the caller must not modify it.
func (e *Engine) Feed() *gtfs.Feed { return e.opts.Feed }

// realtimeDue reports whether the GTFS-Realtime snapshot is older than
// Refresh, so a quiet hub's feed timestamp still moves on.
func (e *Engine) realtimeDue() bool {
	e.mu.RLock()
	prev := e.realtime
	e.mu.RUnlock()
	return prev == nil || e.opts.Now().Sub(prev.At) >= e.opts.Refresh
}

// publishRealtime takes a snapshot on Run's goroutine, which owns the
// tracker and the predictions (buildViews: when a message was handled or
// predictions changed since the last one, at most every viewsEvery, and at
// least every Refresh).
func (e *Engine) publishRealtime() {
	now := e.opts.Now()
	e.mu.RLock()
	prev := e.realtime
	e.mu.RUnlock()
	s := &RealtimeSnapshot{At: now, Seq: 1}
	if prev != nil {
		s.Seq = prev.Seq + 1
	}
	for _, v := range e.tracker.Vehicles() {
		if v.Pos.Time.IsZero() {
			continue // only status messages so far
		}
		rv := RealtimeVehicle{
			ID: v.ID, Time: v.Pos.Time, Lat: v.Pos.Lat, Lon: v.Pos.Lon,
			Bearing: copyFloat(v.Pos.Track), Speed: copyFloat(v.Pos.Speed),
		}
		if v.Trip != nil {
			rv.Trip, rv.TripSource, rv.DayStart = v.Trip.ID, v.TripSource, v.DayStart
			rv.Dist, rv.Delay, rv.FixTime = v.Dist, v.Delay, v.FixTime
		}
		s.Vehicles = append(s.Vehicles, rv)
	}
	for key, run := range e.preds {
		tr := e.opts.Feed.Trips[key.Trip]
		if tr == nil || e.waiting(key) {
			continue // a bus at its terminal predicts nothing yet
		}
		r := RealtimeRun{Trip: key.Trip, DayStart: time.Unix(key.DayStart, 0), Vehicle: e.owner[key]}
		if loc := e.opts.Feed.Location; loc != nil {
			r.DayStart = r.DayStart.In(loc)
		}
		for i, rt := range run {
			if i < 0 || i >= len(tr.StopTimes) {
				continue
			}
			if r.Vehicle == "" {
				r.Vehicle = rt.Vehicle
			}
			st := tr.StopTimes[i]
			r.Stops = append(r.Stops, RealtimeStop{Index: i, StopID: st.StopID, Sequence: st.Sequence, Predicted: rt.Predicted})
		}
		sort.Slice(r.Stops, func(a, b int) bool { return r.Stops[a].Index < r.Stops[b].Index })
		s.Runs = append(s.Runs, r)
	}
	for _, k := range e.noBus {
		r := RealtimeRun{Trip: k.Trip, DayStart: time.Unix(k.DayStart, 0)}
		if loc := e.opts.Feed.Location; loc != nil {
			r.DayStart = r.DayStart.In(loc)
		}
		s.NoBus = append(s.NoBus, r)
	}
	sort.Slice(s.Runs, func(a, b int) bool {
		if s.Runs[a].Trip != s.Runs[b].Trip {
			return s.Runs[a].Trip < s.Runs[b].Trip
		}
		return s.Runs[a].DayStart.Before(s.Runs[b].DayStart)
	})
	e.mu.Lock()
	e.realtime = s
	e.mu.Unlock()
}

func copyFloat(p *float64) *float64 {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}
