package station

import (
	"strings"
	"testing"
	"time"

	"github.com/headway-transit/headway/agent/internal/signcache"
	"github.com/headway-transit/headway/internal/wire"
)

func TestBuildView(t *testing.T) {
	at := func(d time.Duration) time.Time { return t0.Add(d) }
	arr := func(trip string, sched time.Duration, pred *time.Duration) wire.Arrival {
		a := wire.Arrival{Trip: trip, Scheduled: at(sched), Source: wire.SourceSchedule}
		if pred != nil {
			p := at(*pred)
			a.Predicted, a.Source = &p, wire.SourceRealtime
		}
		return a
	}
	dur := func(d time.Duration) *time.Duration { return &d }
	cfg := Config{Display: "s", Stops: []string{"CEN"}, Rows: 3, Clock: Clock24h, StaleAfter: 90 * time.Second}

	tests := []struct {
		name      string
		last      time.Time
		arrivals  []wire.Arrival
		timetable []wire.Departure
		wantTrips string
		wantMins  []int
		wantStale bool
	}{
		{
			name:      "sorted by best time, predicted over scheduled",
			last:      t0,
			arrivals:  []wire.Arrival{arr("a", 2*time.Minute, dur(9*time.Minute)), arr("b", 5*time.Minute, nil), arr("c", 8*time.Minute, dur(30*time.Second))},
			wantTrips: "c,b,a",
			wantMins:  []int{0, 5, 9},
		},
		{
			name:      "past grace boundary",
			last:      t0,
			arrivals:  []wire.Arrival{arr("gone", -61*time.Second, nil), arr("just", -60*time.Second, nil), arr("late", time.Minute, dur(-30*time.Second))},
			wantTrips: "just,late",
			wantMins:  []int{0, 0},
		},
		{
			name: "at most rows",
			last: t0,
			arrivals: []wire.Arrival{arr("4", 4*time.Minute, nil), arr("1", time.Minute, nil), arr("3", 3*time.Minute, nil),
				arr("2", 2*time.Minute, nil)},
			wantTrips: "1,2,3",
			wantMins:  []int{1, 2, 3},
		},
		{
			name:      "minutes round down",
			last:      t0.Add(-90 * time.Second),
			arrivals:  []wire.Arrival{arr("x", 59*time.Second, nil), arr("y", 119*time.Second, nil), arr("z", 120*time.Second, nil)},
			wantTrips: "x,y,z",
			wantMins:  []int{0, 1, 2},
		},
		{
			name:      "stale after stale_after",
			last:      t0.Add(-91 * time.Second),
			wantStale: true,
		},
		{
			name:      "never updated is stale",
			wantStale: true,
		},
		{
			name: "timetable fallback: next hour only",
			timetable: []wire.Departure{{Trip: "p", Scheduled: at(-2 * time.Minute)}, {Trip: "n", Scheduled: at(30 * time.Minute)},
				{Trip: "edge", Scheduled: at(time.Hour)}, {Trip: "far", Scheduled: at(61 * time.Minute)}},
			wantTrips: "n,edge",
			wantMins:  []int{30, 60},
			wantStale: true,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			boards := map[string]signcache.StoredBoard{}
			if tc.arrivals != nil {
				boards["CEN"] = signcache.StoredBoard{Board: wire.Board{Stop: "CEN", Arrivals: tc.arrivals}}
			}
			tts := map[string]wire.Timetable{}
			if tc.timetable != nil {
				tts["CEN"] = wire.Timetable{Stop: "CEN", Departures: tc.timetable}
			}
			v := buildView(&cfg, t0, true, tc.last, boards, tts)
			if v.Stale != tc.wantStale {
				t.Errorf("stale = %v, want %v", v.Stale, tc.wantStale)
			}
			if len(v.Stops) != 1 {
				t.Fatalf("%d stops", len(v.Stops))
			}
			if got := strings.Join(trips(v.Stops[0]), ","); got != tc.wantTrips {
				t.Errorf("trips = %q, want %q", got, tc.wantTrips)
			}
			for i, a := range v.Stops[0].Arrivals {
				if i < len(tc.wantMins) && a.Minutes != tc.wantMins[i] {
					t.Errorf("%s minutes = %d, want %d", a.Trip, a.Minutes, tc.wantMins[i])
				}
			}
			if v.Stops[0].Arrivals == nil {
				t.Error("arrivals is nil; JSON would say null")
			}
		})
	}
}

func TestBuildViewBoardBeatsTimetable(t *testing.T) {
	cfg := Config{Stops: []string{"CEN"}, Rows: 8, StaleAfter: time.Minute}
	boards := map[string]signcache.StoredBoard{"CEN": {Board: wire.Board{Stop: "CEN"}}} // an empty board is news too
	tts := map[string]wire.Timetable{"CEN": {Departures: []wire.Departure{{Trip: "t", Scheduled: t0.Add(time.Minute)}}}}
	if v := buildView(&cfg, t0, true, t0, boards, tts); len(v.Stops[0].Arrivals) != 0 {
		t.Errorf("arrivals = %+v, want none: the hub's empty board wins", v.Stops[0].Arrivals)
	}
}
