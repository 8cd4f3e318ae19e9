package engine_test

import (
	"testing"
	"time"

	"github.com/headway-transit/headway/hub/internal/boards"
	"github.com/headway-transit/headway/hub/internal/engine"
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
