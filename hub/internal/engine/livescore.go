package engine

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/headway-transit/headway/hub/internal/boards"
	"github.com/headway-transit/headway/hub/internal/tracker"
)

// The live hub judges its own realtime predictions as `hub replay` and
// avl_score.py's ghosts command do, with its own passages for the truth: a
// ghost is a realtime arrival for a stop that no bus then passed within
// ghostLate of the time shown; a missed passage is a stop passed with no
// realtime prediction for it made 1 to 10 minutes before. It cannot tell a
// wrong-vehicle prediction (that needs the truth of which trip each bus
// ran), and a bus the hub does not track passes no stop here at all, so
// what it counts is a floor: every ghost it counts is one.

// ghostLate is how long after the predicted time a passage still counts as
// the bus that was promised (avl_score.py's LATE).
const ghostLate = 30 * time.Minute

// Coverage window for missed realtime, before the passage.
const (
	coverFrom = 10 * time.Minute
	coverTo   = time.Minute
)

type liveKey struct {
	run   boards.TripKey
	index int
}

// liveStop is what was predicted for one trip run at one stop, waiting for
// the bus to pass it or for the predictions to expire. Predictions are
// counted by the minute they predicted, so memory stays a few buckets per
// stop however often the bus reports.
type liveStop struct {
	byMinute    map[int64]int // predicted unix minute -> predictions
	first, last time.Time     // made_at of the first and latest prediction
}

// liveScore holds the predictions not yet judged. Run's goroutine owns it.
type liveScore struct {
	stops map[liveKey]*liveStop
	m     liveMetrics
	// The same counts, readable without a registry.
	judged, ghosts, passages, missedN uint64
}

type liveMetrics struct {
	judged, ghosts, passages, missed prometheus.Counter
}

func newLiveScore() *liveScore {
	return &liveScore{
		stops: map[liveKey]*liveStop{},
		m: liveMetrics{
			judged: prometheus.NewCounter(prometheus.CounterOpts{
				Name: "headway_predictions_judged_total",
				Help: "Realtime predictions judged against the hub's own passages (a bus passed the stop, or ghost_late went by).",
			}),
			ghosts: prometheus.NewCounter(prometheus.CounterOpts{
				Name: "headway_predictions_ghost_total",
				Help: "Judged realtime predictions for a stop that no bus passed within 30 min of the time shown.",
			}),
			passages: prometheus.NewCounter(prometheus.CounterOpts{
				Name: "headway_passages_total",
				Help: "Stops passed by tracked buses on their trips.",
			}),
			missed: prometheus.NewCounter(prometheus.CounterOpts{
				Name: "headway_passages_missed_realtime_total",
				Help: "Stops passed with no realtime prediction for them made 1 to 10 min before.",
			}),
		},
	}
}

func (l *liveScore) collectors() []prometheus.Collector {
	return []prometheus.Collector{l.m.judged, l.m.ghosts, l.m.passages, l.m.missed}
}

// predicted records a realtime prediction made at for run's stop index.
func (l *liveScore) predicted(run boards.TripKey, index int, at, predicted time.Time) {
	k := liveKey{run, index}
	s := l.stops[k]
	if s == nil {
		s = &liveStop{byMinute: map[int64]int{}, first: at}
		l.stops[k] = s
	}
	s.byMinute[predicted.Unix()/60]++
	s.last = at
}

// passed judges what was predicted for run's stop index, which a bus passed
// at at.
func (l *liveScore) passed(run boards.TripKey, index int, at time.Time) {
	l.m.passages.Inc()
	l.passages++
	k := liveKey{run, index}
	s := l.stops[k]
	if s == nil || s.last.Before(at.Add(-coverFrom)) || s.first.After(at.Add(-coverTo)) {
		l.m.missed.Inc()
		l.missedN++
	}
	if s == nil {
		return
	}
	for min, n := range s.byMinute {
		l.judge(n, at.After(time.Unix(min*60, 0).Add(ghostLate))) // late: the bus came far later than shown
	}
	delete(l.stops, k)
}

func (l *liveScore) judge(n int, ghost bool) {
	l.m.judged.Add(float64(n))
	l.judged += uint64(n)
	if ghost {
		l.m.ghosts.Add(float64(n))
		l.ghosts += uint64(n)
	}
}

// expire judges the predictions whose time is more than ghostLate past at
// now with no bus having passed: each is a ghost.
func (l *liveScore) expire(now time.Time) {
	for k, s := range l.stops {
		for min, n := range s.byMinute {
			if now.After(time.Unix(min*60, 0).Add(ghostLate)) {
				l.judge(n, true)
				delete(s.byMinute, min)
			}
		}
		if len(s.byMinute) == 0 {
			delete(l.stops, k)
		}
	}
}

// LiveCounts is the live judgement so far: predictions judged and ghosts
// among them, stops passed and passages missed by realtime.
type LiveCounts struct {
	Judged, Ghosts, Passages, Missed uint64
}

// Live returns the live judgement so far, predictions expired by now
// included. Call it from the goroutine that drives the engine.
func (e *Engine) Live() LiveCounts {
	e.live.expire(e.opts.Now())
	return LiveCounts{
		Judged: e.live.judged, Ghosts: e.live.ghosts, Passages: e.live.passages, Missed: e.live.missedN,
	}
}

// nearEnd is a vehicle near the end of its trip run, noted before a fix.
// The tracker passes no stop at the end of a path (there is no "past" to
// reach), and AVL feeds often name the next trip before the bus reaches
// the terminal: a run the vehicle leaves within reachedEnd of its end
// counts its remaining stops as passed when the vehicle was last on it.
type nearEnd struct {
	run   boards.TripKey
	from  int // the first stop not passed
	stops int
	at    time.Time
	ok    bool
}

// reachedEnd is how near the end of its trip a vehicle that takes another
// trip must have come for the stops left to count as served.
const reachedEnd = 500 // metres

func (e *Engine) nearEndOf(id string) nearEnd {
	v := e.tracker.Vehicle(id)
	if v == nil || v.Trip == nil {
		return nearEnd{}
	}
	st := v.Trip.StopTimes
	return nearEnd{
		run:  boards.TripKey{Trip: v.Trip.ID, DayStart: v.DayStart.Unix()},
		from: v.Next, stops: len(st), at: v.FixTime,
		ok: v.Dist >= st[len(st)-1].Dist-reachedEnd,
	}
}

// judgePassages judges the predictions for the stops v's latest fix
// passed, and for the stops left of a run v has just left near its end.
func (e *Engine) judgePassages(v *tracker.Vehicle, before nearEnd) {
	var run boards.TripKey
	if v.Trip != nil {
		run = boards.TripKey{Trip: v.Trip.ID, DayStart: v.DayStart.Unix()}
		for _, ps := range v.Passed {
			e.live.passed(run, ps.Index, ps.At)
			e.acc.passed(run, ps.Index, ps.At)
		}
	}
	if before.ok && before.run != run {
		for i := before.from; i < before.stops; i++ {
			e.live.passed(before.run, i, before.at)
			e.acc.passed(before.run, i, before.at)
		}
	}
}
