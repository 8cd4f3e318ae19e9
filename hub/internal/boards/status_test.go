package boards_test

import (
	"testing"
	"time"

	"github.com/headway-transit/headway/hub/internal/boards"
	"github.com/headway-transit/headway/hub/internal/testfeed"
	"github.com/headway-transit/headway/internal/wire"
)

// TestBoardNoBus: a trip run long due to have left its first stop with no
// vehicle on it is labelled no_bus; one with a vehicle, or not yet that
// late, is not.
func TestBoardNoBus(t *testing.T) {
	// Trips take 8 minutes on the test line, so 2 minutes stands in for
	// the default 10.
	b := boards.Builder{Feed: testfeed.Line(t), Horizon: 40 * time.Minute, MaxRows: 20, MissedAfter: 2 * time.Minute}
	ds := day.Unix()
	p := boards.Predictions{
		{Trip: "E0800", DayStart: ds}: {3: {Vehicle: "bus-1", Predicted: day.Add(8*time.Hour + 16*time.Minute)}},
		{Trip: "E0820", DayStart: ds}: {3: {Vehicle: "bus-2", Status: boards.StatusAtTerminal}},
	}
	at := func(now time.Time) map[string]string {
		status := map[string]string{}
		for _, a := range b.Board("S3", now, p).Arrivals {
			status[a.Trip] = a.Source + "/" + a.Status
		}
		return status
	}
	for _, tt := range []struct {
		name string
		now  time.Time
		want map[string]string
	}{
		{name: "E0810 left S0 a minute ago", now: day.Add(8*time.Hour + 11*time.Minute), want: map[string]string{
			"E0800": "realtime/", "E0810": "schedule/", "E0820": "schedule/" + wire.StatusAtTerminal, "W0820": "schedule/"}},
		{name: "E0810 left S0 2.5 minutes ago, no bus on it", now: day.Add(8*time.Hour + 12*time.Minute + 30*time.Second), want: map[string]string{
			"E0800": "realtime/", "E0810": "schedule/" + wire.StatusNoBus, "E0820": "schedule/" + wire.StatusAtTerminal, "W0820": "schedule/"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := at(tt.now)
			for trip, want := range tt.want {
				if got[trip] != want {
					t.Errorf("%s: %q, want %q (board %v)", trip, got[trip], want, got)
				}
			}
		})
	}
	b.MissedAfter = 0
	for _, a := range b.Board("S3", day.Add(8*time.Hour+12*time.Minute+30*time.Second), p).Arrivals {
		if a.Status == wire.StatusNoBus {
			t.Errorf("MissedAfter 0 labels %s no_bus", a.Trip)
		}
	}
}
