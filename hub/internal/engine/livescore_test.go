package engine

import (
	"testing"
	"time"

	"github.com/headway-transit/headway/hub/internal/boards"
)

// TestLiveScore judges predictions against passages as avl_score.py's
// ghosts does: a ghost is a prediction whose stop no bus passed within 30
// min of the time shown; a missed passage had no prediction made 1-10 min
// before it.
func TestLiveScore(t *testing.T) {
	t0 := time.Date(2026, 12, 6, 8, 0, 0, 0, time.UTC)
	run := boards.TripKey{Trip: "T", DayStart: t0.Truncate(24 * time.Hour).Unix()}
	min := func(m float64) time.Time { return t0.Add(time.Duration(m * float64(time.Minute))) }
	tests := []struct {
		name string
		do   func(l *liveScore)
		want LiveCounts
	}{
		{name: "predicted from 8 to 2 min before, passed on time", do: func(l *liveScore) {
			for m := 0.0; m <= 6; m++ {
				l.predicted(run, 3, min(m), min(8))
			}
			l.passed(run, 3, min(8))
		}, want: LiveCounts{Judged: 7, Passages: 1}},
		{name: "passed with no prediction", do: func(l *liveScore) {
			l.passed(run, 3, min(8))
		}, want: LiveCounts{Passages: 1, Missed: 1}},
		{name: "predicted only in the last 30 s", do: func(l *liveScore) {
			l.predicted(run, 3, min(7.5), min(8))
			l.passed(run, 3, min(8))
		}, want: LiveCounts{Judged: 1, Passages: 1, Missed: 1}},
		{name: "predicted only 20 min before", do: func(l *liveScore) {
			l.predicted(run, 3, min(-12), min(8))
			l.passed(run, 3, min(8))
		}, want: LiveCounts{Judged: 1, Passages: 1, Missed: 1}},
		{name: "no bus came", do: func(l *liveScore) {
			l.predicted(run, 3, min(0), min(8))
			l.predicted(run, 3, min(1), min(9))
			l.expire(min(38.5)) // 08:08 + 30 min has gone, 08:09 + 30 not yet
			if l.ghosts != 1 || len(l.stops) != 1 {
				t.Errorf("after 38.5 min: %d ghosts, %d stops waiting; want 1 and 1", l.ghosts, len(l.stops))
			}
			l.expire(min(40))
		}, want: LiveCounts{Judged: 2, Ghosts: 2}},
		{name: "the bus came 35 min after the time shown", do: func(l *liveScore) {
			l.predicted(run, 3, min(0), min(8))
			l.passed(run, 3, min(43))
		}, want: LiveCounts{Judged: 1, Ghosts: 1, Passages: 1, Missed: 1}},
		{name: "another stop's passage judges nothing here", do: func(l *liveScore) {
			l.predicted(run, 3, min(0), min(8))
			l.passed(run, 4, min(8))
		}, want: LiveCounts{Passages: 1, Missed: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := newLiveScore()
			tt.do(l)
			got := LiveCounts{Judged: l.judged, Ghosts: l.ghosts, Passages: l.passages, Missed: l.missedN}
			if got != tt.want {
				t.Errorf("%+v, want %+v", got, tt.want)
			}
		})
	}
}
