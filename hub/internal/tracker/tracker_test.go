package tracker_test

import (
	"errors"
	"math"
	"sort"
	"testing"
	"time"

	"github.com/headway-transit/headway/hub/internal/testfeed"
	"github.com/headway-transit/headway/hub/internal/tracker"
	"github.com/headway-transit/headway/internal/geo"
	"github.com/headway-transit/headway/internal/wire"
)

var day = time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)

// pos is a fix d metres east of S0 at clock time hh:mm:ss, heading east.
func pos(seq uint64, d float64, at time.Duration, track float64) wire.Position {
	p := geo.Offset(testfeed.Origin, 90, d)
	return wire.Position{
		V: 1, Vehicle: "bus-1", Seq: seq, Time: day.Add(at), Lat: p.Lat, Lon: p.Lon, Mode: 3,
		Speed: wire.Float(8), Track: wire.Float(track),
	}
}

func hm(h, m, s int) time.Duration {
	return time.Duration(h)*time.Hour + time.Duration(m)*time.Minute + time.Duration(s)*time.Second
}

func TestInferTripAndDelay(t *testing.T) {
	feed := testfeed.Line(t)
	tr := tracker.New(feed, tracker.Config{MaxOffRoute: 100, MaxFuture: time.Minute})
	// 1500 m east at 08:04:10. Trip E0800 is scheduled there at 08:03:10
	// (departs S1 08:02:20, reaches S2 08:04:00: halfway is 08:03:10), so it
	// runs 60 s late; E0810 would be 9 minutes early. E0800 it is.
	at := hm(8, 4, 10)
	p := pos(1, 1500, at, 90)
	if _, err := tr.Update(p, day.Add(at)); err != nil {
		t.Fatal(err)
	}
	v := tr.Vehicle("bus-1")
	if v.Trip == nil || v.Trip.ID != "E0800" || v.TripSource != tracker.SourceInferred {
		t.Fatalf("trip = %v (%s), want E0800 inferred", v.Trip, v.TripSource)
	}
	if math.Abs(v.Dist-1500) > 2 {
		t.Errorf("dist = %.1f, want 1500", v.Dist)
	}
	if d := v.Delay - 60*time.Second; d < -time.Second || d > time.Second {
		t.Errorf("delay = %v, want 60s", v.Delay)
	}
	// Heading west at the same place and time is the westbound trip
	// W0800 (at 2500 m along its own path, scheduled 08:05:10: 60 s early).
	q := pos(1, 1500, at, 270)
	q.Vehicle = "bus-2"
	if _, err := tr.Update(q, day.Add(at)); err != nil {
		t.Fatal(err)
	}
	if v := tr.Vehicle("bus-2"); v.Trip == nil || v.Trip.ID != "W0800" {
		t.Fatalf("westbound trip = %v, want W0800", v.Trip)
	}
}

func TestReportedTripWins(t *testing.T) {
	feed := testfeed.Line(t)
	tr := tracker.New(feed, tracker.Config{MaxOffRoute: 100, MaxFuture: time.Minute})
	at := hm(8, 4, 10)
	p := pos(1, 1500, at, 90)
	p.Trip = "E0810" // the driver says so; nine minutes early is possible
	if _, err := tr.Update(p, day.Add(at)); err != nil {
		t.Fatal(err)
	}
	v := tr.Vehicle("bus-1")
	if v.Trip.ID != "E0810" || v.TripSource != tracker.SourceReported {
		t.Fatalf("trip = %s (%s), want E0810 reported", v.Trip.ID, v.TripSource)
	}
	if v.Delay > -8*time.Minute {
		t.Errorf("delay = %v, want about -9m", v.Delay)
	}
}

func TestConfiguredTrip(t *testing.T) {
	feed := testfeed.Line(t)
	tr := tracker.New(feed, tracker.Config{MaxOffRoute: 100, MaxFuture: time.Minute, Assigned: map[string]string{"bus-1": "E0820"}})
	at := hm(8, 4, 10)
	if _, err := tr.Update(pos(1, 1500, at, 90), day.Add(at)); err != nil {
		t.Fatal(err)
	}
	if v := tr.Vehicle("bus-1"); v.Trip.ID != "E0820" || v.TripSource != tracker.SourceConfigured {
		t.Fatalf("trip = %s (%s), want E0820 configured", v.Trip.ID, v.TripSource)
	}
}

func TestUpdateRejects(t *testing.T) {
	feed := testfeed.Line(t)
	at := hm(8, 4, 10)
	now := day.Add(at)
	tests := []struct {
		name    string
		prep    []wire.Position
		p       wire.Position
		wantErr error
		changed bool
	}{
		{name: "future", p: pos(1, 1500, at+time.Hour, 90), wantErr: tracker.ErrFuture},
		{name: "far away", p: func() wire.Position { p := pos(1, 0, at, 90); p.Lat = -33; return p }(), wantErr: tracker.ErrFarAway},
		{name: "duplicate seq", prep: []wire.Position{pos(5, 1400, at-time.Second, 90)}, p: pos(5, 1400, at-time.Second, 90), wantErr: tracker.ErrDuplicate},
		{name: "older than latest", prep: []wire.Position{pos(5, 1500, at, 90)}, p: pos(6, 1400, at-5*time.Second, 90), wantErr: tracker.ErrStale},
		{name: "backfill stays out of the live view", prep: []wire.Position{pos(1, 1400, at-10*time.Second, 90), pos(5, 1500, at, 90)},
			p: func() wire.Position { p := pos(3, 1400, at-5*time.Second, 90); p.Backfill = true; return p }()},
		{name: "next", prep: []wire.Position{pos(5, 1400, at-time.Second, 90)}, p: pos(6, 1500, at, 90), changed: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr := tracker.New(feed, tracker.Config{MaxOffRoute: 100, MaxFuture: time.Minute})
			for _, p := range tc.prep {
				if _, err := tr.Update(p, now); err != nil {
					t.Fatal(err)
				}
			}
			before := tr.Vehicle("bus-1")
			var live wire.Position
			if before != nil {
				live = before.Pos
			}
			changed, err := tr.Update(tc.p, now)
			if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil && err != nil) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			if changed != tc.changed {
				t.Errorf("changed = %v, want %v", changed, tc.changed)
			}
			if !tc.changed && before != nil && tr.Vehicle("bus-1").Pos != live {
				t.Errorf("live position moved on a rejected fix")
			}
		})
	}
}

func TestGapsCounted(t *testing.T) {
	feed := testfeed.Line(t)
	tr := tracker.New(feed, tracker.Config{MaxOffRoute: 100, MaxFuture: time.Minute})
	at := hm(8, 4, 0)
	for i, seq := range []uint64{1, 2, 5, 6} {
		if _, err := tr.Update(pos(seq, 1400+float64(i)*10, at+time.Duration(i)*time.Second, 90), day.Add(at+10*time.Second)); err != nil {
			t.Fatal(err)
		}
	}
	if v := tr.Vehicle("bus-1"); v.Gaps != 2 || v.Accepted != 4 {
		t.Errorf("gaps %d accepted %d, want 2 and 4", v.Gaps, v.Accepted)
	}
}

func TestScheduledAt(t *testing.T) {
	feed := testfeed.Line(t)
	trip := feed.Trips["E0800"]
	for _, tc := range []struct {
		dist float64
		want time.Duration
	}{
		{-10, hm(8, 0, 0)},
		{0, hm(8, 0, 0)},
		{500, hm(8, 1, 0)},   // halfway from 08:00:00 to 08:02:00
		{1500, hm(8, 3, 10)}, // halfway from 08:02:20 to 08:04:00
		{99999, hm(8, 8, 0)}, // clamped to the last arrival
		{4000, hm(8, 8, 0)},  // at the terminus
	} {
		got := tracker.ScheduledAt(trip, tc.dist)
		// Stop distances are projections and can be off by centimetres.
		if d := got - tc.want; d < -time.Second || d > time.Second {
			t.Errorf("ScheduledAt(%v) = %v, want %v", tc.dist, got, tc.want)
		}
	}
}

func TestReportedTripKeptOnDetour(t *testing.T) {
	feed := testfeed.Line(t)
	tr := tracker.New(feed, tracker.Config{MaxOffRoute: 100, MaxFuture: time.Minute})
	at := hm(8, 4, 10)
	p := pos(1, 1500, at, 90)
	p.Trip = "E0800"
	if _, err := tr.Update(p, day.Add(at)); err != nil {
		t.Fatal(err)
	}
	// 200 m north of the line: off route, still on its trip, progress kept.
	for i := 2; i <= 4; i++ {
		q := pos(uint64(i), 1500+float64(i)*20, at+time.Duration(i)*time.Second, 0)
		pt := geo.Offset(geo.Point{Lat: q.Lat, Lon: q.Lon}, 0, 200)
		q.Lat, q.Lon, q.Trip = pt.Lat, pt.Lon, "E0800"
		if _, err := tr.Update(q, day.Add(at+5*time.Second)); err != nil {
			t.Fatal(err)
		}
		v := tr.Vehicle("bus-1")
		if v.Trip == nil || v.Trip.ID != "E0800" {
			t.Fatalf("fix %d: trip %v, want E0800 kept on a detour", i, v.Trip)
		}
		if math.Abs(v.Dist-1500) > 2 || v.OffRoute != uint64(i-1) {
			t.Errorf("fix %d: dist %.0f off-route %d, want 1500 and %d", i, v.Dist, v.OffRoute, i-1)
		}
	}
}

func TestInferredTripSurvivesNoisyHeading(t *testing.T) {
	feed := testfeed.Line(t)
	tr := tracker.New(feed, tracker.Config{MaxOffRoute: 100, MaxFuture: time.Minute})
	at := hm(8, 4, 10)
	if _, err := tr.Update(pos(1, 1500, at, 90), day.Add(at)); err != nil {
		t.Fatal(err)
	}
	// One fix with its heading reversed by noise.
	if _, err := tr.Update(pos(2, 1508, at+time.Second, 270), day.Add(at+time.Second)); err != nil {
		t.Fatal(err)
	}
	if v := tr.Vehicle("bus-1"); v.Trip == nil || v.Trip.ID != "E0800" {
		t.Fatalf("trip %v after a noisy heading, want E0800 kept", v.Trip)
	}
}

func TestForget(t *testing.T) {
	feed := testfeed.Line(t)
	tr := tracker.New(feed, tracker.Config{MaxOffRoute: 100, MaxFuture: time.Minute})
	at := hm(8, 4, 10)
	if _, err := tr.Update(pos(1, 1500, at, 90), day.Add(at)); err != nil {
		t.Fatal(err)
	}
	far := pos(1, 0, at, 90)
	far.Vehicle, far.Lat = "ghost", -40
	if _, err := tr.Update(far, day.Add(at)); err == nil {
		t.Fatal("far-away fix accepted")
	}
	if tr.Vehicle("ghost") != nil {
		t.Error("a rejected fix created a vehicle")
	}
	tr.Forget(day.Add(at + time.Second))
	if len(tr.Vehicles()) != 0 {
		t.Errorf("Forget left %d vehicles", len(tr.Vehicles()))
	}
}

func TestOutboxReset(t *testing.T) {
	feed := testfeed.Line(t)
	tr := tracker.New(feed, tracker.Config{MaxOffRoute: 100, MaxFuture: time.Minute})
	at := hm(8, 4, 0)
	if _, err := tr.Update(pos(500, 1400, at, 90), day.Add(at)); err != nil {
		t.Fatal(err)
	}
	// The agent lost its outbox (a corrupt file moved aside): seq 1 again,
	// but a newer fix. It is live, not a duplicate.
	changed, err := tr.Update(pos(1, 1410, at+time.Second, 90), day.Add(at+time.Second))
	if err != nil || !changed {
		t.Fatalf("after a reset: changed %v err %v", changed, err)
	}
	if v := tr.Vehicle("bus-1"); v.Resets != 1 || v.Accepted != 2 || v.LastSeq != 1 {
		t.Errorf("resets %d accepted %d last seq %d", v.Resets, v.Accepted, v.LastSeq)
	}
	// ... and the same seq again is a duplicate.
	if _, err := tr.Update(pos(1, 1410, at+time.Second, 90), day.Add(at+time.Second)); !errors.Is(err, tracker.ErrDuplicate) {
		t.Errorf("redelivery after a reset: %v", err)
	}
}

func TestBlockAssignment(t *testing.T) {
	feed := testfeed.Line(t)
	tr := tracker.New(feed, tracker.Config{MaxOffRoute: 100, MaxFuture: time.Minute, Blocks: map[string]string{"bus-1": "B0800"}})
	// Eastbound at 08:04: the block's first trip.
	at := hm(8, 4, 10)
	if _, err := tr.Update(pos(1, 1500, at, 90), day.Add(at)); err != nil {
		t.Fatal(err)
	}
	if v := tr.Vehicle("bus-1"); v.Trip == nil || v.Trip.ID != "E0800" || v.TripSource != tracker.SourceBlock {
		t.Fatalf("trip %v (%s), want E0800 from the block", v.Trip, v.TripSource)
	}
	// After the layover, westbound at 08:13: the block's second trip, even
	// though W0800 (another bus's) passes there nearer its own schedule at
	// another time.
	for i := 0; i < 3; i++ {
		at = hm(8, 13, i)
		if _, err := tr.Update(pos(uint64(2+i), 3000-float64(i)*8, at, 270), day.Add(at)); err != nil {
			t.Fatal(err)
		}
	}
	if v := tr.Vehicle("bus-1"); v.Trip == nil || v.Trip.ID != "W0810" || v.TripSource != tracker.SourceBlock {
		t.Fatalf("trip %v (%s), want W0810 from the block", v.Trip, v.TripSource)
	}
}

func TestPassages(t *testing.T) {
	feed := testfeed.Line(t)
	tr := tracker.New(feed, tracker.Config{MaxOffRoute: 100, MaxFuture: time.Minute})
	fix := func(seq uint64, d float64, at time.Duration) *tracker.Vehicle {
		t.Helper()
		p := pos(seq, d, at, 90)
		p.Trip = "E0800"
		if _, err := tr.Update(p, day.Add(at)); err != nil {
			t.Fatal(err)
		}
		return tr.Vehicle("bus-1")
	}
	// Waiting at S0: nothing passed, the trip has not started.
	if v := fix(1, 0, hm(7, 59, 30)); v.Next != 0 || len(v.Passed) != 0 {
		t.Fatalf("waiting: next %d passed %+v", v.Next, v.Passed)
	}
	if v := fix(2, 100, hm(8, 0, 0)); v.Next != 0 || len(v.Passed) != 0 {
		t.Fatalf("still at the terminal (within LayoverRadius): next %d passed %+v", v.Next, v.Passed)
	}
	// 100 m to 300 m in 60 s: the 150 m layover mark is crossed a quarter
	// of the way, at 08:00:15.
	// Positions are projections: times are exact to a few milliseconds.
	near := func(a time.Time, b time.Duration) bool { return a.Sub(day.Add(b)).Abs() < 10*time.Millisecond }
	v := fix(3, 300, hm(8, 1, 0))
	if len(v.Passed) != 1 || v.Passed[0].Index != 0 || !near(v.Passed[0].At, hm(8, 0, 15)) || v.Next != 1 {
		t.Fatalf("leaving S0: next %d passed %+v, want S0 at 08:00:15", v.Next, v.Passed)
	}
	// 900 m to 2100 m in 60 s crosses S1 (1025 m with StopRadius) at
	// 08:02:06.25 and S2 (2025 m) at 08:02:56.25.
	fix(4, 900, hm(8, 2, 0))
	v = fix(5, 2100, hm(8, 3, 0))
	if len(v.Passed) != 2 || v.Next != 3 {
		t.Fatalf("next %d passed %+v, want S1 and S2", v.Next, v.Passed)
	}
	s1, s2 := v.Passed[0], v.Passed[1]
	if s1.Index != 1 || !near(s1.At, hm(8, 2, 6)+250*time.Millisecond) || !near(s1.PrevAt, hm(8, 0, 15)) || s1.Gap != time.Minute {
		t.Errorf("S1 passage %+v", s1)
	}
	if s2.Index != 2 || !near(s2.At, hm(8, 2, 56)+250*time.Millisecond) || !s2.PrevAt.Equal(s1.At) {
		t.Errorf("S2 passage %+v", s2)
	}
	// GPS noise backwards passes nothing again.
	if v := fix(6, 2080, hm(8, 3, 10)); len(v.Passed) != 0 || v.Next != 3 {
		t.Errorf("after a step back: next %d passed %+v", v.Next, v.Passed)
	}
}

// TestPassageAfterDwell: a bus standing a little past a stop's pole is at
// the stop, with its dwell ahead: the stop is passed when it moves off.
func TestPassageAfterDwell(t *testing.T) {
	feed := testfeed.Line(t)
	tr := tracker.New(feed, tracker.Config{MaxOffRoute: 100, MaxFuture: time.Minute})
	fix := func(seq uint64, d, speed float64, at time.Duration) *tracker.Vehicle {
		t.Helper()
		p := pos(seq, d, at, 90)
		p.Trip, p.Speed = "E0800", wire.Float(speed)
		if _, err := tr.Update(p, day.Add(at)); err != nil {
			t.Fatal(err)
		}
		return tr.Vehicle("bus-1")
	}
	fix(1, 600, 8, hm(8, 1, 30))
	// S1 is at 1000 m. Standing 40 m past it (past StopRadius, within
	// DwellRadius): not passed.
	if v := fix(2, 1040, 0, hm(8, 2, 30)); v.Next != 1 || len(v.Passed) != 0 {
		t.Fatalf("standing 40 m past S1: next %d passed %+v", v.Next, v.Passed)
	}
	if v := fix(3, 1040, 0, hm(8, 2, 40)); v.Next != 1 {
		t.Fatalf("still standing: next %d", v.Next)
	}
	// Moved off: 1040 m to 1240 m in 20 s, leaving its spot (10 m on, at
	// 1050 m) at 08:02:41.
	v := fix(4, 1240, 10, hm(8, 3, 0))
	if len(v.Passed) != 1 || v.Passed[0].Index != 1 || v.Passed[0].At.Sub(day.Add(hm(8, 2, 41))).Abs() > 10*time.Millisecond {
		t.Fatalf("moved off: next %d passed %+v, want S1 at 08:02:41", v.Next, v.Passed)
	}
	// A bus driving through at speed passes at StopRadius.
	tr2 := tracker.New(feed, tracker.Config{MaxOffRoute: 100, MaxFuture: time.Minute})
	for i, f := range []struct{ d, at float64 }{{1900, 0}, {2040, 10}} {
		p := pos(uint64(i+1), f.d, hm(8, 4, int(f.at)), 90)
		p.Trip = "E0800"
		if _, err := tr2.Update(p, day.Add(hm(8, 4, int(f.at)))); err != nil {
			t.Fatal(err)
		}
	}
	if v := tr2.Vehicle("bus-1"); len(v.Passed) != 1 || v.Passed[0].Index != 2 {
		t.Fatalf("driving through S2: passed %+v", v.Passed)
	}
}

// TestStanding: the tracker follows a vehicle standing still and moving
// off, by its reported speed or, without one, by how far it went.
func TestStanding(t *testing.T) {
	feed := testfeed.Line(t)
	tr := tracker.New(feed, tracker.Config{MaxOffRoute: 100, MaxFuture: time.Minute})
	type fix struct {
		d     float64
		speed *float64
	}
	for i, f := range []struct {
		fix
		since time.Duration // StandingSince after it, from 08:02:00; -1: moving
		stood time.Duration // StoodFor after it
	}{
		{fix{1400, wire.Float(8)}, -1, 0},
		{fix{1500, wire.Float(0.3)}, 30 * time.Second, 0},
		{fix{1502, wire.Float(0)}, 30 * time.Second, 0},
		{fix{1600, wire.Float(7)}, -1, 60 * time.Second},
		{fix{1800, nil}, -1, 0},                // 200 m in 30 s, no speed: moving
		{fix{1805, nil}, 150 * time.Second, 0}, // 5 m in 30 s: standing
		{fix{1808, nil}, 150 * time.Second, 0},
		{fix{2100, nil}, -1, 60 * time.Second},
	} {
		at := hm(8, 2, 0) + time.Duration(i)*30*time.Second
		p := pos(uint64(i+1), f.d, at, 90)
		p.Trip, p.Speed = "E0800", f.speed
		if _, err := tr.Update(p, day.Add(at)); err != nil {
			t.Fatal(err)
		}
		v := tr.Vehicle("bus-1")
		want := time.Time{}
		if f.since >= 0 {
			want = day.Add(hm(8, 2, 0) + f.since)
		}
		if !v.StandingSince.Equal(want) || v.StoodFor != f.stood {
			t.Errorf("fix %d: standing since %v, stood for %v; want %v, %v", i, v.StandingSince, v.StoodFor, want, f.stood)
		}
	}
}

func TestInferNextTripOfBlock(t *testing.T) {
	feed := testfeed.Line(t)
	tr := tracker.New(feed, tracker.Config{MaxOffRoute: 100, MaxFuture: time.Minute})
	// E0800 inferred on the way out, then the bus reaches the east end...
	for i, f := range []struct {
		d  float64
		at time.Duration
	}{{1500, hm(8, 2, 10)}, {2500, hm(8, 3, 0)}, {3990, hm(8, 4, 20)}} {
		if _, err := tr.Update(pos(uint64(i+1), f.d, f.at, 90), day.Add(f.at)); err != nil {
			t.Fatal(err)
		}
	}
	// ... early, and waits there, standing still, 4:40 after W0800 left
	// and 5:20 before W0810 leaves: its block goes on with W0810.
	if v := tr.Vehicle("bus-1"); v.Trip != nil {
		t.Fatalf("at the end of E0800: trip %v, want none", v.Trip.ID)
	}
	p := pos(4, 3995, hm(8, 4, 40), 270)
	p.Speed = wire.Float(0)
	if _, err := tr.Update(p, day.Add(hm(8, 4, 40))); err != nil {
		t.Fatal(err)
	}
	if v := tr.Vehicle("bus-1"); v.Trip == nil || v.Trip.ID != "W0810" {
		t.Fatalf("after E0800: trip %v, want W0810 (the block's next)", v.Trip)
	}
}

// drive is a bus's fixes every 30 s along a piecewise-linear course of
// (clock time, metres east of S0) waypoints, heading east.
func drive(vehicle string, course [][2]float64) []wire.Position {
	var out []wire.Position
	seq := uint64(0)
	for i := 0; i+1 < len(course); i++ {
		a, b := course[i], course[i+1]
		speed := (b[1] - a[1]) / (b[0] - a[0])
		for at := a[0]; at < b[0]; at += 30 {
			d := a[1] + (at-a[0])*speed
			seq++
			p := geo.Offset(testfeed.Origin, 90, d)
			out = append(out, wire.Position{
				V: 1, Vehicle: vehicle, Seq: seq, Time: day.Add(time.Duration(at) * time.Second),
				Lat: p.Lat, Lon: p.Lon, Mode: 3, Speed: wire.Float(speed), Track: wire.Float(90),
			})
		}
	}
	return out
}

func clock(h, m int) float64 { return float64(h*3600 + m*60) }

// TestBunchedBusesKeepTheirTrips: bus-1 leaves on time on E0800, is held up
// for nine minutes, and drives on as bus-2, on time on E0810, catches up
// with it. bus-1 is then nine minutes late on E0800 but only one minute
// early on E0810: nearest the schedule it would take bus-2's trip. Its
// history (on time on E0800 before) and bus-2's better claim on E0810 keep
// each bus on its own trip.
func TestBunchedBusesKeepTheirTrips(t *testing.T) {
	feed := testfeed.Line(t)
	tr := tracker.New(feed, tracker.Config{MaxOffRoute: 100, MaxFuture: time.Minute})
	fixes := append(
		drive("bus-1", [][2]float64{{clock(7, 58), 0}, {clock(8, 0), 0}, {clock(8, 3), 1500}, {clock(8, 12), 1500}, {clock(8, 16), 3500}}),
		drive("bus-2", [][2]float64{{clock(8, 8), 0}, {clock(8, 10), 0}, {clock(8, 16), 3000}})...)
	sort.SliceStable(fixes, func(i, j int) bool { return fixes[i].Time.Before(fixes[j].Time) })
	want := map[string]string{"bus-1": "E0800", "bus-2": "E0810"}
	for _, p := range fixes {
		if _, err := tr.Update(p, p.Time); err != nil {
			t.Fatal(err)
		}
		if p.Time.Before(day.Add(hm(8, 1, 0))) || (p.Vehicle == "bus-2" && p.Time.Before(day.Add(hm(8, 11, 0)))) {
			continue // still choosing
		}
		v := tr.Vehicle(p.Vehicle)
		if v.Trip == nil || v.Trip.ID != want[p.Vehicle] {
			t.Fatalf("%s at %s, %.0f m: trip %v, want %s", p.Vehicle, p.Time.Format("15:04:05"), v.Dist, v.Trip, want[p.Vehicle])
		}
	}
	if v := tr.Vehicle("bus-1"); v.Delay < 8*time.Minute {
		t.Errorf("bus-1 delay %v, want about 9m", v.Delay)
	}
}

// TestBunchedBusesShareOutTrips: bus-2 runs a minute and a half ahead of
// bus-1, which is on time on E0800. Alone, bus-2 fits E0800 best (90 s
// early rather than eight and a half minutes late on E0750), and it is seen
// first. But one bus works a block: together the two fit best with bus-1 on
// E0800 and bus-2, late, on E0750, and that is where the evidence soon
// puts them (each moves at its own next fix).
func TestBunchedBusesShareOutTrips(t *testing.T) {
	feed := testfeed.Line(t)
	tr := tracker.New(feed, tracker.Config{MaxOffRoute: 100, MaxFuture: time.Minute})
	fixes := append(
		drive("bus-2", [][2]float64{{clock(8, 0), 750}, {clock(8, 6) + 4, 3700}}),
		drive("bus-1", [][2]float64{{clock(8, 1) + 40, 750}, {clock(8, 7) + 40, 3700}})...)
	sort.SliceStable(fixes, func(i, j int) bool { return fixes[i].Time.Before(fixes[j].Time) })
	want := map[string]string{"bus-1": "E0800", "bus-2": "E0750"}
	for _, p := range fixes {
		if _, err := tr.Update(p, p.Time); err != nil {
			t.Fatal(err)
		}
		if p.Time.Before(day.Add(hm(8, 5, 30))) {
			continue // the evidence builds up
		}
		if v := tr.Vehicle(p.Vehicle); v.Trip == nil || v.Trip.ID != want[p.Vehicle] {
			t.Fatalf("%s at %s, %.0f m: trip %v, want %s", p.Vehicle, p.Time.Format("15:04:05"), v.Dist, v.Trip, want[p.Vehicle])
		}
	}
}

// TestAmbiguousAndTrackedSince: a bus first heard 7.5 min late on E0800 is
// 2.5 min early on E0810, which fits it about as well (early counting
// three times late): its inferred trip is a guess. On time for E0800 it is
// not. TrackedSince is its first fix, and again its first after a silence.
func TestAmbiguousAndTrackedSince(t *testing.T) {
	feed := testfeed.Line(t)
	tr := tracker.New(feed, tracker.Config{MaxOffRoute: 100, MaxFuture: time.Minute})
	send := func(seq uint64, d float64, at time.Duration) *tracker.Vehicle {
		t.Helper()
		if _, err := tr.Update(pos(seq, d, at, 90), day.Add(at)); err != nil {
			t.Fatal(err)
		}
		return tr.Vehicle("bus-1")
	}
	// S2 (2000 m): E0800 at 08:04:00-08:04:20, E0810 at 08:14:00.
	v := send(1, 2000, hm(8, 11, 30))
	if v.Trip == nil || !v.Ambiguous {
		t.Fatalf("7.5 min late on E0800, 2.5 early on E0810: trip %v, ambiguous %v, want a trip and ambiguous", v.Trip, v.Ambiguous)
	}
	if !v.TrackedSince.Equal(day.Add(hm(8, 11, 30))) {
		t.Errorf("TrackedSince %v, want the first fix", v.TrackedSince)
	}
	v = send(2, 2080, hm(8, 11, 40))
	if !v.TrackedSince.Equal(day.Add(hm(8, 11, 30))) {
		t.Errorf("TrackedSince %v after a second fix, want the first fix's", v.TrackedSince)
	}
	// Silent for 20 minutes: tracked anew.
	v = send(3, 2010, hm(8, 31, 40))
	if !v.TrackedSince.Equal(day.Add(hm(8, 31, 40))) {
		t.Errorf("TrackedSince %v after 20 min silent, want the fix after it", v.TrackedSince)
	}
	// Another bus, on time for E0800 at S2: plainly E0800.
	p := pos(1, 2010, hm(8, 4, 30), 90)
	p.Vehicle = "bus-2"
	if _, err := tr.Update(p, day.Add(hm(8, 4, 30))); err != nil {
		t.Fatal(err)
	}
	if v := tr.Vehicle("bus-2"); v.Trip == nil || v.Trip.ID != "E0800" || v.Ambiguous {
		t.Fatalf("on time for E0800: trip %v, ambiguous %v, want E0800, not ambiguous", v.Trip, v.Ambiguous)
	}
}

// TestTakenOver: a hub of a partitioned cluster taking a bus over from a
// hub that died meets its seqs in any order for a while (fixes the dead hub
// was handed and never applied, redelivered 30 s late; fixes the bus sent
// again late), so it counts holes only from after the highest seq it met
// in its first 40 s: the fixes another hub applied are not missing here,
// and each seq met is taken once.
func TestTakenOver(t *testing.T) {
	feed := testfeed.Line(t)
	tr := tracker.New(feed, tracker.Config{MaxOffRoute: 100, MaxFuture: time.Minute, Shared: true})
	at := hm(8, 4, 0)
	// fix sends seq, a fix taken at `at` plus seq seconds, received
	// after later.
	fix := func(seq uint64, after time.Duration) error {
		_, err := tr.Update(pos(seq, 1400+float64(seq), at+time.Duration(seq)*time.Second, 90), day.Add(at+after))
		return err
	}
	// In the first 40 s: 20 (sent again late), then 27-60 (22-26 applied
	// by the dead hub), then 21 (redelivered).
	if err := fix(20, 28*time.Second); err != nil {
		t.Fatal(err)
	}
	for seq := uint64(27); seq <= 60; seq++ {
		if err := fix(seq, time.Duration(seq+1)*time.Second); err != nil {
			t.Fatal(err)
		}
	}
	if err := fix(21, 55*time.Second); !errors.Is(err, tracker.ErrStale) {
		t.Errorf("seq 21, late: %v, want it taken as stale", err)
	}
	if err := fix(21, 56*time.Second); !errors.Is(err, tracker.ErrDuplicate) {
		t.Errorf("seq 21 again: %v, want a duplicate", err)
	}
	// After 40 s: counted from 61; 63 skips 62.
	for _, seq := range []uint64{61, 63} {
		if err := fix(seq, time.Duration(seq+8)*time.Second); err != nil {
			t.Fatal(err)
		}
	}
	v := tr.Vehicle("bus-1")
	if v.Missing() != 1 || len(v.Holes(8)) != 1 || v.Holes(8)[0] != 62 || v.FirstSeq() != 61 {
		t.Errorf("missing %d %v from %d: want only 62, counted from 61", v.Missing(), v.Holes(8), v.FirstSeq())
	}
	// Handed to another hub, back 20 s later: counted afresh, not 20
	// missing.
	if err := fix(84, 92*time.Second); err != nil {
		t.Fatal(err)
	}
	if v.Missing() != 0 || v.FirstSeq() != 0 {
		t.Errorf("back after a silence: missing %d from %d, want none, not counting yet", v.Missing(), v.FirstSeq())
	}
	// One hub, unshared, the same: 21-26 missing from the start.
	one := tracker.New(feed, tracker.Config{MaxOffRoute: 100, MaxFuture: time.Minute})
	for _, seq := range []uint64{20, 27, 28} {
		one.Update(pos(seq, 1400+float64(seq), at+time.Duration(seq)*time.Second, 90), day.Add(at+time.Duration(seq+1)*time.Second))
	}
	if v := one.Vehicle("bus-1"); v.Missing() != 6 {
		t.Errorf("one hub: missing %d, want 6", v.Missing())
	}
}
