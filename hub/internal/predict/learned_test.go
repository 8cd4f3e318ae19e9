package predict_test

import (
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

	// bus-1, late on E0800, drove S1 -> S2 in 150 s (scheduled: 120 s,
	// departure to departure). It left S0 60 s late after waiting there.
	m.Observe(&tracker.Vehicle{ID: "bus-1", Trip: feed.Trips["E0800"], DayStart: day, Since: at(7, 55, 0), Passed: []tracker.Passage{
		{Index: 0, At: at(8, 1, 0), Gap: 30 * time.Second},
	}})
	m.Observe(&tracker.Vehicle{ID: "bus-1", Trip: feed.Trips["E0800"], DayStart: day, Passed: []tracker.Passage{
		{Index: 2, At: now, Gap: 30 * time.Second, PrevAt: now.Add(-150 * time.Second), PrevGap: 30 * time.Second},
	}})

	// The line runs 150/120 slow on what was seen, shrunk towards the
	// schedule by 600 s of prior: ratio (150+600)/(120+600). S1 -> S2: the
	// observation (weight 1, fresh) with the prior (weight 0.5, 120 s x
	// ratio). Unseen segments: scheduled x ratio.
	ratio := 750.0 / 720
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

	// bus-3 waits at S0 for E0820 (08:20): it leaves at the line's learned
	// late start (60 s seen 13.5 minutes ago, so weighing exp(-13.5/30),
	// shrunk by one on-time prior), and keeps no earlier than the schedule
	// plus that at every stop while its trip has not begun.
	w := &tracker.Vehicle{ID: "bus-3", Trip: feed.Trips["E0820"], DayStart: day, Next: 0, Dist: 0, FixTime: now}
	got := m.Predict(w, now)
	k := math.Exp(-13.5 / 30)
	dep := at(8, 20, 0).Sub(now).Seconds() + 60*k/(k+1)
	s01 := 140 * ratio // S0 departure 08:20:00 to S1 departure 08:22:20
	check(t, got, now, []float64{dep, dep + s01, dep + s01 + s12, dep + s01 + s12 + other, dep + s01 + s12 + 2*other})

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
