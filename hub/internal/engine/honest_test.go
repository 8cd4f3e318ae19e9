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

// TestBusLeftAtTerminal: a bus still standing at its trip's first stop
// MissedAfter past the departure has not run that trip: the trip is
// labelled no_bus, as one with no bus at all (the bus may be the next
// trip's, that one missed), until the bus leaves.
func TestBusLeftAtTerminal(t *testing.T) {
	day := time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)
	clk := &clock{day.Add(7*time.Hour + 58*time.Minute)} // E0800 leaves S0 at 08:00, reaches S2 at 08:04:20
	published := map[string]wire.Board{}
	e, _ := newEngineWith(t, clk, published, func(o *engine.Options) { o.MissedAfter = 3 * time.Minute })
	fix := fixer(t, e, clk, "E0800")
	stand := func(until time.Time) {
		for clk.t.Before(until) {
			fix(20, 0)
			clk.t = clk.t.Add(20 * time.Second)
		}
	}
	stand(day.Add(8*time.Hour + 2*time.Minute + 30*time.Second))
	if row := rowOf(published["S2"], "E0800"); row == nil || row.Status != wire.StatusAtTerminal {
		t.Fatalf("standing 2.5 min past departure, S2's E0800 row is %+v, want at_terminal", row)
	}
	stand(day.Add(8*time.Hour + 3*time.Minute + 30*time.Second))
	if row := rowOf(published["S2"], "E0800"); row == nil || row.Status != wire.StatusNoBus || row.Predicted != nil {
		t.Fatalf("standing 3.5 min past departure (missed_after 3 min), S2's E0800 row is %+v, want scheduled, no_bus", row)
	}
	fix(200, 7)
	if a := realtimeAt(published["S2"], "E0800"); a == nil || a.Vehicle != "bus-1" {
		t.Fatalf("leaving at last, S2's E0800 row is %+v, want realtime from bus-1", rowOf(published["S2"], "E0800"))
	}
}

// TestOffRouteStopsPredicting: a bus on a reported trip that leaves the
// route (a detour, a wrong turn, a trip to the depot) keeps its trip but
// feeds no realtime once Stale has passed since its last fix on the route;
// back on the route, it predicts again.
func TestOffRouteStopsPredicting(t *testing.T) {
	day := time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)
	clk := &clock{day.Add(8*time.Hour + 4*time.Minute)}
	published := map[string]wire.Board{}
	e, _ := newEngine(t, clk, published) // Stale: 1 min
	seq := uint64(0)
	send := func(p geo.Point) {
		seq++
		b, err := (&wire.Position{V: 1, Vehicle: "bus-1", Seq: seq, Time: clk.t, Lat: p.Lat, Lon: p.Lon, Mode: 3,
			Speed: wire.Float(8), Track: wire.Float(0), Trip: "E0800"}).Encode()
		if err != nil {
			t.Fatal(err)
		}
		e.Handle(ingest.Message{Topic: wire.Topics{}.Position("bus-1"), Payload: b, Received: clk.t})
		e.Refresh()
	}
	on := geo.Offset(testfeed.Origin, 90, 1200)
	send(on)
	if realtimeAt(published["S3"], "E0800") == nil {
		t.Fatal("on its route, the bus predicts nothing at S3")
	}
	off := geo.Offset(on, 0, 800)
	for range 4 { // 80 s off the route, fixes every 20 s
		clk.t = clk.t.Add(20 * time.Second)
		send(off)
	}
	if a := realtimeAt(published["S3"], "E0800"); a != nil {
		t.Errorf("80 s off its route (stale after 60 s), the bus still predicts S3: %+v", a)
	}
	if !hasTrip(published["S3"], "E0800") {
		t.Errorf("off route, its trip left S3's board: %+v", published["S3"].Arrivals)
	}
	clk.t = clk.t.Add(20 * time.Second)
	send(geo.Offset(testfeed.Origin, 90, 1300))
	if realtimeAt(published["S3"], "E0800") == nil {
		t.Error("back on its route, the bus predicts nothing at S3")
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

// TestUnsureNewBus: a bus first heard mid-route, with no trip reported,
// that fits two trips about as well (7.5 min late on E0800, 2.5 min early
// on E0810) predicts nothing for Settle: which of the two it runs is a
// guess until its block evidence builds up, and a countdown for the wrong
// one is a ghost. Then it predicts. A bus first heard fitting one trip
// plainly predicts at once.
func TestUnsureNewBus(t *testing.T) {
	day := time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)
	clk := &clock{day.Add(8*time.Hour + 11*time.Minute + 30*time.Second)} // E0800 left S2 at 08:04:20, E0810 reaches it at 08:14
	published := map[string]wire.Board{}
	e, reg := newEngineWith(t, clk, published, func(o *engine.Options) { o.Settle = time.Minute })
	fix := fixer(t, e, clk, "")
	start := clk.t
	d := 2000.0
	for clk.t.Before(start.Add(55 * time.Second)) {
		fix(d, 8)
		if trip, _, preds := e.Predicted("bus-1"); trip != nil || preds != nil {
			t.Fatalf("%v after its first fix, a bus fitting E0800 and E0810 alike predicts %s %v", clk.t.Sub(start), trip.ID, preds)
		}
		for _, b := range published {
			for _, a := range b.Arrivals {
				if a.Source == wire.SourceRealtime {
					t.Fatalf("%v after its first fix, a bus fitting E0800 and E0810 alike put a realtime row on %s: %+v", clk.t.Sub(start), b.Stop, a)
				}
			}
		}
		clk.t = clk.t.Add(5 * time.Second)
		d += 40
	}
	if n := counterNamed(t, reg, "headway_vehicle_unsure_no_prediction_total"); n < 10 {
		t.Errorf("unsure counter %v, want a count for each of the 11 fixes", n)
	}
	clk.t = start.Add(65 * time.Second)
	fix(d, 8)
	trip, _, preds := e.Predicted("bus-1")
	if trip == nil || len(preds) == 0 {
		t.Fatal("past Settle the bus still predicts nothing")
	}
	if realtimeAt(published["S3"], trip.ID) == nil {
		t.Fatalf("past Settle, no realtime row for %s at S3", trip.ID)
	}
}

// TestPlainNewBus: a bus first heard mid-route on schedule for E0800 (E0750
// and E0810 ten minutes off) predicts at once.
func TestPlainNewBus(t *testing.T) {
	day := time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)
	clk := &clock{day.Add(8*time.Hour + 4*time.Minute + 30*time.Second)}
	published := map[string]wire.Board{}
	e, _ := newEngine(t, clk, published)
	fix := fixer(t, e, clk, "")
	fix(2010, 8)
	if trip, _, preds := e.Predicted("bus-1"); trip == nil || trip.ID != "E0800" || len(preds) == 0 {
		t.Fatalf("a new bus on time for E0800 predicts %v %v, want E0800", trip, preds)
	}
	if realtimeAt(published["S3"], "E0800") == nil {
		t.Fatal("a new bus on time for E0800: no realtime row at S3")
	}
}
