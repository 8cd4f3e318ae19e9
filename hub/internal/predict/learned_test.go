package predict_test

import (
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/headway-transit/headway/hub/internal/predict"
	"github.com/headway-transit/headway/hub/internal/testfeed"
	"github.com/headway-transit/headway/hub/internal/tracker"
)

func TestLearned(t *testing.T) {
	feed := testfeed.Line(t)
	day := time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)
	at := func(h, m, s int) time.Time { return day.Add(time.Duration(h*3600+m*60+s) * time.Second) }
	m := predict.NewLearned(feed, predict.LearnedConfig{})
	now := at(8, 14, 30)

	// bus-0 left S0 on E0750 120 s late, bus-9 on E0740 30 s late, after
	// waiting there.
	m.Observe(&tracker.Vehicle{ID: "bus-0", Trip: feed.Trips["E0750"], DayStart: day, Since: at(7, 45, 0), Passed: []tracker.Passage{
		{Index: 0, At: at(7, 52, 0), Gap: 30 * time.Second},
	}})
	m.Observe(&tracker.Vehicle{ID: "bus-9", Trip: feed.Trips["E0740"], DayStart: day, Since: at(7, 35, 0), Passed: []tracker.Passage{
		{Index: 0, At: at(7, 40, 30), Gap: 30 * time.Second},
	}})
	// bus-1, late on E0800, drove S1 -> S2 in 150 s (scheduled: 120 s,
	// departure to departure). It left S0 60 s late after waiting there.
	m.Observe(&tracker.Vehicle{ID: "bus-1", Trip: feed.Trips["E0800"], DayStart: day, Since: at(7, 55, 0), Passed: []tracker.Passage{
		{Index: 0, At: at(8, 1, 0), Gap: 30 * time.Second},
	}})
	m.Observe(&tracker.Vehicle{ID: "bus-1", Trip: feed.Trips["E0800"], DayStart: day, Passed: []tracker.Passage{
		{Index: 2, At: now, Gap: 30 * time.Second, PrevAt: now.Add(-150 * time.Second), PrevGap: 30 * time.Second},
	}})

	// The line runs 150/120 slow on what was seen, shrunk towards the
	// schedule by a trip's worth of it (480 s, S0 to S4): ratio
	// (150+480)/(120+480). S1 -> S2: the
	// observation (weight 1, fresh) with the prior (weight 0.5, 120 s x
	// ratio). Unseen segments: scheduled x ratio.
	ratio := 630.0 / 600
	s12 := (0.5*120*ratio + 150) / 1.5
	other := 120 * ratio

	// bus-2 on E0810 has just passed S1: S2, S3, S4 follow.
	v := &tracker.Vehicle{ID: "bus-2", Trip: feed.Trips["E0810"], DayStart: day, Next: 2, Dist: 1025, FixTime: now, PassedAt: now}
	check(t, m.Predict(v, now), now, []float64{s12, s12 + other, s12 + 2*other})

	// Half way to S2 (1525 m of 1025..2025), 80 s after S1: half the
	// segment is left, but no less than its time minus the time since S1.
	v.Dist, v.PassedAt = 1525, now.Add(-80*time.Second)
	left := math.Max(s12/2, s12-80)
	check(t, m.Predict(v, now), now, []float64{left, left + other, left + 2*other})

	// bus-3 waits at S0 for E0820 (08:20): it leaves as late as the
	// line's waiting buses lately left, the weighted median of 30, 60 and
	// 120 s and one "soon after now" (60 s) prior: 60 s. It keeps no
	// earlier than the schedule plus that at every stop while its trip has
	// not begun.
	w := &tracker.Vehicle{ID: "bus-3", Trip: feed.Trips["E0820"], DayStart: day, Next: 0, Dist: 0, FixTime: now}
	got := m.Predict(w, now)
	dep := at(8, 20, 0).Sub(now).Seconds() + 60
	s01 := 140 * ratio // S0 departure 08:20:00 to S1 departure 08:22:20
	check(t, got, now, []float64{dep, dep + s01, dep + s01 + s12, dep + s01 + s12 + other, dep + s01 + s12 + 2*other})

	// Still there 90 s after its time, it is one of the late ones: of the
	// departures later than that only 120 s (seen 29.5 minutes ago, so
	// weighing exp(-29.5/120) = 0.78) and the prior (90+60 s, weighing 1)
	// are left: the weighted median is 150 s.
	late := at(8, 21, 30)
	if got := m.Predict(w, late); got[0].Predicted.Sub(at(8, 20, 0)) != 150*time.Second {
		t.Errorf("waiting 90 s after its time: leaves %v", got[0].Predicted)
	}
	// 5 minutes after its time, later than any seen: the prior, soon.
	later := at(8, 25, 0)
	if got := m.Predict(w, later); got[0].Predicted.Sub(later) != 60*time.Second {
		t.Errorf("waiting 5 min after its time: leaves %v", got[0].Predicted)
	}

	// Nothing is predicted in the past, however late.
	for _, a := range m.Predict(w, at(9, 0, 0)) {
		if a.Predicted.Before(at(9, 0, 0)) {
			t.Errorf("%s predicted in the past: %v", a.StopID, a.Predicted)
		}
	}
	// At the terminus nothing is left; no trip, nothing.
	if got := m.Predict(&tracker.Vehicle{Trip: feed.Trips["E0810"], Next: 5}, now); len(got) != 0 {
		t.Errorf("after the last stop: %+v", got)
	}
	if got := m.Predict(&tracker.Vehicle{}, now); got != nil {
		t.Errorf("no trip: %+v", got)
	}
}

// check compares predictions with seconds after now, to the second.
func check(t *testing.T, got []predict.Arrival, now time.Time, want []float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d predictions %+v, want %d", len(got), got, len(want))
	}
	for i, w := range want {
		if d := got[i].Predicted.Sub(now).Seconds() - w; math.Abs(d) > 0.51 {
			t.Errorf("%s at +%.1f s, want +%.1f s", got[i].StopID, got[i].Predicted.Sub(now).Seconds(), w)
		}
	}
}

// TestLearnedChoosesMemory: each line weighs past segment times over the
// memory that has lately predicted them best: a long one when the times
// scatter around a steady mean, a short one when they move.
func TestLearnedChoosesMemory(t *testing.T) {
	feed := testfeed.Line(t)
	day := time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)
	// S1 -> S2 driven every 10 minutes from 06:00 for 3 hours, taking
	// times[i] seconds; then a bus has just passed S1 at 09:00.
	predictS2 := func(times func(i int) float64, memories ...time.Duration) float64 {
		m := predict.NewLearned(feed, predict.LearnedConfig{SegmentMemories: memories})
		var at time.Time
		for i := 0; i < 18; i++ {
			trip := feed.Trips[fmt.Sprintf("E%02d%02d", 6+i/6, i%6*10)]
			at = day.Add(time.Duration(6*60+i*10)*time.Minute + 3*time.Minute)
			m.Observe(&tracker.Vehicle{ID: "bus", Trip: trip, DayStart: day, Passed: []tracker.Passage{
				{Index: 2, At: at, Gap: 30 * time.Second, PrevAt: at.Add(-time.Duration(times(i) * float64(time.Second))), PrevGap: 30 * time.Second},
			}})
		}
		now := day.Add(9 * time.Hour)
		v := &tracker.Vehicle{ID: "bus-2", Trip: feed.Trips["E0900"], DayStart: day, Next: 2, Dist: 1025, FixTime: now, PassedAt: now}
		return m.Predict(v, now)[0].Predicted.Sub(now).Seconds()
	}
	// 90, 210, 90, 210 ...: a steady 150 s. Following the latest times
	// would be 60 s off every time.
	scattered := func(i int) float64 { return 90 + 120*float64(i%2) }
	got, short := predictS2(scattered), predictS2(scattered, 15*time.Minute)
	t.Logf("scattered around 150 s: S2 in %.0f s (%.0f with a 15-minute memory)", got, short)
	if math.Abs(got-150) > 5 || math.Abs(short-150) < 8 {
		t.Errorf("scattered around 150 s: S2 in %.0f s (%.0f with a 15-minute memory), want about 150", got, short)
	}
	// 100 s for two hours, then 200 s: the line has slowed down. A
	// 4-hour memory would still remember the 100s.
	slowed := func(i int) float64 { return 100 + 100*float64(i/12) }
	long := predictS2(slowed, 4*time.Hour)
	if got := predictS2(slowed); got < 175 || long > 160 {
		t.Errorf("slowed from 100 s to 200 s: S2 in %.0f s (%.0f with a 4-hour memory), want nearly 200", got, long)
	}
}

// TestLearnedStanding: a bus standing still mid-trip is predicted to stand
// as long as the stands seen that lasted longer than its stand so far.
func TestLearnedStanding(t *testing.T) {
	feed := testfeed.Line(t)
	day := time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)
	now := day.Add(9 * time.Hour)
	m := predict.NewLearned(feed, predict.LearnedConfig{})
	stood := func(d ...float64) {
		for i, s := range d {
			m.Observe(&tracker.Vehicle{ID: fmt.Sprint("bus-", i), Trip: feed.Trips["E0840"], DayStart: day, Next: 2,
				FixTime: now.Add(-time.Minute), StoodFor: time.Duration(s * float64(time.Second))})
		}
	}
	v := &tracker.Vehicle{ID: "bus-x", Trip: feed.Trips["E0850"], DayStart: day, Next: 2, Dist: 1500, FixTime: now, PassedAt: now.Add(-time.Minute)}
	moving := m.Predict(v, now)[0].Predicted
	v.StandingSince = now.Add(-45 * time.Second)
	stood(10, 20, 30, 40, 50, 60, 120)
	// Three stands seen lasted longer than 45 s: too few to say.
	if got := m.Predict(v, now)[0].Predicted; !got.Equal(moving) {
		t.Errorf("with 3 longer stands seen: S2 at %v, want %v as if moving", got, moving)
	}
	stood(180, 240)
	// Longer than 45 s: 50, 60, 120, 180, 240 s; the median is 120 s, so
	// 75 s more.
	if got := m.Predict(v, now)[0].Predicted.Sub(moving); got != 75*time.Second {
		t.Errorf("standing for 45 s: S2 %v later than moving, want 75s", got)
	}
	// Stands at the first stop (layovers) and beyond 20 minutes
	// (breakdowns) are not traffic.
	m.Observe(&tracker.Vehicle{ID: "bus-l", Trip: feed.Trips["E0840"], DayStart: day, Next: 0, FixTime: now, StoodFor: 10 * time.Minute})
	m.Observe(&tracker.Vehicle{ID: "bus-b", Trip: feed.Trips["E0840"], DayStart: day, Next: 3, FixTime: now, StoodFor: 25 * time.Minute})
	if got := m.Predict(v, now)[0].Predicted.Sub(moving); got != 75*time.Second {
		t.Errorf("after a layover and a breakdown: S2 %v later than moving, want 75s", got)
	}
}

// TestLearnedLayoverRunsAsLine: a bus waiting for its departure leaves
// the stop ahead of it at its time (plus the line's lateness), then runs as
// the line's buses run: on a line faster than its schedule it gains on the
// schedule at the later stops, as its running buses do.
func TestLearnedLayoverRunsAsLine(t *testing.T) {
	feed := testfeed.Line(t)
	day := time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)
	now := day.Add(8*time.Hour + 15*time.Minute)
	m := predict.NewLearned(feed, predict.LearnedConfig{})
	// Buses just drove S1 -> S2, S2 -> S3 and S3 -> S4 in 60 s each
	// (scheduled: 120 s).
	for i := 2; i <= 4; i++ {
		m.Observe(&tracker.Vehicle{ID: fmt.Sprint("bus-", i), Trip: feed.Trips["E0800"], DayStart: day, Passed: []tracker.Passage{
			{Index: i, At: now, Gap: 30 * time.Second, PrevAt: now.Add(-time.Minute), PrevGap: 30 * time.Second},
		}})
	}
	ratio := (180.0 + 480) / (360 + 480) // a trip's worth of schedule as the prior
	seg := (0.5*120*ratio + 60) / 1.5    // one fresh time, with the prior
	s01 := 140 * ratio                   // not driven yet: the schedule, scaled
	// bus-w waits at S0 for E0820 (08:20): it leaves at 08:21 (nothing
	// learned of departures: "soon", 60 s), then runs as the line runs,
	// not to the schedule (S1 08:22:20, S2 08:24:20 ... plus the minute).
	w := &tracker.Vehicle{ID: "bus-w", Trip: feed.Trips["E0820"], DayStart: day, Next: 0, FixTime: now}
	dep := 5*60.0 + 60
	check(t, m.Predict(w, now), now, []float64{dep, dep + s01, dep + s01 + seg, dep + s01 + 2*seg, dep + s01 + 3*seg})

	// bus-v stands past S1 (where its operator lets it wait) for E0820:
	// it leaves at S2's time plus the minute, then runs as the line runs.
	v := &tracker.Vehicle{ID: "bus-v", Trip: feed.Trips["E0820"], DayStart: day, Next: 2, Dist: 1100, FixTime: now,
		PassedAt: now.Add(-time.Minute), StandingSince: now.Add(-time.Minute)}
	dep = 9*60.0 + 20 + 60
	check(t, m.Predict(v, now), now, []float64{dep, dep + seg, dep + 2*seg})

	// bus-d drives there, past the terminal's area, five minutes before
	// E0820's departure: it is under way, not waiting for the schedule
	// (issue 21: a late bus taken for the next trip was predicted to hold
	// for it). It is predicted as it drives, as if on the trip before
	// (E0800), which it is late for.
	d := &tracker.Vehicle{ID: "bus-d", Trip: feed.Trips["E0820"], DayStart: day, Next: 2, Dist: 1100, FixTime: now, PassedAt: now.Add(-time.Minute)}
	late := *d
	late.Trip = feed.Trips["E0800"]
	want := m.Predict(&late, now)
	for i, a := range m.Predict(d, now) {
		if !a.Predicted.Equal(want[i].Predicted) {
			t.Errorf("bus under way ahead of E0820's schedule: %s at %v, want %v (as it drives)", a.StopID, a.Predicted.Sub(now), want[i].Predicted.Sub(now))
		}
	}

	// Standing there since 08:18, it has not begun its trip at 08:22,
	// after its time: it is one of the late ones (nothing learned: soon
	// after now, 2 + 1 minutes late), and leaves S2 (08:24:20) that late.
	later := day.Add(8*time.Hour + 22*time.Minute)
	v.StandingSince, v.FixTime = day.Add(8*time.Hour+18*time.Minute), later
	dep = 2*60 + 20 + (2*60 + 60)
	check(t, m.Predict(v, later)[:1], later, []float64{dep})
}

// TestLearnedHourAhead: a segment's prior is its usual time at the hour
// the bus will drive it, so a prediction that reaches past the hour takes
// the next hour's traffic.
func TestLearnedHourAhead(t *testing.T) {
	feed := testfeed.Line(t)
	day := time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)
	m := predict.NewLearned(feed, predict.LearnedConfig{})
	drive := func(at time.Time, secs float64) {
		m.Observe(&tracker.Vehicle{ID: "bus", Trip: feed.Trips["E0800"], DayStart: day, Passed: []tracker.Passage{
			{Index: 3, At: at, Gap: 30 * time.Second, PrevAt: at.Add(-time.Duration(secs * float64(time.Second))), PrevGap: 30 * time.Second},
		}})
	}
	// S2 -> S3 took 200 s from 09:00 yesterday (long forgotten but for
	// the hour's mean), and 100 s today from 08:00.
	for i := 0; i < 3; i++ {
		drive(day.Add(-15*time.Hour+time.Duration(10+10*i)*time.Minute), 200)
	}
	for i := 0; i < 3; i++ {
		drive(day.Add(8*time.Hour+time.Duration(10+10*i)*time.Minute), 100)
	}
	// S2 -> S3 as predicted for a bus that has just passed S1.
	s23 := func(now time.Time) float64 {
		v := &tracker.Vehicle{ID: "bus-2", Trip: feed.Trips["E0850"], DayStart: day, Next: 2, Dist: 1025, FixTime: now, PassedAt: now}
		got := m.Predict(v, now)
		return got[1].Predicted.Sub(got[0].Predicted).Seconds()
	}
	// Passing S1 at 08:54 it drives S2 -> S3 before 09:00; at 08:59:30,
	// after.
	before, after := s23(day.Add(8*time.Hour+54*time.Minute)), s23(day.Add(8*time.Hour+59*time.Minute+30*time.Second))
	t.Logf("S2 -> S3: %.0f s before 09:00, %.0f s after", before, after)
	if before > 105 || after < before+15 {
		t.Errorf("S2 -> S3 driven before 09:00: %.0f s, after: %.0f s; want about 100 s, then more towards 200 s", before, after)
	}
}

// TestLearnedStandingTail: a bus that has stood longer than all but a few
// of the stands seen stands on as the tail of the stands says: the longer
// it has stood, the longer it will.
func TestLearnedStandingTail(t *testing.T) {
	feed := testfeed.Line(t)
	day := time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)
	now := day.Add(9 * time.Hour)
	m := predict.NewLearned(feed, predict.LearnedConfig{})
	stood := func(s float64, n int) {
		for i := 0; i < n; i++ {
			m.Observe(&tracker.Vehicle{ID: fmt.Sprint("bus-", i), Trip: feed.Trips["E0840"], DayStart: day, Next: 2,
				FixTime: now.Add(-time.Minute), StoodFor: time.Duration(s * float64(time.Second))})
		}
	}
	v := &tracker.Vehicle{ID: "bus-x", Trip: feed.Trips["E0830"], DayStart: day, Next: 2, Dist: 1500, FixTime: now, PassedAt: now.Add(-time.Minute)}
	moving := m.Predict(v, now)[0].Predicted
	standing := func(s float64) float64 {
		v.StandingSince = now.Add(-time.Duration(s * float64(time.Second)))
		return m.Predict(v, now)[0].Predicted.Sub(moving).Seconds()
	}
	// Twenty stands seen, none longer than 150 s: too few for a tail.
	stood(30, 10)
	stood(60, 1)
	stood(120, 9)
	if got := standing(150); got != 0 {
		t.Errorf("20 stands seen, standing for 150 s: %.0f s more, want 0", got)
	}
	// 31 stands: the twenty longest twice the next (120 s, 60 s), so the
	// tail's index is 20 / (20 ln 2) = 1/ln 2: a stand of 150 s has
	// 150 (2^ln 2 - 1) s to go, one of 300 s twice that.
	stood(120, 11)
	want := 150 * (math.Pow(2, math.Ln2) - 1)
	if got := standing(150); math.Abs(got-want) > 0.51 {
		t.Errorf("standing for 150 s: %.1f s more, want %.1f", got, want)
	}
	if got := standing(300); math.Abs(got-2*want) > 0.51 {
		t.Errorf("standing for 300 s: %.1f s more, want %.1f", got, 2*want)
	}
	// With five longer stands seen their median holds: 120 s.
	if got := standing(100); got != 20 {
		t.Errorf("standing for 100 s: %.0f s more, want 20", got)
	}
	// Never past a breakdown's 20 minutes.
	if got := standing(1000); got != 200 {
		t.Errorf("standing for 1000 s: %.0f s more, want 200", got)
	}
}
