package station

import (
	"cmp"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/headway-transit/headway/internal/wire"
)

// memStore is a store in memory, for fuzzing without disk writes.
type memStore struct {
	boards     map[string]wire.Board
	timetables map[string]wire.Timetable
	alerts     map[string]wire.Alerts
	zone       string
	fail       bool
}

func (m *memStore) PutBoard(b wire.Board, _ time.Time) error {
	if m.fail {
		return errors.New("disk full")
	}
	m.boards[b.Stop] = b
	return nil
}

func (m *memStore) PutTimetable(t wire.Timetable) error {
	if m.fail {
		return errors.New("disk full")
	}
	m.timetables[t.Stop] = t
	return nil
}

func (m *memStore) PutAlerts(a wire.Alerts) error {
	if m.fail {
		return errors.New("disk full")
	}
	if m.alerts == nil {
		m.alerts = map[string]wire.Alerts{}
	}
	m.alerts[a.Stop] = a
	return nil
}

func (m *memStore) PutZone(name string) error {
	if m.fail {
		return errors.New("disk full")
	}
	m.zone = name
	return nil
}

// FuzzHandleMessage feeds arbitrary hub messages to the handler and then
// renders the view: neither may panic, only subscribed stops are kept, and
// only a time zone this machine knows by an IANA name is taken or stored.
func FuzzHandleMessage(f *testing.F) {
	seeds := []string{
		`{"type":"board","stop":"CEN","stop_name":"Central","generated_at":"2026-11-27T07:00:00Z","arrivals":[{"trip":"t","route":"r","route_short_name":"1","headsign":"h","stop_sequence":1,"scheduled":"2026-11-27T07:05:00Z","predicted":"2026-11-27T07:06:00Z","source":"realtime"}]}`,
		`{"type":"board","stop":"CEN","generated_at":"2026-11-27T07:00:00Z","arrivals":[{"scheduled":"0001-01-01T00:00:01Z","source":"schedule"}]}`,
		`{"type":"board","stop":"ZZZ","generated_at":"2026-11-27T07:00:00Z","arrivals":[]}`,
		`{"type":"timetable","stop":"CEN","from":"2026-11-27T07:00:00Z","until":"2026-11-28T07:00:00Z","departures":[{"trip":"t","scheduled":"2026-11-27T07:30:00Z"}]}`,
		`{"type":"timetable","stop":"CEN","from":"2026-11-27T07:00:00Z","until":"2026-11-28T07:00:00Z","departures":[{"trip":"t","scheduled":"9999-12-31T23:59:59Z"}]}`,
		`{"type":"timetable","stop":"CEN","from":"2026-11-27T07:00:00Z","until":"2026-11-28T07:00:00Z","departures":[],"timezone":"Europe/Rome"}`,
		`{"type":"timetable","stop":"HBR","from":"2026-11-27T07:00:00Z","until":"2026-11-28T07:00:00Z","departures":[],"timezone":"Etc/GMT+5"}`,
		`{"type":"timetable","stop":"CEN","from":"2026-11-27T07:00:00Z","until":"2026-11-28T07:00:00Z","departures":[],"timezone":"Europe/Nowhere"}`,
		`{"type":"timetable","stop":"CEN","from":"2026-11-27T07:00:00Z","until":"2026-11-28T07:00:00Z","departures":[],"timezone":"../../../../etc/passwd"}`,
		`{"type":"timetable","stop":"CEN","from":"2026-11-27T07:00:00Z","until":"2026-11-28T07:00:00Z","departures":[],"timezone":"/etc/localtime"}`,
		`{"type":"timetable","stop":"CEN","from":"2026-11-27T07:00:00Z","until":"2026-11-28T07:00:00Z","departures":[],"timezone":"Local"}`,
		`{"type":"timetable","stop":"CEN","from":"2026-11-27T07:00:00Z","until":"2026-11-28T07:00:00Z","departures":[],"timezone":"Europe/Rome\u0000"}`,
		`{"type":"timetable","stop":"CEN","from":"2026-11-27T07:00:00Z","until":"2026-11-28T07:00:00Z","departures":[],"timezone":1}`,
		`{"type":"alerts","stop":"CEN","generated_at":"2026-11-27T07:00:00Z","alerts":[{"id":"a","effect":"no_service","header":"Closed","stop_closed":true,"active":[{"end":"2026-11-27T08:00:00Z"}]}]}`,
		`{"type":"alerts","stop":"ZZZ","generated_at":"2026-11-27T07:00:00Z","alerts":[]}`,
		`{"type":"error","code":"unknown_stop","message":"no"}`,
		`{"type":"heartbeat"}`,
		`{"type":"future-thing","x":1}`,
		`{"type":"board"}`,
		`{}`, `[]`, `null`, ``, `{"type":`,
	}
	for _, s := range seeds {
		f.Add([]byte(s), false)
	}
	f.Fuzz(func(t *testing.T, msg []byte, failStore bool) {
		st := newState()
		ms := &memStore{boards: map[string]wire.Board{}, timetables: map[string]wire.Timetable{}, fail: failStore}
		h := &handler{
			stops:   []string{"CEN", "HBR"},
			store:   ms,
			state:   st,
			now:     func() time.Time { return t0 },
			logger:  slog.New(slog.DiscardHandler),
			metrics: newMetrics(func() float64 { return 0 }),
		}
		_ = h.handle(msg)
		for stop := range ms.boards {
			if stop != "CEN" && stop != "HBR" {
				t.Errorf("stored a board for unsubscribed stop %q", stop)
			}
		}
		for stop := range ms.alerts {
			if stop != "CEN" && stop != "HBR" {
				t.Errorf("stored alerts for unsubscribed stop %q", stop)
			}
		}
		if ms.zone != "" && ms.zone != st.agency.name {
			t.Errorf("stored time zone %q, the sign uses %q", ms.zone, st.agency.name)
		}
		if st.agency.name != "" {
			if _, err := agencyZone(st.agency.name); err != nil || st.agency.loc == nil {
				t.Errorf("took time zone %q: %v", st.agency.name, err)
			}
		}
		for _, tt := range st.timetables {
			if tt.Timezone != "" && tt.Timezone != st.agency.name {
				t.Errorf("kept a timetable with time zone %q, the sign took %q", tt.Timezone, st.agency.name)
			}
		}
		cfg := Config{Display: "s", Stops: []string{"CEN", "HBR"}, Rows: 8, Clock: Clock24h, StaleAfter: time.Minute, FallbackAfter: 10 * time.Minute}
		v, _ := st.view(&cfg, zones{machine: zone{name: "UTC", loc: time.UTC}}, t0)
		if want := cmp.Or(st.agency.name, "UTC"); v.Timezone != want {
			t.Errorf("view time zone %q, want %q", v.Timezone, want)
		}
		for _, sv := range v.Stops {
			if len(sv.Arrivals) > cfg.Rows {
				t.Errorf("%d rows for %s", len(sv.Arrivals), sv.Stop)
			}
		}
	})
}
