package engine

import (
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/headway-transit/headway/hub/internal/boards"
	"github.com/headway-transit/headway/hub/internal/score"
)

// The live hub scores its own realtime predictions the way `hub replay`
// and avl_score.py score a recording (horizon buckets, MBTA bands: package
// score's Tally), against its own passages: when a bus passes a stop, every
// prediction kept for that stop is scored and dropped.
//
// Memory is bounded whatever the fleet: per trip run and stop, at most one
// prediction every accuracySample, 8 bytes (a bus at 1 Hz would otherwise
// keep 1,800 per stop over half an hour), none beyond the scoring horizon, and the
// stop's kept ones go when it is passed or its predictions are past
// ghostLate; what is scored goes into one tally per route and 5-minute slot
// for a day.

// accuracySample is the least time between two predictions kept for one
// stop of a trip run.
const accuracySample = 15 * time.Second

// maxHorizon: predictions further ahead are not scored (score.Buckets).
const maxHorizon = 30 * time.Minute

// Accuracy windows and their slots.
const (
	slotLen = 5 * time.Minute
	slots   = int(24 * time.Hour / slotLen)
)

// Windows reported, shortest first.
var Windows = []struct {
	Name string
	Len  time.Duration
}{{"15m", 15 * time.Minute}, {"1h", time.Hour}, {"day", 24 * time.Hour}}

// accSample is a kept prediction: when it was made and for when, seconds
// after its stop's base (8 bytes, not 16).
type accSample struct{ made, pred int32 }

type accStop struct {
	route   string
	base    int64 // unix seconds: the first prediction's made_at
	samples []accSample
}

type accSlot struct {
	start int64 // unix seconds of the slot's start
	tally score.Tally
}

// routeTally is one route's tallies, a ring of slots over a day.
type routeTally struct{ ring [slots]accSlot }

func (r *routeTally) add(at int64, h, e float64) {
	start := at - at%int64(slotLen/time.Second)
	s := &r.ring[(start/int64(slotLen/time.Second))%int64(slots)]
	if s.start != start {
		*s = accSlot{start: start}
	}
	s.tally.Add(h, e)
}

// since sums the slots that start at or after from.
func (r *routeTally) since(from int64) score.Tally {
	var t score.Tally
	for i := range r.ring {
		if r.ring[i].start >= from && r.ring[i].start != 0 {
			t.Merge(r.ring[i].tally)
		}
	}
	return t
}

type accuracy struct {
	mu      sync.Mutex
	pending map[liveKey]*accStop
	routes  map[string]*routeTally
	all     routeTally

	errs    *prometheus.HistogramVec
	scored  *prometheus.CounterVec
	inBand  *prometheus.CounterVec
	horizon [4]string // bucket labels
}

func newAccuracy() *accuracy {
	a := &accuracy{pending: map[liveKey]*accStop{}, routes: map[string]*routeTally{},
		errs: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "headway_prediction_error_seconds",
			Help:    "Absolute error of the hub's realtime predictions, scored when the bus passed the stop, by route and horizon (at most one prediction per stop of a trip run every 15 s).",
			Buckets: []float64{15, 30, 60, 90, 120, 180, 240, 300, 420, 600, 900},
		}, []string{"route", "horizon"}),
		scored: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "headway_predictions_scored_total",
			Help: "Realtime predictions scored against the hub's own passages, by route and MBTA band horizon (0-3m, 3-6m, 6-12m, 12-30m).",
		}, []string{"route", "horizon"}),
		inBand: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "headway_predictions_in_band_total",
			Help: "Scored realtime predictions inside the MBTA accuracy band of their horizon; divide by headway_predictions_scored_total for the in-band share.",
		}, []string{"route", "horizon"}),
	}
	for i, b := range score.Buckets {
		a.horizon[i] = strconv.Itoa(int(b.Lo/60)) + "-" + strconv.Itoa(int(b.Hi/60)) + "m"
	}
	return a
}

func (a *accuracy) collectors() []prometheus.Collector {
	return []prometheus.Collector{a.errs, a.scored, a.inBand}
}

// predicted keeps a prediction made at for run's stop index, on route.
func (a *accuracy) predicted(run boards.TripKey, index int, route string, at, predicted time.Time) {
	if h := predicted.Sub(at); h >= maxHorizon {
		return
	}
	k := liveKey{run, index}
	a.mu.Lock()
	defer a.mu.Unlock()
	s := a.pending[k]
	if s == nil {
		s = &accStop{route: route, base: at.Unix()}
		a.pending[k] = s
	}
	made := at.Unix() - s.base
	if n := len(s.samples); n > 0 && made-int64(s.samples[n-1].made) < int64(accuracySample/time.Second) {
		return
	}
	s.samples = append(s.samples, accSample{made: int32(made), pred: int32(predicted.Unix() - s.base)})
}

// passed scores what was kept for run's stop index, passed at at.
func (a *accuracy) passed(run boards.TripKey, index int, at time.Time) {
	k := liveKey{run, index}
	a.mu.Lock()
	defer a.mu.Unlock()
	s := a.pending[k]
	if s == nil {
		return
	}
	delete(a.pending, k)
	rt := a.routes[s.route]
	if rt == nil {
		rt = &routeTally{}
		a.routes[s.route] = rt
	}
	obs := float64(at.Unix())
	for _, p := range s.samples {
		made, pred := float64(s.base+int64(p.made)), float64(s.base+int64(p.pred))
		if obs < made {
			continue // as score.Score: the bus had passed when it was made
		}
		h, e := pred-made, obs-pred
		rt.add(at.Unix(), h, e)
		a.all.add(at.Unix(), h, e)
		b := -1
		for i, bk := range score.Buckets {
			if max(h, 0) >= bk.Lo && max(h, 0) < bk.Hi {
				b = i
			}
		}
		if b < 0 {
			continue
		}
		var t score.Tally
		t.Add(h, e)
		a.errs.WithLabelValues(s.route, a.horizon[b]).Observe(max(e, -e))
		for i, band := range score.Bands {
			if t.BandN[i] > 0 {
				label := strconv.Itoa(int(band.Lo/60)) + "-" + strconv.Itoa(int(band.Hi/60)) + "m"
				a.scored.WithLabelValues(s.route, label).Inc()
				if t.In[i] > 0 {
					a.inBand.WithLabelValues(s.route, label).Inc()
				}
			}
		}
	}
}

// expire drops the kept predictions of stops no bus passed within
// ghostLate of their latest predicted time: there is no passage to score
// them against (the ghost count judges them).
func (a *accuracy) expire(now time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for k, s := range a.pending {
		last := s.base + int64(s.samples[len(s.samples)-1].pred)
		if now.Unix() > last+int64(ghostLate/time.Second) {
			delete(a.pending, k)
		}
	}
}

// RouteAccuracy is one route's (or all routes') score per window.
type RouteAccuracy struct {
	Route   string                  `json:"route"` // "" for all routes
	Windows map[string]score.Result `json:"windows"`
}

// AccuracyReport is /api/accuracy: every route's score over the last 15
// minutes, hour and day, the hub's whole first.
type AccuracyReport struct {
	At      time.Time       `json:"at"`
	Pending int             `json:"pending_stops"` // trip-run stops with predictions awaiting a passage
	All     RouteAccuracy   `json:"all"`
	Routes  []RouteAccuracy `json:"routes"`
}

// Accuracy reports the live scores as of now. Safe from any goroutine.
func (e *Engine) Accuracy(now time.Time) AccuracyReport {
	a := e.acc
	a.mu.Lock()
	defer a.mu.Unlock()
	report := func(route string, rt *routeTally) RouteAccuracy {
		ra := RouteAccuracy{Route: route, Windows: map[string]score.Result{}}
		for _, w := range Windows {
			ra.Windows[w.Name] = rt.since(now.Add(-w.Len).Unix()).Result()
		}
		return ra
	}
	r := AccuracyReport{At: now.UTC(), Pending: len(a.pending), All: report("", &a.all)}
	names := make([]string, 0, len(a.routes))
	for n := range a.routes {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		r.Routes = append(r.Routes, report(n, a.routes[n]))
	}
	return r
}
