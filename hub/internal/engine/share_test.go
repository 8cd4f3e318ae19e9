package engine_test

import (
	"testing"
	"time"

	"github.com/headway-transit/headway/hub/internal/boards"
	"github.com/headway-transit/headway/hub/internal/engine"
	"github.com/headway-transit/headway/hub/internal/predict"
	"github.com/headway-transit/headway/hub/internal/tracker"
	"github.com/headway-transit/headway/internal/wire"
)

// TestSharedRuns: two hubs of a cluster, the bus tracked by hub a. Hub b's
// board shows the bus's time from the rows hub a shares, follows them as
// they change, drops them when hub a stops predicting the run or is gone,
// and a run hub b's own vehicle predicts is not overwritten.
func TestSharedRuns(t *testing.T) {
	day := time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)
	clk := &clock{day.Add(8*time.Hour + 4*time.Minute + 10*time.Second)}
	type share struct {
		key  boards.TripKey
		rows map[int]boards.Realtime
	}
	var sent []share
	pubA, pubB := map[string]wire.Board{}, map[string]wire.Board{}
	a, _ := newEngineWith(t, clk, pubA, func(o *engine.Options) {
		o.Share = func(k boards.TripKey, rows map[int]boards.Realtime) { sent = append(sent, share{k, rows}) }
	})
	b, _ := newEngine(t, clk, pubB)
	pass := func() {
		for _, s := range sent {
			b.HandleRemote(engine.SharedRun{Node: "hub-a", Key: s.key, Rows: s.rows})
		}
		sent = nil
		b.Flush()
	}

	a.Handle(position(t, 1, 1500, clk.t))
	a.Flush()
	if len(sent) != 1 || sent[0].key.Trip != "E0800" || len(sent[0].rows) == 0 {
		t.Fatalf("hub a shared %+v, want E0800's rows", sent)
	}
	k, first := sent[0].key, sent[0].rows
	// rowsOf is first's rows as bus vehicle predicts them, by later.
	rowsOf := func(vehicle string, later time.Duration) map[int]boards.Realtime {
		out := map[int]boards.Realtime{}
		for i, r := range first {
			out[i] = boards.Realtime{Vehicle: vehicle, Predicted: r.Predicted.Add(later)}
		}
		return out
	}
	pass()
	ra, rb := realtimeAt(pubA["S3"], "E0800"), realtimeAt(pubB["S3"], "E0800")
	if ra == nil || rb == nil || rb.Vehicle != "bus-1" || !rb.Predicted.Equal(*ra.Predicted) {
		t.Fatalf("hub b's S3 row %+v, hub a's %+v: want the same live time", rb, ra)
	}

	clk.t = clk.t.Add(20 * time.Second)
	a.Handle(position(t, 2, 1900, clk.t))
	a.Flush()
	pass()
	if ra, rb = realtimeAt(pubA["S3"], "E0800"), realtimeAt(pubB["S3"], "E0800"); rb == nil || !rb.Predicted.Equal(*ra.Predicted) {
		t.Errorf("hub b did not follow the changed prediction: %+v vs %+v", rb, ra)
	}

	// Silent past Stale: hub a stops predicting, and says so.
	clk.t = clk.t.Add(70 * time.Second)
	a.Refresh()
	if len(sent) != 1 || sent[0].rows != nil {
		t.Fatalf("hub a shared %+v after its bus went silent, want the run gone", sent)
	}
	pass()
	if realtimeAt(pubB["S3"], "E0800") != nil {
		t.Error("hub b still shows the silent bus's time")
	}

	// Another hub's run, then that hub gone.
	b.HandleRemote(engine.SharedRun{Node: "hub-c", Key: k, Rows: rowsOf("bus-c", time.Minute)})
	b.Flush()
	if rb := realtimeAt(pubB["S3"], "E0800"); rb == nil || rb.Vehicle != "bus-c" {
		t.Fatalf("hub c's row not shown: %+v", pubB["S3"].Arrivals)
	}
	b.HandleDropNode("hub-c")
	b.Flush()
	if realtimeAt(pubB["S3"], "E0800") != nil {
		t.Error("hub c's row still shown after hub c went")
	}

	// Hub b's own bus on the run: another hub's rows do not replace it.
	b.Handle(positionOf(t, "bus-b", 1, 1500, clk.t))
	b.Flush()
	own := realtimeAt(pubB["S3"], "E0800")
	if own == nil || own.Vehicle != "bus-b" {
		t.Fatalf("hub b's own bus not shown: %+v", pubB["S3"].Arrivals)
	}
	b.HandleRemote(engine.SharedRun{Node: "hub-c", Key: k, Rows: rowsOf("bus-c", 2*time.Minute)})
	b.Flush()
	if rb := realtimeAt(pubB["S3"], "E0800"); rb == nil || rb.Vehicle != "bus-b" {
		t.Errorf("another hub's rows replaced hub b's own bus: %+v", rb)
	}
}

// TestSharedObservations: hub b's arrival model learns what hub a's bus
// taught hub a's, so both predict the same for a bus they both see, where a
// hub that heard nothing predicts otherwise.
func TestSharedObservations(t *testing.T) {
	day := time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)
	start := day.Add(8*time.Hour + 3*time.Minute + 30*time.Second)
	clk := &clock{start}
	var obs []engine.Observation
	learned := func(o *engine.Options) { o.Predictor = predict.NewLearned(o.Feed, predict.LearnedConfig{}) }
	a, _ := newEngineWith(t, clk, map[string]wire.Board{}, func(o *engine.Options) {
		learned(o)
		o.ShareObservation = func(x engine.Observation) { obs = append(obs, x) }
	})
	b, _ := newEngineWith(t, clk, map[string]wire.Board{}, learned)
	c, _ := newEngineWith(t, clk, map[string]wire.Board{}, learned)

	// bus-1 crawls along E0800 at 5 m/s (the timetable's pace is 8), past
	// S2 and S3 to the end of the line.
	for i := range 31 {
		clk.t = start.Add(time.Duration(i*20) * time.Second)
		a.Handle(positionOf(t, "bus-1", uint64(i+1), 1500+float64(i)*100, clk.t))
		a.Flush()
	}
	if len(obs) < 2 {
		t.Fatalf("hub a shared %d observations, want one per stop passed (S2, S3)", len(obs))
	}
	for _, o := range obs {
		b.HandleRemoteObservation(o)
	}
	// A bus every hub sees, just past S1 on E0810.
	clk.t = clk.t.Add(10 * time.Second)
	for _, e := range []*engine.Engine{a, b, c} {
		e.Handle(positionOf(t, "probe", 1, 1100, clk.t))
		e.Flush()
	}
	_, _, pa := a.Predicted("probe")
	_, _, pb := b.Predicted("probe")
	_, _, pc := c.Predicted("probe")
	if len(pa) == 0 || len(pa) != len(pb) {
		t.Fatalf("predictions a %v, b %v", pa, pb)
	}
	same := true
	for i := range pa {
		if !pa[i].Predicted.Equal(pb[i].Predicted) {
			t.Errorf("stop %s: hub a predicts %v, hub b %v", pa[i].StopID, pa[i].Predicted, pb[i].Predicted)
		}
		if i < len(pc) && !pc[i].Predicted.Equal(pa[i].Predicted) {
			same = false
		}
	}
	if same {
		t.Error("a hub that learned nothing predicts as hub a does: the observations taught nothing to tell")
	}

	// Hostile or foreign observations are ignored.
	b.HandleRemoteObservation(engine.Observation{Trip: "no-such-trip"})
	b.HandleRemoteObservation(engine.Observation{Trip: "E0800", Passed: []tracker.Passage{{Index: 99}}})
}
