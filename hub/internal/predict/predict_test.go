package predict_test

import (
	"testing"
	"time"

	"github.com/headway-transit/headway/hub/internal/predict"
	"github.com/headway-transit/headway/hub/internal/testfeed"
	"github.com/headway-transit/headway/hub/internal/tracker"
)

func TestDelayPropagation(t *testing.T) {
	feed := testfeed.Line(t)
	day := time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)
	v := &tracker.Vehicle{ID: "bus-1", Trip: feed.Trips["E0800"], DayStart: day, Dist: 1500, Delay: 60 * time.Second}
	now := day.Add(8*time.Hour + 4*time.Minute + 10*time.Second)
	got := predict.DelayPropagation(v, now)
	// S0 and S1 are behind; S2, S3, S4 are scheduled 08:04, 08:06, 08:08.
	want := []struct {
		stop string
		at   time.Duration
	}{{"S2", 8*time.Hour + 5*time.Minute}, {"S3", 8*time.Hour + 7*time.Minute}, {"S4", 8*time.Hour + 9*time.Minute}}
	if len(got) != len(want) {
		t.Fatalf("got %d predictions %+v, want %d", len(got), got, len(want))
	}
	for i, w := range want {
		if got[i].StopID != w.stop || !got[i].Predicted.Equal(day.Add(w.at)) {
			t.Errorf("prediction %d = %s at %v, want %s at %v", i, got[i].StopID, got[i].Predicted, w.stop, day.Add(w.at))
		}
	}
	// A bus far ahead of schedule is never predicted before now... and a
	// late one's past-due stop is due now, not in the past.
	v.Delay = -30 * time.Minute
	for _, a := range predict.DelayPropagation(v, now) {
		if a.Predicted.Before(now) {
			t.Errorf("%s predicted in the past: %v", a.StopID, a.Predicted)
		}
	}
	// At the terminus nothing is left to predict.
	v.Dist, v.Delay = 4000, 0
	if got := predict.DelayPropagation(v, now); len(got) != 0 {
		t.Errorf("at the terminus: %+v", got)
	}
	if got := predict.DelayPropagation(&tracker.Vehicle{ID: "x"}, now); got != nil {
		t.Errorf("no trip: %+v", got)
	}
}
