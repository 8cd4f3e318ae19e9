package engine_test

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/headway-transit/headway/hub/internal/engine"
	"github.com/headway-transit/headway/hub/internal/ingest"
	"github.com/headway-transit/headway/hub/internal/testfeed"
	"github.com/headway-transit/headway/internal/geo"
	"github.com/headway-transit/headway/internal/wire"
)

// onTrip is bus-1 reporting trip at d metres along the line, at speed.
func onTrip(t *testing.T, seq uint64, trip string, d, speed float64, at time.Time) ingest.Message {
	t.Helper()
	p := geo.Offset(testfeed.Origin, 90, d)
	b, err := (&wire.Position{V: 1, Vehicle: "bus-1", Seq: seq, Time: at, Lat: p.Lat, Lon: p.Lon, Mode: 3,
		Speed: wire.Float(speed), Track: wire.Float(90), Trip: trip}).Encode()
	if err != nil {
		t.Fatal(err)
	}
	return ingest.Message{Topic: wire.Topics{}.Position("bus-1"), Payload: b, Received: at}
}

// fixer returns a func that sends bus-1's next fix on trip, d metres along
// at speed, at the clock's time, and flushes the boards.
func fixer(t *testing.T, e *engine.Engine, clk *clock, trip string) func(d, speed float64) {
	seq := uint64(0)
	return func(d, speed float64) {
		seq++
		e.Handle(onTrip(t, seq, trip, d, speed, clk.t))
		e.Flush()
	}
}

func rowOf(b wire.Board, trip string) *wire.Arrival {
	for i, a := range b.Arrivals {
		if a.Trip == trip {
			return &b.Arrivals[i]
		}
	}
	return nil
}

// TestBusAtTerminal: a bus waiting at its trip's first stop well before the
// departure promises nothing: its trip stays scheduled on the boards, with
// the bus named and at the terminal, and nothing goes into GTFS-Realtime or
// the replay's predictions; from TerminalLead before the departure it
// predicts as any bus does.
func TestBusAtTerminal(t *testing.T) {
	day := time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)
	clk := &clock{day.Add(7*time.Hour + 48*time.Minute)} // E0800 leaves S0 at 08:00
	published := map[string]wire.Board{}
	e, _ := newEngine(t, clk, published)

	fix := fixer(t, e, clk, "E0800")
	fix(20, 0)
	row := rowOf(published["S2"], "E0800")
	if row == nil || row.Source != wire.SourceSchedule || row.Status != wire.StatusAtTerminal || row.Vehicle != "bus-1" || row.Predicted != nil {
		t.Fatalf("12 min before departure, S2's E0800 row is %+v, want scheduled, at_terminal, bus-1", row)
	}
	if trip, _, preds := e.Predicted("bus-1"); trip != nil || preds != nil {
		t.Errorf("a bus at its terminal predicted %s %v", trip.ID, preds)
	}
	e.Flush()
	for _, r := range e.Realtime().Runs {
		t.Errorf("a bus at its terminal put a run in GTFS-Realtime: %+v", r)
	}

	// Within the lead (5 min by default): a realtime countdown.
	clk.t = day.Add(7*time.Hour + 56*time.Minute)
	fix(20, 0)
	if a := realtimeAt(published["S2"], "E0800"); a == nil || a.Vehicle != "bus-1" || a.Status != "" {
		t.Fatalf("4 min before departure, S2's E0800 row is %+v, want realtime from bus-1", rowOf(published["S2"], "E0800"))
	}
	if trip, _, preds := e.Predicted("bus-1"); trip == nil || len(preds) == 0 {
		t.Error("4 min before departure the bus predicts nothing")
	}

	// Still standing there a minute past its departure: it has not left on
	// this trip (late, or the next one's bus), so no countdown for it...
	clk.t = day.Add(8*time.Hour + time.Minute)
	fix(20, 0)
	if row := rowOf(published["S2"], "E0800"); row == nil || row.Status != wire.StatusAtTerminal || row.Predicted != nil {
		t.Fatalf("standing past departure, S2's E0800 row is %+v, want scheduled, at_terminal", row)
	}
	// ...until it moves off.
	clk.t = clk.t.Add(10 * time.Second)
	fix(200, 7)
	if a := realtimeAt(published["S2"], "E0800"); a == nil || a.Vehicle != "bus-1" {
		t.Fatalf("moving off, S2's E0800 row is %+v, want realtime from bus-1", rowOf(published["S2"], "E0800"))
	}
}

// TestStandingMidRoute: a bus that stands still mid-trip far longer than
// any dwell stops feeding predictions; its trip falls back to the schedule
// and comes back as realtime when it moves.
func TestStandingMidRoute(t *testing.T) {
	day := time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)
	clk := &clock{day.Add(8*time.Hour + 3*time.Minute)}
	published := map[string]wire.Board{}
	e, reg := newEngine(t, clk, published)
	fix := fixer(t, e, clk, "E0800")
	fix(1400, 8)
	clk.t = clk.t.Add(10 * time.Second)
	fix(1480, 0) // stops between S1 and S2
	if realtimeAt(published["S3"], "E0800") == nil {
		t.Fatal("no realtime row for a bus just stopped")
	}
	for range 9 {
		clk.t = clk.t.Add(time.Minute)
		fix(1480, 0)
	}
	if realtimeAt(published["S3"], "E0800") == nil {
		t.Fatal("after 9 min standing the bus no longer predicts (max_stand is 10 min)")
	}
	clk.t = clk.t.Add(90 * time.Second)
	fix(1480, 0)
	if a := realtimeAt(published["S3"], "E0800"); a != nil {
		t.Fatalf("a bus standing 10.5 min mid-trip still predicts: %+v", a)
	}
	// (Its scheduled time at S3, 08:06, has passed too: the row is gone.)
	if row := rowOf(published["S3"], "E0800"); row != nil && row.Source != wire.SourceSchedule {
		t.Fatalf("S3's E0800 row is %+v, want the scheduled row or none", row)
	}
	if n := counterNamed(t, reg, "headway_vehicle_standing_no_prediction_total"); n != 1 {
		t.Errorf("standing counter %v, want 1", n)
	}
	clk.t = clk.t.Add(10 * time.Second)
	fix(1560, 6)
	if realtimeAt(published["S3"], "E0800") == nil {
		t.Fatal("the bus moved on but predicts nothing")
	}
}

// counterNamed reads an unlabelled counter (0 when absent).
func counterNamed(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name && len(mf.GetMetric()) == 1 {
			return mf.GetMetric()[0].GetCounter().GetValue()
		}
	}
	return 0
}
