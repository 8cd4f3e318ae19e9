package engine

import "github.com/headway-transit/headway/hub/internal/boards"

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

// remoteOp is a SharedRun, or with drop set, all of a hub's runs gone.
type remoteOp struct {
	run  SharedRun
	drop bool
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
