package predict

import (
	"math"
	"time"

	"github.com/headway-transit/headway/hub/internal/tracker"
	"github.com/headway-transit/headway/internal/gtfs"
)

// LearnedConfig tunes Learned. The zero value takes the defaults.
type LearnedConfig struct {
	// SegmentMemories are the time constants over which a segment
	// observation's weight may fade; each line uses the one that has
	// lately predicted its segments best (default 15 min to 4 h). One
	// value fixes it.
	SegmentMemories []time.Duration
	// Memory is the time constant over which a line's running against its
	// schedule fades (the prior for segments not yet driven) (default 30
	// minutes).
	Memory time.Duration
	// PriorWeight is how many fresh observations the prior (the schedule,
	// scaled by how the line runs against it, or the segment's usual time
	// at this hour) is worth (default 0.5).
	PriorWeight float64
	// MaxGap: a passage interpolated between fixes further apart is not
	// learned from (default 2 minutes).
	MaxGap time.Duration
	// NoHold turns off holding at timepoints. By default a line's early
	// vehicles are predicted to wait at timepoints for their scheduled
	// departure once the line shows it holds: its buses are seldom seen
	// leaving a timepoint early.
	NoHold bool
}

func (c LearnedConfig) withDefaults() LearnedConfig {
	if len(c.SegmentMemories) == 0 {
		c.SegmentMemories = []time.Duration{15 * time.Minute, 30 * time.Minute, time.Hour, 2 * time.Hour, 4 * time.Hour}
	}
	if c.Memory <= 0 {
		c.Memory = 30 * time.Minute
	}
	if c.PriorWeight <= 0 {
		c.PriorWeight = 0.5
	}
	if c.MaxGap <= 0 {
		c.MaxGap = 2 * time.Minute
	}
	return c
}

// Learned predicts when a vehicle passes each stop ahead of it (leaves it,
// dwell included, which is what a passenger waiting there needs):
//
//   - stop to stop, the time is a segment's travel time: the times the
//     vehicles that drove it last took, the recent ones weighing most, with
//     a prior (the segment's mean at the hour of the day the vehicle will
//     drive it, once it has some, else the scheduled time scaled by how the
//     line currently runs against its schedule). How fast old times fade
//     is chosen per line: each segment time observed scores every
//     candidate memory on what it expected, and the line uses the one that
//     has lately been best;
//   - a vehicle standing still mid-trip stands on as long as the stands
//     seen that lasted longer than this one so far (or, past nearly all of
//     them, as their tail says);
//   - a vehicle waiting for its trip (at its first stop, or wherever it has
//     stood since before its time) leaves at its scheduled departure plus
//     how late the line's waiting buses lately left, among those that left
//     later than now (a bus still there after its time is one of the late
//     ones), never before now; from there on it runs as the line's buses
//     run, not to the schedule;
//   - at a timepoint, a vehicle running early waits for its scheduled
//     departure.
//
// Everything is learned online from the tracker's passages; the clock is
// the one Predict is given. Segments are keyed by their two stops, so
// routes sharing a street learn from each other.
type Learned struct {
	feed    *gtfs.Feed
	cfg     LearnedConfig
	segs    map[segKey]*segment
	lines   map[lineKey]*line
	scratch []obs
	tail    []float64 // scratch for tailLeft
	late    ring      // departures of all lines, as line.late
	stands  ring      // how long vehicles stood still on their trips
}

// NewLearned returns a model that knows only the schedule.
func NewLearned(feed *gtfs.Feed, cfg LearnedConfig) *Learned {
	return &Learned{feed: feed, cfg: cfg.withDefaults(), segs: map[segKey]*segment{}, lines: map[lineKey]*line{}, stands: newRing(standObs), late: newRing(4 * lateObs)}
}

// Observe learns from the stops v's latest fix carried it past.
func (m *Learned) Observe(v *tracker.Vehicle) {
	if v.Trip != nil && v.StoodFor > 0 && v.Next > 0 && v.StoodFor <= maxStand {
		// A stand under way on a trip (not a layover before it).
		m.stands.add(v.FixTime, v.StoodFor.Seconds())
	}
	if v.Trip == nil || len(v.Passed) == 0 {
		return
	}
	tau := m.cfg.Memory
	ln := m.line(v.Trip)
	dep0 := v.Trip.DepartureAt(v.DayStart, 0)
	for _, p := range v.Passed {
		if p.Gap > m.cfg.MaxGap {
			continue
		}
		if p.Index == 0 {
			// Only buses that were there before their departure time say
			// how late waiting buses leave (one arriving late from its
			// previous trip says how late that trip ran), and one leaving
			// minutes early is moving to where it will wait, not starting.
			if late := p.At.Sub(dep0); !v.Since.After(dep0) && late >= -maxEarlyStart {
				ln.late.add(p.At, late.Seconds())
				m.late.add(p.At, late.Seconds())
			}
			continue
		}
		if st := v.Trip.StopTimes; st[p.Index].Timepoint && p.Index < len(st)-1 && !p.At.Before(dep0) {
			ln.timepoints++
			if p.At.Before(v.Trip.DepartureAt(v.DayStart, p.Index).Add(-holdSlack)) {
				ln.early++
			}
		}
		if p.PrevAt.IsZero() || p.PrevGap > m.cfg.MaxGap {
			continue
		}
		secs := p.At.Sub(p.PrevAt).Seconds()
		sched := scheduled(v.Trip, p.Index)
		if secs < 0 {
			continue
		}
		if secs > maxSegTime(sched) {
			if p.PrevAt.Before(dep0) {
				// A layover before the trip began, at a stop after the
				// first: the trip starts here, this late.
				late := p.At.Sub(v.Trip.DepartureAt(v.DayStart, p.Index)).Seconds()
				ln.late.add(p.At, late)
				m.late.add(p.At, late)
			}
			continue
		}
		k := keyOf(v.Trip, p.Index)
		s := m.segs[k]
		if s == nil {
			s = &segment{}
			m.segs[k] = s
		}
		if s.n > 0 {
			// Score each memory on what it expected of this segment.
			hour, ratio := p.At.In(m.feed.Location).Hour(), m.ratio(ln, p.At)
			for c, mem := range m.cfg.SegmentMemories {
				ln.memErr[c].add(math.Abs(m.segTime(v.Trip, p.Index, p.At, hour, ratio, mem)-secs), p.At, memErrMemory)
			}
		}
		s.add(p.At, secs, p.At.In(m.feed.Location).Hour())
		if sched > 0 {
			ln.obs.add(secs, p.At, tau)
			ln.sched.add(sched, p.At, tau)
		}
	}
}

// Predict returns when v will pass each stop ahead of it, never before now.
func (m *Learned) Predict(v *tracker.Vehicle, now time.Time) []Arrival {
	if v.Trip == nil || v.Next >= len(v.Trip.StopTimes) {
		return nil
	}
	tr := v.Trip
	st := tr.StopTimes
	ln := m.line(tr)
	ratio := m.ratio(ln, now)
	mem := m.memory(ln, now)
	hour := now.In(m.feed.Location).Hour()
	i := v.Next
	dep0 := tr.DepartureAt(v.DayStart, 0)
	late := m.lateStart(ln, dep0, now)
	// A bus that has stood still since before its departure time (where
	// its operator lets it wait, not always at the first stop) has not
	// begun its trip yet, whatever the clock says; nor has one still
	// moving about the terminal before its time. A bus under way beyond
	// the terminal ahead of its schedule is not waiting for it: it is
	// predicted as it drives, not held to a timetable it is not keeping.
	layover := i == 0 || !v.StandingSince.IsZero() && v.StandingSince.Before(dep0) ||
		now.Before(dep0) && v.Dist-st[0].Dist <= tracker.LayoverArea
	hold := !m.cfg.NoHold && ln.holds()
	var t time.Time
	if i == 0 {
		t = dep0.Add(late)
	} else {
		// Part way along the segment to stop i: the share of its time
		// still ahead, by distance.
		from := st[i-1].Dist + tracker.PassRadius(i-1)
		to := st[i].Dist + tracker.PassRadius(i)
		f := 1.0
		if to > from {
			f = math.Max(0, math.Min(1, (to-v.Dist)/(to-from)))
		}
		seg := m.segTime(tr, i, now, hour, ratio, mem)
		// Nor less than the segment's time minus the time since the bus
		// passed its last stop: a bus at a stop still has its dwell ahead.
		left := f * seg
		if !v.PassedAt.IsZero() {
			left = max(left, seg-v.FixTime.Sub(v.PassedAt).Seconds())
		}
		t = v.FixTime.Add(secs(left))
		if !v.StandingSince.IsZero() {
			// Standing still, in traffic or at a stop: as long as such
			// stands last, before any segment time is counted.
			t = t.Add(m.standLeft(now.Sub(v.StandingSince).Seconds(), now))
		}
	}
	out := make([]Arrival, 0, len(st)-i)
	for k := i; k < len(st); k++ {
		if k > i {
			// The segment's usual time at the hour the bus will drive
			// it, not at this one: a prediction half an hour ahead can
			// reach into the next hour's traffic.
			t = t.Add(secs(m.segTime(tr, k, now, t.In(m.feed.Location).Hour(), ratio, mem)))
		}
		switch {
		case layover && k == i:
			// Before its trip's departure a bus waits, wherever its
			// operator lets it (not always at the first stop), and
			// leaves the next stop at its time plus the line's lateness.
			// Once under way it is a running bus: it does not keep to
			// the schedule at every later stop (a line that holds at
			// timepoints does so below), so a line that runs faster
			// than its schedule gains on it as its other buses do.
			if dep := tr.DepartureAt(v.DayStart, k).Add(late); t.Before(dep) {
				t = dep
			}
		case hold && st[k].Timepoint && k < len(st)-1:
			if dep := tr.DepartureAt(v.DayStart, k); t.Before(dep) {
				t = dep
			}
		}
		if t.Before(now) {
			t = now
		}
		out = append(out, Arrival{Index: k, StopID: st[k].StopID, Scheduled: tr.ArrivalAt(v.DayStart, k), Predicted: t.Round(time.Second)})
	}
	return out
}

func secs(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }
