package engine

import (
	"slices"
	"time"

	"github.com/headway-transit/headway/hub/internal/boards"
	"github.com/headway-transit/headway/hub/internal/tracker"
)

// Hubs in a cluster each track their share of the vehicles (package
// partition) and show every vehicle's times on their boards: each engine
// hands the rows its own vehicles predict to Options.Share, and takes the
// rows other hubs' vehicles predict through Remote (package share carries
// them between hubs). A trip run predicted here wins over another hub's.

// SharedRun is a trip run's rows as another hub predicts them; nil Rows:
// that hub predicts it no more.
type SharedRun struct {
	Node string
	Key  boards.TripKey
	Rows map[int]boards.Realtime
}

// remoteOp is a SharedRun, or with drop set, all of a hub's runs gone, or
// an Observation.
type remoteOp struct {
	run  SharedRun
	drop bool
	obs  *Observation
}

// Observation is what a vehicle's fix taught the arrival model: the stops
// it passed and the stand it ended, on its trip run. Hubs of a cluster pass
// them to each other, so every hub's model learns from every bus.
type Observation struct {
	Trip     string            `json:"trip"`
	DayStart int64             `json:"day_start"`
	Since    time.Time         `json:"since"`
	FixTime  time.Time         `json:"fix_time"`
	Next     int               `json:"next"`
	StoodFor time.Duration     `json:"stood_for"`
	Passed   []tracker.Passage `json:"passed"`
}

// shareObservation hands what v taught the model to Options.ShareObservation.
func (e *Engine) shareObservation(v *tracker.Vehicle) {
	if e.opts.ShareObservation == nil || v.Trip == nil || (len(v.Passed) == 0 && v.StoodFor == 0) {
		return
	}
	e.opts.ShareObservation(Observation{Trip: v.Trip.ID, DayStart: v.DayStart.Unix(), Since: v.Since, FixTime: v.FixTime,
		Next: v.Next, StoodFor: v.StoodFor, Passed: slices.Clone(v.Passed)})
}

// RemoteObservation teaches the arrival model what another hub's vehicle
// taught its own. Safe from any goroutine; Run applies it.
func (e *Engine) RemoteObservation(o Observation) { e.remote <- remoteOp{obs: &o} }

// HandleRemoteObservation is RemoteObservation applied at once, for tests.
func (e *Engine) HandleRemoteObservation(o Observation) { e.applyRemote(remoteOp{obs: &o}) }

func (e *Engine) observe(o *Observation) {
	tr := e.opts.Feed.Trips[o.Trip]
	if tr == nil {
		return // another feed's trip: hubs of a cluster run one feed
	}
	for _, p := range o.Passed {
		if p.Index < 0 || p.Index >= len(tr.StopTimes) {
			return
		}
	}
	v := &tracker.Vehicle{Trip: tr, DayStart: time.Unix(o.DayStart, 0), Since: o.Since, FixTime: o.FixTime,
		Next: o.Next, StoodFor: o.StoodFor, Passed: o.Passed}
	if loc := e.opts.Feed.Location; loc != nil {
		v.DayStart = v.DayStart.In(loc)
	}
	e.opts.Predictor.Observe(v)
	e.m.remoteObs.Inc()
}

// Remote hands the engine another hub's rows for a trip run. Safe from any
// goroutine; Run applies it.
func (e *Engine) Remote(r SharedRun) { e.remote <- remoteOp{run: r} }

// DropNode forgets every trip run another hub predicted: it is gone, and
// its vehicles will be predicted by the hubs that take them over. Safe
// from any goroutine.
func (e *Engine) DropNode(node string) { e.remote <- remoteOp{run: SharedRun{Node: node}, drop: true} }

// HandleRemote applies another hub's rows at once, as Run does with
// Remote's. For tests, which drive the engine without Run.
func (e *Engine) HandleRemote(r SharedRun) { e.applyRemote(remoteOp{run: r}) }

// HandleDropNode is DropNode applied at once, for tests.
func (e *Engine) HandleDropNode(node string) {
	e.applyRemote(remoteOp{run: SharedRun{Node: node}, drop: true})
}

func (e *Engine) applyRemote(op remoteOp) {
	if op.obs != nil {
		e.observe(op.obs)
		return
	}
	if op.drop {
		for k, n := range e.remoteOf {
			if n == op.run.Node {
				delete(e.remoteOf, k)
				delete(e.preds, k)
				e.markTrip(k)
			}
		}
		return
	}
	k := op.run.Key
	if _, local := e.owner[k]; local {
		return
	}
	if op.run.Rows == nil {
		if _, ok := e.remoteOf[k]; ok {
			delete(e.remoteOf, k)
			delete(e.preds, k)
			e.markTrip(k)
		}
		return
	}
	e.preds[k] = op.run.Rows
	e.remoteOf[k] = op.run.Node
	e.markTrip(k)
	e.m.remoteRuns.Inc()
}

// shareChanged marks a trip run this hub's vehicles predict (or stopped
// predicting) for Options.Share at the next Flush.
func (e *Engine) shareChanged(k boards.TripKey) {
	if e.opts.Share == nil {
		return
	}
	delete(e.remoteOf, k)
	e.shared[k] = true
}

// shareFlush hands the runs changed here to Options.Share.
func (e *Engine) shareFlush() {
	if e.opts.Share == nil || len(e.shared) == 0 {
		return
	}
	for k := range e.shared {
		if _, ok := e.owner[k]; ok {
			e.opts.Share(k, e.preds[k])
		} else {
			e.opts.Share(k, nil)
		}
	}
	clear(e.shared)
}
