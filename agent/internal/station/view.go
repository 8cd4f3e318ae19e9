package station

import (
	"slices"
	"sync"
	"time"

	"github.com/headway-transit/headway/agent/internal/signcache"
	"github.com/headway-transit/headway/internal/wire"
)

// pastGrace keeps an arrival on the sign this long after its time while
// the sign's data is fresh: buses run a little late of the best estimate
// and the hub still lists them. Stale data cannot tell a late bus from a
// gone one, so then an arrival leaves the sign at its time.
const pastGrace = 60 * time.Second

// timetableWindow is how far ahead the timetable fallback looks.
const timetableWindow = time.Hour

// Sign modes, from the freshest to the least fresh (View.Mode).
const (
	ModeLive         = "live"         // connected: the hub pushes every change
	ModeReconnecting = "reconnecting" // lost the hub less than stale_after ago
	ModeStale        = "stale"        // counting down from old predictions
	ModeScheduled    = "scheduled"    // past fallback_after: timetable fills in
)

// What a stop with no rows says (StopView.Note).
const (
	NoteNoDepartures = "no_departures" // known: nothing in the next hour
	NoteNoData       = "no_information"
	NoteClosed       = "stop_closed" // an alert in force closes the stop
)

// Where a row came from (ArrivalView.Origin).
const (
	OriginBoard     = "board"
	OriginTimetable = "timetable"
)

// View is what /board.json and /events serve and the terminal board shows.
type View struct {
	Display     string     `json:"display"`
	GeneratedAt time.Time  `json:"generated_at"`
	Online      bool       `json:"online"`
	LastUpdate  *time.Time `json:"last_update"`
	// AsOf is the time the data was last known current: now while online,
	// else the last time the hub was heard from.
	AsOf          *time.Time `json:"as_of"`
	Stale         bool       `json:"stale"`
	Mode          string     `json:"mode"`
	Clock         string     `json:"clock"`
	Timezone      string     `json:"timezone"`     // IANA name, "" if unknown
	UTCOffsetS    int        `json:"utc_offset_s"` // of the sign's zone at GeneratedAt
	StaleAfterS   float64    `json:"stale_after_s"`
	FallbackAfter float64    `json:"fallback_after_s"`
	// PastGraceS is how long past its time a row stays, for the page's
	// countdown between updates.
	PastGraceS float64    `json:"past_grace_s"`
	Stops      []StopView `json:"stops"`

	// next is when this view next changes other than by minutes ticking
	// down (a threshold crossed, a row dropped); zero if never.
	next time.Time
}

// StopView is one stop's rows.
type StopView struct {
	Stop     string        `json:"stop"`
	StopName string        `json:"stop_name"`
	Mode     string        `json:"mode"`
	Note     string        `json:"note,omitempty"`
	Arrivals []ArrivalView `json:"arrivals"`
	// Alerts are the service alerts in force at the stop now, the most
	// severe first (the hub's order), kept and timed by the sign itself
	// while the hub is away.
	Alerts []wire.Alert `json:"alerts,omitempty"`
}

// ArrivalView is a row: a board arrival or a timetable departure, with the
// whole minutes until it as of the view's GeneratedAt.
type ArrivalView struct {
	wire.Arrival
	Minutes int    `json:"minutes"`
	Origin  string `json:"origin"`
	// Stale marks a prediction counted down from data older than
	// stale_after: possibly out of date.
	Stale bool `json:"stale,omitempty"`
}

// state is the sign's in-memory picture, shared by the hub client (writer)
// and the HTTP handlers (readers).
type state struct {
	mu         sync.Mutex
	boards     map[string]signcache.StoredBoard
	timetables map[string]wire.Timetable
	alerts     map[string]wire.Alerts
	lastUpdate time.Time // last board received
	lastHeard  time.Time // last message, ping or pong from a hub
	online     bool
	agency     zone          // the agency's zone as the hub last reported it
	changed    chan struct{} // closed and replaced on every change
}

func newState() *state {
	return &state{
		boards:     make(map[string]signcache.StoredBoard),
		timetables: make(map[string]wire.Timetable),
		alerts:     make(map[string]wire.Alerts),
		changed:    make(chan struct{}),
	}
}

// notifyLocked wakes everyone waiting on the current changed channel.
func (st *state) notifyLocked() {
	close(st.changed)
	st.changed = make(chan struct{})
}

// load installs the cache read at start. The cache does not know when the
// hub was last heard, only when the last board came: that is the most it
// can claim.
func (st *state) load(boards map[string]signcache.StoredBoard, tts map[string]wire.Timetable, als map[string]wire.Alerts, last time.Time, agency zone) {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.boards, st.timetables, st.alerts, st.lastUpdate, st.agency = boards, tts, als, last, agency
	if last.After(st.lastHeard) {
		st.lastHeard = last
	}
	st.notifyLocked()
}

func (st *state) putBoard(b wire.Board, at time.Time) {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.boards[b.Stop] = signcache.StoredBoard{Board: b, ReceivedAt: at}
	st.lastUpdate = at
	if at.After(st.lastHeard) {
		st.lastHeard = at
	}
	st.notifyLocked()
}

func (st *state) putTimetable(t wire.Timetable) {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.timetables[t.Stop] = t
	st.notifyLocked()
}

func (st *state) putAlerts(a wire.Alerts) {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.alerts[a.Stop] = a
	st.notifyLocked()
}

// setAgencyZone records the agency's zone the hub reported; it reports
// whether that changed it.
func (st *state) setAgencyZone(z zone) bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.agency.name == z.name {
		return false
	}
	st.agency = z
	st.notifyLocked()
	return true
}

// zone is the zone the sign shows times in now.
func (st *state) zone(zs zones) zone {
	st.mu.Lock()
	defer st.mu.Unlock()
	return zs.pick(st.agency)
}

// heard records a sign of life from the hub. It changes no row, so it
// wakes nobody.
func (st *state) heard(at time.Time) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if at.After(st.lastHeard) {
		st.lastHeard = at
	}
}

// touch wakes the views' watchers: what they show changed with the
// configuration, not the data.
func (st *state) touch() {
	st.mu.Lock()
	defer st.mu.Unlock()
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
func (st *state) view(cfg *Config, zs zones, now time.Time) (View, <-chan struct{}) {
	st.mu.Lock()
	defer st.mu.Unlock()
	asOf := st.lastHeard
	if st.online {
		asOf = now
	}
	v := buildView(cfg, now, st.online, asOf, st.boards, st.timetables, st.alerts)
	if !st.lastUpdate.IsZero() {
		last := st.lastUpdate
		v.LastUpdate = &last
	}
	z := zs.pick(st.agency)
	v.Timezone = z.name
	_, v.UTCOffsetS = now.In(z.loc).Zone()
	return v, st.changed
}

// buildView is the pure heart of the sign: what to show at now, given
// whether a hub is connected, when the data was last known current (zero:
// never) and the cached boards and timetables.
//
// Online, the hub's board is the truth, an empty board included. Offline,
// the sign counts down from the last predictions; past stale_after they are
// flagged and leave the sign at their time; past fallback_after, or once a
// stop's board has nothing left, the stop's timetable departures after the
// board's last row are added, labelled as scheduled. Within its rows the
// board stays the authority: it left out trips that have passed.
//
// A stop's alerts show while one of their periods holds, online or not; one
// that closes the stop empties its rows (a timetable cached before the
// closure would list buses that will not come).
func buildView(cfg *Config, now time.Time, online bool, asOf time.Time,
	boards map[string]signcache.StoredBoard, tts map[string]wire.Timetable, als map[string]wire.Alerts) View {
	age := now.Sub(asOf)
	mode := ModeLive
	switch {
	case online:
	case asOf.IsZero() || age > cfg.FallbackAfter:
		mode = ModeScheduled
	case age > cfg.StaleAfter:
		mode = ModeStale
	default:
		mode = ModeReconnecting
	}
	stale := mode == ModeStale || mode == ModeScheduled
	grace := pastGrace
	if stale {
		grace = 0
	}
	v := View{
		Display:       cfg.Display,
		GeneratedAt:   now,
		Online:        online,
		Stale:         stale,
		Mode:          mode,
		Clock:         cfg.Clock,
		StaleAfterS:   cfg.StaleAfter.Seconds(),
		FallbackAfter: cfg.FallbackAfter.Seconds(),
		PastGraceS:    grace.Seconds(),
		Stops:         make([]StopView, 0, len(cfg.Stops)),
	}
	if !asOf.IsZero() {
		v.AsOf = &asOf
	}
	var next nextChange
	if !online && !asOf.IsZero() {
		next.add(now, asOf.Add(cfg.StaleAfter))
		next.add(now, asOf.Add(cfg.FallbackAfter))
	}
	for _, stop := range cfg.Stops {
		sv := StopView{Stop: stop, Mode: mode, Arrivals: []ArrivalView{}}
		sb, haveBoard := boards[stop]
		horizon := time.Time{}
		onBoard := map[string]bool{}
		if haveBoard {
			sv.StopName = sb.Board.StopName
			horizon = sb.Board.GeneratedAt
			for _, a := range sb.Board.Arrivals {
				onBoard[a.Trip] = true
				if w := a.When(); w.After(horizon) {
					horizon = w
				}
				d := a.When().Sub(now)
				if d < -grace {
					continue
				}
				next.add(now, a.When().Add(grace+time.Nanosecond))
				sv.Arrivals = append(sv.Arrivals, ArrivalView{
					Arrival: a, Minutes: minutes(d), Origin: OriginBoard,
					Stale: stale && a.Source == wire.SourceRealtime,
				})
			}
		}
		fallback := mode == ModeScheduled || !haveBoard || (!online && len(sv.Arrivals) == 0)
		tt, haveTT := tts[stop]
		if fallback && haveTT {
			sv.Mode = ModeScheduled
			for _, d := range tt.Departures {
				if onBoard[d.Trip] || !d.Scheduled.After(horizon) || d.Scheduled.Before(now) {
					continue
				}
				if d.Scheduled.After(now.Add(timetableWindow)) {
					next.add(now, d.Scheduled.Add(-timetableWindow))
					continue
				}
				next.add(now, d.Scheduled.Add(time.Nanosecond))
				sv.Arrivals = append(sv.Arrivals, ArrivalView{
					Arrival: wire.Arrival{
						Trip: d.Trip, Route: d.Route, RouteShortName: d.RouteShortName,
						Headsign: d.Headsign, Scheduled: d.Scheduled, Source: wire.SourceSchedule,
					},
					Minutes: minutes(d.Scheduled.Sub(now)),
					Origin:  OriginTimetable,
				})
			}
		}
		slices.SortStableFunc(sv.Arrivals, func(a, b ArrivalView) int {
			return a.When().Compare(b.When())
		})
		if len(sv.Arrivals) > cfg.Rows {
			sv.Arrivals = sv.Arrivals[:cfg.Rows]
		}
		closed := false
		for _, a := range als[stop].Alerts {
			for _, p := range a.Active {
				if p.Start != nil {
					next.add(now, *p.Start)
				}
				if p.End != nil {
					next.add(now, *p.End)
				}
			}
			if a.ActiveAt(now) {
				sv.Alerts = append(sv.Alerts, a)
				closed = closed || a.StopClosed
			}
		}
		if closed {
			sv.Arrivals, sv.Note = []ArrivalView{}, NoteClosed
		} else if len(sv.Arrivals) == 0 {
			// Nothing to show is news only if someone said so: a hub
			// online, or a timetable covering the next hour.
			covered := haveTT && !tt.From.After(now) && !tt.Until.Before(now.Add(timetableWindow))
			if online && haveBoard || covered {
				sv.Note = NoteNoDepartures
			} else {
				sv.Note = NoteNoData
			}
		}
		v.Stops = append(v.Stops, sv)
	}
	v.next = next.t
	return v
}

// nextChange keeps the earliest time after now.
type nextChange struct{ t time.Time }

func (n *nextChange) add(now, t time.Time) {
	if t.After(now) && (n.t.IsZero() || t.Before(n.t)) {
		n.t = t
	}
}

// minutes is what the sign shows: whole minutes, rounded down, never
// negative; 0 reads "Due".
func minutes(d time.Duration) int {
	if d <= 0 {
		return 0
	}
	return int(d / time.Minute)
}
