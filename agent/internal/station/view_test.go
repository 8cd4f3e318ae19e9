package station

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/headway-transit/headway/agent/internal/signcache"
	"github.com/headway-transit/headway/internal/wire"
)

func at(d time.Duration) time.Time { return t0.Add(d) }

func dur(d time.Duration) *time.Duration { return &d }

// arr is a board arrival scheduled at t0+sched, predicted at t0+*pred when
// pred is not nil.
func arr(trip string, sched time.Duration, pred *time.Duration) wire.Arrival {
	a := wire.Arrival{Trip: trip, Scheduled: at(sched), Source: wire.SourceSchedule}
	if pred != nil {
		p := at(*pred)
		a.Predicted, a.Source = &p, wire.SourceRealtime
	}
	return a
}

func dep(trip string, sched time.Duration) wire.Departure {
	return wire.Departure{Trip: trip, Scheduled: at(sched)}
}

// rowsOf renders a stop's rows as "trip:minutes:origin-letter[!]", e.g.
// "a:5:b!" for a stale board row, "t:30:t" for a timetable row.
func rowsOf(sv StopView) string {
	var out []string
	for _, a := range sv.Arrivals {
		s := a.Trip + ":" + strconv.Itoa(a.Minutes) + ":" + a.Origin[:1]
		if a.Stale {
			s += "!"
		}
		out = append(out, s)
	}
	return strings.Join(out, ",")
}

func TestBuildView(t *testing.T) {
	cfg := Config{Display: "s", Stops: []string{"CEN"}, Rows: 4, Clock: Clock24h,
		StaleAfter: 90 * time.Second, FallbackAfter: 10 * time.Minute}
	// A busy stop: the board (generated at t0, when the hub was last heard)
	// has two live buses and two schedule-only trips; the timetable has
	// the same trips and more after them.
	busy := wire.Board{Stop: "CEN", StopName: "Central", GeneratedAt: t0, Arrivals: []wire.Arrival{
		arr("a", 2*time.Minute, dur(3*time.Minute)),
		arr("b", 5*time.Minute, nil),
		arr("c", 8*time.Minute, dur(12*time.Minute)),
		arr("d", 15*time.Minute, nil),
	}}
	day := wire.Timetable{Stop: "CEN", From: at(-time.Hour), Until: at(23 * time.Hour), Departures: []wire.Departure{
		dep("a", 2*time.Minute), dep("b", 5*time.Minute), dep("c", 8*time.Minute), dep("x", 10*time.Minute),
		dep("d", 15*time.Minute), dep("e", 20*time.Minute), dep("f", 30*time.Minute), dep("g", 75*time.Minute),
	}}

	tests := []struct {
		name      string
		now       time.Duration // since t0
		online    bool
		asOf      *time.Duration // nil: never heard
		board     *wire.Board
		timetable *wire.Timetable
		rows      int
		wantMode  string
		wantStop  string // the stop's mode
		wantRows  string
		wantNote  string
	}{
		{
			name: "online: the board as it is, best time first", online: true, asOf: dur(0),
			board: &busy, timetable: &day,
			wantMode: ModeLive, wantStop: ModeLive, wantRows: "a:3:b,b:5:b,c:12:b,d:15:b",
		},
		{
			name: "online: the hub's empty board wins over the timetable", online: true, asOf: dur(0),
			board: &wire.Board{Stop: "CEN", GeneratedAt: t0}, timetable: &day,
			wantMode: ModeLive, wantStop: ModeLive, wantNote: NoteNoDepartures,
		},
		{
			name: "just lost the hub: counting down, not yet stale", now: 80 * time.Second, asOf: dur(0),
			board: &busy, timetable: &day,
			wantMode: ModeReconnecting, wantStop: ModeReconnecting, wantRows: "a:1:b,b:3:b,c:10:b,d:13:b",
		},
		{
			name: "past stale_after: predictions flagged", now: 91 * time.Second, asOf: dur(0),
			board: &busy, timetable: &day,
			wantMode: ModeStale, wantStop: ModeStale, wantRows: "a:1:b!,b:3:b,c:10:b!,d:13:b",
		},
		{
			name: "fresh data keeps a just-due bus a minute", now: 3*time.Minute + 50*time.Second, asOf: dur(3 * time.Minute),
			board: &busy, timetable: &day,
			wantMode: ModeReconnecting, wantRows: "a:0:b,b:1:b,c:8:b,d:11:b", wantStop: ModeReconnecting,
		},
		{
			name: "stale data drops a bus at its time", now: 3*time.Minute + time.Second, asOf: dur(0),
			board: &busy, timetable: &day,
			wantMode: ModeStale, wantStop: ModeStale, wantRows: "b:1:b,c:8:b!,d:11:b",
		},
		{
			name: "past fallback_after: timetable after the board's last row, no trip twice", now: 11 * time.Minute, asOf: dur(0),
			board: &busy, timetable: &day,
			// x (10 min) is inside the board's span and not on it: the hub
			// knew better (it passed, or was cancelled). g is past the hour.
			wantMode: ModeScheduled, wantStop: ModeScheduled, wantRows: "c:1:b!,d:4:b,e:9:t,f:19:t",
		},
		{
			name: "nothing left on the board before fallback_after: timetable at once", now: 16 * time.Minute, asOf: dur(12 * time.Minute),
			board: &busy, timetable: &day,
			wantMode: ModeStale, wantStop: ModeScheduled, wantRows: "e:4:t,f:14:t,g:59:t",
		},
		{
			name: "the long outage of a busy stop: the whole hour from the timetable", now: 3 * time.Hour, asOf: dur(0),
			board: &busy, timetable: &wire.Timetable{Stop: "CEN", From: t0, Until: at(24 * time.Hour), Departures: []wire.Departure{
				dep("a", 2*time.Minute), dep("late1", 3*time.Hour+5*time.Minute), dep("late2", 3*time.Hour+65*time.Minute),
			}},
			wantMode: ModeScheduled, wantStop: ModeScheduled, wantRows: "late1:5:t",
		},
		{
			name: "no board ever (first start): timetable", now: 0, asOf: nil, timetable: &day,
			wantMode: ModeScheduled, wantStop: ModeScheduled, wantRows: "a:2:t,b:5:t,c:8:t,x:10:t",
		},
		{
			name: "no board ever, online: timetable", online: true, asOf: dur(0), timetable: &day,
			wantMode: ModeLive, wantStop: ModeScheduled, wantRows: "a:2:t,b:5:t,c:8:t,x:10:t",
		},
		{
			name: "timetable covers the hour and has nothing in it: no departures", now: 3 * time.Hour, asOf: dur(0),
			board: &busy, timetable: &wire.Timetable{Stop: "CEN", From: t0, Until: at(24 * time.Hour), Departures: []wire.Departure{dep("later", 5*time.Hour)}},
			wantMode: ModeScheduled, wantStop: ModeScheduled, wantNote: NoteNoDepartures,
		},
		{
			name: "timetable has run out: no information", now: 30 * time.Hour, asOf: dur(0),
			board: &busy, timetable: &day,
			wantMode: ModeScheduled, wantStop: ModeScheduled, wantNote: NoteNoData,
		},
		{
			name: "nothing cached: no information", now: 0, asOf: nil,
			wantMode: ModeScheduled, wantStop: ModeScheduled, wantNote: NoteNoData,
		},
		{
			name: "at most rows", online: true, asOf: dur(0), board: &busy, rows: 2,
			wantMode: ModeLive, wantStop: ModeLive, wantRows: "a:3:b,b:5:b",
		},
		{
			name: "minutes round down, timetable window edge included", now: 0, asOf: nil,
			timetable: &wire.Timetable{Stop: "CEN", From: t0, Until: at(24 * time.Hour), Departures: []wire.Departure{
				dep("p", -time.Second), dep("x", 59*time.Second), dep("y", 119*time.Second), dep("edge", time.Hour), dep("far", time.Hour+time.Second),
			}},
			wantMode: ModeScheduled, wantStop: ModeScheduled, wantRows: "x:0:t,y:1:t,edge:60:t",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := cfg
			if tc.rows != 0 {
				c.Rows = tc.rows
			}
			boards := map[string]signcache.StoredBoard{}
			if tc.board != nil {
				boards["CEN"] = signcache.StoredBoard{Board: *tc.board}
			}
			tts := map[string]wire.Timetable{}
			if tc.timetable != nil {
				tts["CEN"] = *tc.timetable
			}
			var asOf time.Time
			if tc.asOf != nil {
				asOf = at(*tc.asOf)
			}
			v := buildView(&c, at(tc.now), tc.online, asOf, boards, tts, nil)
			if v.Mode != tc.wantMode {
				t.Errorf("mode = %q, want %q", v.Mode, tc.wantMode)
			}
			if v.Stale != (tc.wantMode == ModeStale || tc.wantMode == ModeScheduled) {
				t.Errorf("stale = %v with mode %s", v.Stale, v.Mode)
			}
			if len(v.Stops) != 1 {
				t.Fatalf("%d stops", len(v.Stops))
			}
			sv := v.Stops[0]
			if got := rowsOf(sv); got != tc.wantRows {
				t.Errorf("rows = %q, want %q", got, tc.wantRows)
			}
			if sv.Mode != tc.wantStop {
				t.Errorf("stop mode = %q, want %q", sv.Mode, tc.wantStop)
			}
			if sv.Note != tc.wantNote {
				t.Errorf("note = %q, want %q", sv.Note, tc.wantNote)
			}
			if sv.Arrivals == nil {
				t.Error("arrivals is nil; JSON would say null")
			}
		})
	}
}

// TestBuildViewNextChange: the view says when it next changes, so the
// page is told of thresholds and dropped rows as they happen.
func TestBuildViewNextChange(t *testing.T) {
	cfg := Config{Stops: []string{"CEN"}, Rows: 8, StaleAfter: 90 * time.Second, FallbackAfter: 10 * time.Minute}
	boards := map[string]signcache.StoredBoard{"CEN": {Board: wire.Board{Stop: "CEN", GeneratedAt: t0,
		Arrivals: []wire.Arrival{arr("a", 5*time.Minute, dur(20*time.Minute))}}}}
	tests := []struct {
		name   string
		now    time.Duration
		online bool
		want   time.Time
	}{
		{"offline: stale_after", 0, false, at(90 * time.Second)},
		{"offline, stale: fallback_after", 2 * time.Minute, false, at(10 * time.Minute)},
		{"offline, scheduled: the row's time", 11 * time.Minute, false, at(20*time.Minute + time.Nanosecond)},
		{"online: the row leaves a minute late", 0, true, at(21*time.Minute + time.Nanosecond)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v := buildView(&cfg, at(tc.now), tc.online, t0, boards, nil, nil)
			if !v.next.Equal(tc.want) {
				t.Errorf("next = %v, want %v", v.next, tc.want)
			}
		})
	}
}

// TestStateOnlineAsOf: online, the data is current as of now; offline, as
// of the last time the hub was heard, which a ping moves on too.
func TestStateOnlineAsOf(t *testing.T) {
	cfg := Config{Stops: []string{"CEN"}, Rows: 8, StaleAfter: 90 * time.Second, FallbackAfter: 10 * time.Minute, Timezone: "Europe/Rome"}
	loc, err := cfg.location()
	if err != nil {
		t.Fatal(err)
	}
	zs := zones{config: zone{name: cfg.Timezone, loc: loc}, machine: zone{name: "UTC", loc: time.UTC}}
	st := newState()
	st.putBoard(wire.Board{Stop: "CEN", GeneratedAt: t0}, t0)
	st.setOnline(true)
	if v, _ := st.view(&cfg, zs, at(time.Hour)); v.Mode != ModeLive || v.Stale || !v.AsOf.Equal(at(time.Hour)) {
		t.Errorf("online an hour after the last board: mode %s stale %v as of %v", v.Mode, v.Stale, v.AsOf)
	}
	st.heard(at(time.Hour))
	st.setOnline(false)
	v, _ := st.view(&cfg, zs, at(time.Hour+time.Minute))
	if v.Mode != ModeReconnecting || !v.AsOf.Equal(at(time.Hour)) || !v.LastUpdate.Equal(t0) {
		t.Errorf("offline a minute after a ping: mode %s as of %v last update %v", v.Mode, v.AsOf, v.LastUpdate)
	}
	if v.Timezone != "Europe/Rome" || v.UTCOffsetS != 3600 {
		t.Errorf("zone %q offset %d, want Europe/Rome +3600 (November)", v.Timezone, v.UTCOffsetS)
	}
}
