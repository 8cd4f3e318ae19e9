package predict

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"
)

// What the model has learned outlives a restart: the hub saves a snapshot
// now and then and loads it at start, so it does not begin each deploy
// knowing only the schedule, and hour-of-day segment times build up over
// days. Segments are keyed by stop ids and lines by route and direction,
// so a snapshot still serves after a feed update for what did not change.

// snapshotVersion is bumped when the snapshot's meaning changes; an older
// snapshot is then not loaded.
const snapshotVersion = 1

type snapshot struct {
	Version  int            `json:"version"`
	Saved    time.Time      `json:"saved"`
	Memories []Duration     `json:"segment_memories"`
	Segments []segmentState `json:"segments"`
	Lines    []lineState    `json:"lines"`
	Late     []obsState     `json:"late"`
	Stands   []obsState     `json:"stands"`
}

// Duration is a time.Duration written as Go duration text ("1h0m0s").
type Duration time.Duration

func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	*d = Duration(v)
	return err
}

type obsState struct {
	At   time.Time `json:"at"`
	Secs float64   `json:"s"`
}

type segmentState struct {
	From   string         `json:"from"`
	To     string         `json:"to"`
	First  bool           `json:"first,omitempty"`
	Recent []obsState     `json:"recent"` // oldest first
	Hours  [24][2]float64 `json:"hours"`  // sum, n
}

type decayState struct {
	Sum    float64   `json:"sum"`
	Weight float64   `json:"weight"`
	At     time.Time `json:"at"`
}

type lineState struct {
	Route      string       `json:"route"`
	Dir        int          `json:"dir"`
	Obs        decayState   `json:"obs"`
	Sched      decayState   `json:"sched"`
	Late       []obsState   `json:"late"`
	Timepoints int          `json:"timepoints"`
	Early      int          `json:"early"`
	MemErr     []decayState `json:"memory_errors"`
}

// Snapshot encodes what m has learned.
func (m *Learned) Snapshot(now time.Time) ([]byte, error) {
	s := snapshot{Version: snapshotVersion, Saved: now.UTC(), Late: ringState(&m.late), Stands: ringState(&m.stands)}
	for _, d := range m.cfg.SegmentMemories {
		s.Memories = append(s.Memories, Duration(d))
	}
	for k, sg := range m.segs {
		st := segmentState{From: k.from, To: k.to, First: k.first}
		for j := 0; j < sg.n; j++ {
			o := sg.recent[(sg.next-sg.n+j+recentObs)%recentObs]
			st.Recent = append(st.Recent, obsState{o.at, o.secs})
		}
		for h := range sg.hours {
			st.Hours[h] = [2]float64{sg.hours[h].sum, sg.hours[h].n}
		}
		s.Segments = append(s.Segments, st)
	}
	for k, ln := range m.lines {
		ls := lineState{Route: k.route, Dir: k.dir, Obs: decayOf(ln.obs), Sched: decayOf(ln.sched), Late: ringState(&ln.late),
			Timepoints: ln.timepoints, Early: ln.early}
		for _, d := range ln.memErr {
			ls.MemErr = append(ls.MemErr, decayOf(d))
		}
		s.Lines = append(s.Lines, ls)
	}
	// Stable output: the same model saves the same bytes.
	slices.SortFunc(s.Segments, func(a, b segmentState) int {
		return cmp.Or(cmp.Compare(a.From, b.From), cmp.Compare(a.To, b.To), cmp.Compare(boolInt(a.First), boolInt(b.First)))
	})
	slices.SortFunc(s.Lines, func(a, b lineState) int {
		return cmp.Or(cmp.Compare(a.Route, b.Route), cmp.Compare(a.Dir, b.Dir))
	})
	return json.Marshal(s)
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func ringState(r *ring) []obsState {
	out := make([]obsState, 0, r.n)
	for j := 0; j < r.n; j++ {
		o := r.recent[(r.next-r.n+j+len(r.recent))%len(r.recent)]
		out = append(out, obsState{o.at, o.secs})
	}
	return out
}

func decayOf(d decaying) decayState { return decayState{d.sum, d.weight, d.at} }

// Restore replaces what m has learned with a snapshot. A snapshot that does
// not decode, is of another version or holds impossible values is refused
// whole, with an error saying what is wrong; m is then unchanged.
func (m *Learned) Restore(b []byte) error {
	var s snapshot
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("model snapshot: %w", err)
	}
	if s.Version != snapshotVersion {
		return fmt.Errorf("model snapshot: version %d, want %d", s.Version, snapshotVersion)
	}
	fresh := NewLearned(m.feed, m.cfg)
	sameMemories := len(s.Memories) == len(m.cfg.SegmentMemories)
	for i := range s.Memories {
		sameMemories = sameMemories && time.Duration(s.Memories[i]) == m.cfg.SegmentMemories[i]
	}
	for i, st := range s.Segments {
		if st.From == "" || st.To == "" || len(st.Recent) > recentObs {
			return fmt.Errorf("model snapshot: segment %d (%q to %q): bad key or %d observations (at most %d)", i, st.From, st.To, len(st.Recent), recentObs)
		}
		k := segKey{from: st.From, to: st.To, first: st.First}
		if fresh.segs[k] != nil {
			return fmt.Errorf("model snapshot: segment %q to %q given twice", st.From, st.To)
		}
		sg := &segment{}
		for _, o := range st.Recent {
			if err := checkObs(o); err != nil {
				return fmt.Errorf("model snapshot: segment %q to %q: %w", st.From, st.To, err)
			}
			sg.recent[sg.next] = obs{at: o.At, secs: o.Secs}
			sg.next = (sg.next + 1) % recentObs
			sg.n++
		}
		for h, v := range st.Hours {
			if !sane(v[0]) || !sane(v[1]) {
				return fmt.Errorf("model snapshot: segment %q to %q: hour %d: %v", st.From, st.To, h, v)
			}
			sg.hours[h].sum, sg.hours[h].n = v[0], v[1]
		}
		fresh.segs[k] = sg
	}
	for i, ls := range s.Lines {
		k := lineKey{ls.Route, ls.Dir}
		if _, dup := fresh.lines[k]; dup || ls.Timepoints < 0 || ls.Early < 0 || ls.Early > ls.Timepoints {
			return fmt.Errorf("model snapshot: line %d (route %q direction %d): given twice or bad timepoint counts", i, ls.Route, ls.Dir)
		}
		ln := fresh.lineFor(k)
		var err error
		if ln.obs, err = decayFrom(ls.Obs); err == nil {
			ln.sched, err = decayFrom(ls.Sched)
		}
		if err == nil {
			err = fillRing(&ln.late, ls.Late)
		}
		if err != nil {
			return fmt.Errorf("model snapshot: line route %q direction %d: %w", ls.Route, ls.Dir, err)
		}
		ln.timepoints, ln.early = ls.Timepoints, ls.Early
		if sameMemories && len(ls.MemErr) == len(ln.memErr) {
			for c, d := range ls.MemErr {
				if ln.memErr[c], err = decayFrom(d); err != nil {
					return fmt.Errorf("model snapshot: line route %q direction %d: memory %d: %w", ls.Route, ls.Dir, c, err)
				}
			}
		}
	}
	if err := fillRing(&fresh.late, s.Late); err != nil {
		return fmt.Errorf("model snapshot: departures: %w", err)
	}
	if err := fillRing(&fresh.stands, s.Stands); err != nil {
		return fmt.Errorf("model snapshot: stands: %w", err)
	}
	*m = *fresh
	return nil
}

// sane bounds every number in a snapshot: finite and not absurd (a day).
func sane(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) && math.Abs(x) < 1e9 }

func checkObs(o obsState) error {
	if o.At.IsZero() || !sane(o.Secs) || o.Secs < -86400 || o.Secs > 86400 {
		return fmt.Errorf("observation %v at %v out of range", o.Secs, o.At)
	}
	return nil
}

func decayFrom(d decayState) (decaying, error) {
	if !sane(d.Sum) || !sane(d.Weight) || d.Weight < 0 {
		return decaying{}, errors.New("decaying sum out of range")
	}
	return decaying{d.Sum, d.Weight, d.At}, nil
}

func fillRing(r *ring, os []obsState) error {
	if len(os) > len(r.recent) {
		os = os[len(os)-len(r.recent):] // the newest fit
	}
	for _, o := range os {
		if err := checkObs(o); err != nil {
			return err
		}
		r.add(o.At, o.Secs)
	}
	return nil
}
