package engine_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/headway-transit/headway/hub/internal/engine"
	"github.com/headway-transit/headway/hub/internal/ingest"
	"github.com/headway-transit/headway/hub/internal/testfeed"
	"github.com/headway-transit/headway/hub/internal/tracker"
	"github.com/headway-transit/headway/internal/geo"
	"github.com/headway-transit/headway/internal/wire"
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func newEngine(t *testing.T, clk *clock, published map[string]wire.Board) (*engine.Engine, *prometheus.Registry) {
	t.Helper()
	return newEngineWith(t, clk, published, func(*engine.Options) {})
}

// newEngineWith is newEngine with options changed by set.
func newEngineWith(t *testing.T, clk *clock, published map[string]wire.Board, set func(*engine.Options)) (*engine.Engine, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	opts := engine.Options{
		Feed:    testfeed.Line(t),
		Tracker: tracker.Config{MaxOffRoute: 100, MaxFuture: time.Minute},
		Horizon: 30 * time.Minute, MaxRows: 10, Refresh: time.Minute, Stale: time.Minute,
		Publish: []engine.Publisher{func(stop string, msg []byte) {
			b, err := wire.DecodeBoard(msg)
			if err != nil {
				t.Errorf("published board for %s does not decode: %v", stop, err)
			}
			published[stop] = b
		}},
		Registerer: reg,
		Now:        clk.now,
	}
	set(&opts)
	return engine.New(opts), reg
}

func position(t *testing.T, seq uint64, d float64, at time.Time) ingest.Message {
	t.Helper()
	return positionOf(t, "bus-1", seq, d, at)
}

func positionOf(t *testing.T, vehicle string, seq uint64, d float64, at time.Time) ingest.Message {
	t.Helper()
	p := geo.Offset(testfeed.Origin, 90, d)
	b, err := (&wire.Position{V: 1, Vehicle: vehicle, Seq: seq, Time: at, Lat: p.Lat, Lon: p.Lon, Mode: 3, Speed: wire.Float(8), Track: wire.Float(90)}).Encode()
	if err != nil {
		t.Fatal(err)
	}
	return ingest.Message{Topic: wire.Topics{}.Position(vehicle), Payload: b, Received: at}
}

func realtimeAt(b wire.Board, trip string) *wire.Arrival {
	for i, a := range b.Arrivals {
		if a.Trip == trip && a.Source == wire.SourceRealtime {
			return &b.Arrivals[i]
		}
	}
	return nil
}

func TestPositionsBecomeBoards(t *testing.T) {
	day := time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)
	clk := &clock{day.Add(8*time.Hour + 4*time.Minute + 10*time.Second)}
	published := map[string]wire.Board{}
	e, reg := newEngine(t, clk, published)

	e.Handle(position(t, 1, 1500, clk.t))
	e.Flush()
	b, ok := published["S3"]
	if !ok {
		t.Fatalf("no board published for S3; published %v", keys(published))
	}
	a := realtimeAt(b, "E0800")
	if a == nil || a.Vehicle != "bus-1" {
		t.Fatalf("S3 board has no realtime E0800: %+v", b.Arrivals)
	}
	first := *a.Predicted
	// 60 s late: S3 is scheduled 08:06, predicted 08:07.
	if want := day.Add(8*time.Hour + 7*time.Minute); !first.Equal(want) {
		t.Errorf("predicted %v, want %v", first, want)
	}

	// The bus makes up time: 20 s later it is 400 m on (fast), so the
	// prediction moves earlier and S3's board is republished.
	clk.t = clk.t.Add(20 * time.Second)
	e.Handle(position(t, 2, 1900, clk.t))
	e.Flush()
	a = realtimeAt(published["S3"], "E0800")
	if a == nil || !a.Predicted.Before(first) {
		t.Fatalf("prediction did not move earlier: %+v (was %v)", a, first)
	}

	// Hostile and duplicate messages change nothing and are counted.
	before := published["S3"].GeneratedAt
	e.Handle(position(t, 2, 1900, clk.t))                                                                 // duplicate
	e.Handle(ingest.Message{Topic: wire.Topics{}.Position("bus-1"), Payload: []byte(`{"v":1,"lat":"x"`)}) // broken
	e.Handle(ingest.Message{Topic: "headway/v1/vehicles/bus-9/position", Payload: position(t, 3, 1, clk.t).Payload})
	e.Flush()
	if !published["S3"].GeneratedAt.Equal(before) {
		t.Errorf("board republished after rejected messages")
	}
	got := map[string]float64{}
	for _, r := range []string{"accepted", "duplicate", "rejected_payload", "rejected_vehicle_mismatch"} {
		got[r] = counter(t, reg, r)
	}
	if got["accepted"] != 2 || got["duplicate"] != 1 || got["rejected_payload"] != 1 || got["rejected_vehicle_mismatch"] != 1 {
		t.Errorf("message counters %v", got)
	}

	vs := e.Vehicles()
	if len(vs) != 1 || vs[0].Trip != "E0800" || vs[0].Accepted != 2 || vs[0].Duplicates != 1 {
		t.Errorf("vehicles %+v", vs)
	}

	// Silent for longer than Stale: predictions go, schedule rows remain.
	clk.t = clk.t.Add(70 * time.Second)
	e.Refresh()
	if !hasTrip(published["S3"], "E0800") {
		t.Fatalf("S3 lost E0800 altogether: %+v", published["S3"].Arrivals)
	}
	if a := realtimeAt(published["S3"], "E0800"); a != nil {
		t.Errorf("stale vehicle still predicted at S3: %+v", a)
	}
}

func TestBoardAndTimetableForSigns(t *testing.T) {
	day := time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)
	clk := &clock{day.Add(9 * time.Hour)}
	e, _ := newEngine(t, clk, map[string]wire.Board{})
	if e.CurrentBoard("nope") != nil || e.Timetable("nope") != nil {
		t.Error("unknown stop served")
	}
	if e.Board("S1") != nil {
		t.Error("Board of a stop never built should be nil: Run builds and publishes it")
	}
	var b wire.Board
	if err := json.Unmarshal(e.CurrentBoard("S1"), &b); err != nil || len(b.Arrivals) == 0 {
		t.Fatalf("board %v %+v", err, b)
	}
	tt, err := wire.DecodeTimetable(e.Timetable("S1"))
	if err != nil {
		t.Fatal(err)
	}
	if tt.Until.Sub(tt.From) < 24*time.Hour {
		t.Errorf("timetable spans %v, want at least 24h", tt.Until.Sub(tt.From))
	}
}

func counter(t *testing.T, reg *prometheus.Registry, result string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "headway_vehicle_messages_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "result" && l.GetValue() == result {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestOneVehiclePerTripRun(t *testing.T) {
	day := time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)
	clk := &clock{day.Add(8*time.Hour + 4*time.Minute + 10*time.Second)}
	published := map[string]wire.Board{}
	e, reg := newEngine(t, clk, published)
	// Both are inferred onto E0800; bus-1 claimed it first and keeps it.
	e.Handle(positionOf(t, "bus-1", 1, 1500, clk.t))
	e.Handle(positionOf(t, "bus-2", 1, 1700, clk.t))
	e.Flush()
	for i := 2; i < 5; i++ {
		clk.t = clk.t.Add(time.Second)
		e.Handle(positionOf(t, "bus-1", uint64(i), 1500+float64(i), clk.t))
		e.Handle(positionOf(t, "bus-2", uint64(i), 1700+float64(i), clk.t))
		e.Flush()
		if a := realtimeAt(published["S3"], "E0800"); a == nil || a.Vehicle != "bus-1" {
			t.Fatalf("fix %d: S3 shows %+v, want E0800 predicted by bus-1 only", i, a)
		}
	}
	if got := gauge(t, reg, "headway_trip_conflicts_total"); got < 4 {
		t.Errorf("conflicts counted %v, want at least 4", got)
	}
	// bus-1 falls silent: after Stale, bus-2 takes the run over.
	clk.t = clk.t.Add(70 * time.Second)
	e.Refresh()
	e.Handle(positionOf(t, "bus-2", 9, 1900, clk.t))
	e.Flush()
	if a := realtimeAt(published["S3"], "E0800"); a == nil || a.Vehicle != "bus-2" {
		t.Fatalf("after bus-1 went silent S3 shows %+v, want bus-2", a)
	}
}

func gauge(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name && len(mf.GetMetric()) > 0 {
			m := mf.GetMetric()[0]
			if c := m.GetCounter(); c != nil {
				return c.GetValue()
			}
			return m.GetGauge().GetValue()
		}
	}
	return 0
}

func hasTrip(b wire.Board, trip string) bool {
	for _, a := range b.Arrivals {
		if a.Trip == trip {
			return true
		}
	}
	return false
}

// TestRunTellsApplied: Run calls a message's Applied once the tracker has
// it (a cluster's stream is acknowledged then, not when it is queued), for
// rejected messages too, which are done with.
func TestRunTellsApplied(t *testing.T) {
	day := time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)
	clk := &clock{day.Add(8*time.Hour + 4*time.Minute + 10*time.Second)}
	e, reg := newEngine(t, clk, map[string]wire.Board{})
	msgs := make(chan ingest.Message, 3)
	applied := make(chan uint64, 2)
	good := position(t, 1, 1500, clk.t)
	good.Applied = func() {
		if n := counter(t, reg, "accepted"); n != 1 {
			t.Errorf("applied with %v fixes accepted, want 1", n)
		}
		applied <- 1
	}
	bad := ingest.Message{Topic: wire.Topics{}.Position("bus-1"), Payload: []byte(`{"v":1`), Applied: func() { applied <- 0 }}
	// Gone stale (the hub stalled since it was handed it): neither
	// applied nor told.
	stale := position(t, 2, 1600, clk.t)
	stale.Stale = func() bool { return true }
	stale.Applied = func() { t.Error("a stale message told applied") }
	msgs <- stale
	msgs <- good
	msgs <- bad
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); e.Run(ctx, msgs) }()
	for _, want := range []uint64{1, 0} {
		select {
		case got := <-applied:
			if got != want {
				t.Errorf("applied %d, want %d", got, want)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("Applied not called")
		}
	}
	cancel()
	<-done
	if n := counter(t, reg, "stale_after_stall"); n != 1 {
		t.Errorf("%v stale messages counted, want 1", n)
	}
}
