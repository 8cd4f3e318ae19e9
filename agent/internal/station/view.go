package station

import (
	"slices"
	"sync"
	"time"

	"github.com/headway-transit/headway/agent/internal/signcache"
	"github.com/headway-transit/headway/internal/wire"
)

// pastGrace keeps an arrival on the sign this long after its time: buses
// run a little late of the best estimate and passengers still see them.
const pastGrace = 60 * time.Second

// timetableWindow is how far ahead the timetable fallback looks.
const timetableWindow = time.Hour

// View is what /board.json and /events serve.
type View struct {
	Display     string     `json:"display"`
	GeneratedAt time.Time  `json:"generated_at"`
	Online      bool       `json:"online"`
	LastUpdate  *time.Time `json:"last_update"`
	Stale       bool       `json:"stale"`
	Clock       string     `json:"clock"`
	StaleAfterS float64    `json:"stale_after_s"`
	Stops       []StopView `json:"stops"`
}

// StopView is one stop's rows.
type StopView struct {
	Stop     string        `json:"stop"`
	StopName string        `json:"stop_name"`
	Arrivals []ArrivalView `json:"arrivals"`
}

// ArrivalView is a board arrival with the whole minutes until it, as of
// the view's GeneratedAt.
type ArrivalView struct {
	wire.Arrival
	Minutes int `json:"minutes"`
}

// state is the sign's in-memory picture, shared by the hub client (writer)
// and the HTTP handlers (readers).
type state struct {
	mu         sync.Mutex
	boards     map[string]signcache.StoredBoard
	timetables map[string]wire.Timetable
	lastUpdate time.Time
	online     bool
	changed    chan struct{} // closed and replaced on every change
}

func newState() *state {
	return &state{
		boards:     make(map[string]signcache.StoredBoard),
		timetables: make(map[string]wire.Timetable),
		changed:    make(chan struct{}),
	}
}

// notifyLocked wakes everyone waiting on the current changed channel.
func (st *state) notifyLocked() {
	close(st.changed)
	st.changed = make(chan struct{})
}

func (st *state) load(boards map[string]signcache.StoredBoard, tts map[string]wire.Timetable, last time.Time) {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.boards, st.timetables, st.lastUpdate = boards, tts, last
	st.notifyLocked()
}

func (st *state) putBoard(b wire.Board, at time.Time) {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.boards[b.Stop] = signcache.StoredBoard{Board: b, ReceivedAt: at}
	st.lastUpdate = at
	st.notifyLocked()
}

func (st *state) putTimetable(t wire.Timetable) {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.timetables[t.Stop] = t
	st.notifyLocked()
}

func (st *state) setOnline(on bool) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.online != on {
		st.online = on
		st.notifyLocked()
	}
}

func (st *state) status() (online bool, last time.Time) {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.online, st.lastUpdate
}

// view builds the current View and returns the channel that will be closed
// on the next change.
func (st *state) view(cfg *Config, now time.Time) (View, <-chan struct{}) {
	st.mu.Lock()
	defer st.mu.Unlock()
	return buildView(cfg, now, st.online, st.lastUpdate, st.boards, st.timetables), st.changed
}

// buildView is the pure heart of the sign: what to show at now.
func buildView(cfg *Config, now time.Time, online bool, last time.Time,
	boards map[string]signcache.StoredBoard, tts map[string]wire.Timetable) View {
	v := View{
		Display:     cfg.Display,
		GeneratedAt: now,
		Online:      online,
		Stale:       last.IsZero() || now.Sub(last) > cfg.StaleAfter,
		Clock:       cfg.Clock,
		StaleAfterS: cfg.StaleAfter.Seconds(),
		Stops:       make([]StopView, 0, len(cfg.Stops)),
	}
	if !last.IsZero() {
		v.LastUpdate = &last
	}
	for _, stop := range cfg.Stops {
		sv := StopView{Stop: stop, Arrivals: []ArrivalView{}}
		var arrivals []wire.Arrival
		if sb, ok := boards[stop]; ok {
			sv.StopName = sb.Board.StopName
			arrivals = sb.Board.Arrivals
		} else if tt, ok := tts[stop]; ok {
			arrivals = fromTimetable(tt, now)
		}
		for _, a := range arrivals {
			d := a.When().Sub(now)
			if d < -pastGrace {
				continue
			}
			sv.Arrivals = append(sv.Arrivals, ArrivalView{Arrival: a, Minutes: minutes(d)})
		}
		slices.SortStableFunc(sv.Arrivals, func(a, b ArrivalView) int {
			return a.When().Compare(b.When())
		})
		if len(sv.Arrivals) > cfg.Rows {
			sv.Arrivals = sv.Arrivals[:cfg.Rows]
		}
		v.Stops = append(v.Stops, sv)
	}
	return v
}

// minutes is what the sign shows: whole minutes, rounded down, never
// negative; 0 reads "Due".
func minutes(d time.Duration) int {
	if d <= 0 {
		return 0
	}
	return int(d / time.Minute)
}

// fromTimetable is the minimal offline fallback: the stop's scheduled
// departures within the next timetableWindow.
func fromTimetable(tt wire.Timetable, now time.Time) []wire.Arrival {
	var out []wire.Arrival
	for _, d := range tt.Departures {
		if d.Scheduled.Before(now.Add(-pastGrace)) || d.Scheduled.After(now.Add(timetableWindow)) {
			continue
		}
		out = append(out, wire.Arrival{
			Trip:           d.Trip,
			Route:          d.Route,
			RouteShortName: d.RouteShortName,
			Headsign:       d.Headsign,
			Scheduled:      d.Scheduled,
			Source:         wire.SourceSchedule,
		})
	}
	return out
}
