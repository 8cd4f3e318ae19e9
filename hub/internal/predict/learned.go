package predict

import (
	"cmp"
	"math"
	"slices"
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

// segKey names the way from one stop to the next. Leaving a first stop is
// measured differently (see tracker.PassRadius), so it is a segment of its
// own.
type segKey struct {
	from, to string
	first    bool
}

type lineKey struct {
	route string
	dir   int
}

// line is what is learned per route and direction.
type line struct {
	obs, sched decaying // segment times observed, and scheduled for the same segments
	late       ring     // how late after schedule waiting buses left
	tripSecs   float64  // scheduled running of the line's longest trip seen
	// Passages of timepoints (after the trip began), and how many left
	// more than holdSlack before their scheduled departure.
	timepoints, early int
	// memErr is, per candidate segment memory, how far its estimates were
	// from the segment times then observed (seconds, decaying).
	memErr []decaying
}

// memory is the segment memory that has lately predicted the line's
// segments best.
func (m *Learned) memory(ln *line, now time.Time) time.Duration {
	best, bestErr := len(ln.memErr)/2, math.Inf(1) // the middle one until scored
	for c := range ln.memErr {
		if e, w := ln.memErr[c].get(now, memErrMemory); w > 0 && e < bestErr {
			best, bestErr = c, e
		}
	}
	return m.cfg.SegmentMemories[best]
}

// memErrMemory is how long the segment memories' errors are remembered.
const memErrMemory = 4 * time.Hour

// holdSlack is how early a bus may leave a timepoint and still count as
// holding (clocks, and where along the kerb it waited).
const holdSlack = time.Minute

// holdEvidence is how many timepoint passages a line needs before its
// buses are taken to hold; holdEarly the share of early ones, at most.
const (
	holdEvidence = 20
	holdEarly    = 0.05
)

func (l *line) holds() bool {
	return l.timepoints >= holdEvidence && float64(l.early) <= holdEarly*float64(l.timepoints)
}

// segment is what is learned about one segment.
type segment struct {
	recent [recentObs]obs // ring, newest at (next-1)
	next   int
	n      int
	hours  [24]struct{ sum, n float64 } // by local hour of the passage
}

const recentObs = 32

type obs struct {
	at     time.Time
	secs   float64
	weight float64 // only where weighed
}

func (s *segment) add(at time.Time, secs float64, hour int) {
	s.recent[s.next] = obs{at: at, secs: secs}
	s.next = (s.next + 1) % recentObs
	s.n = min(s.n+1, recentObs)
	s.hours[hour].sum += secs
	s.hours[hour].n++
}

// decaying is a sum whose terms weigh less as they age.
type decaying struct {
	sum, weight float64
	at          time.Time
}

func (d *decaying) add(x float64, at time.Time, tau time.Duration) {
	d.sum, d.weight = d.get(at, tau)
	d.sum += x
	d.weight++
	if at.After(d.at) {
		d.at = at
	}
}

// get returns the sum and weight as of now.
func (d *decaying) get(now time.Time, tau time.Duration) (sum, weight float64) {
	if !now.After(d.at) {
		return d.sum, d.weight
	}
	k := math.Exp(-float64(now.Sub(d.at)) / float64(tau))
	return d.sum * k, d.weight * k
}

func (m *Learned) line(tr *gtfs.Trip) *line {
	l := m.lineFor(lineKey{tr.RouteID, tr.DirectionID})
	if st := tr.StopTimes; len(st) > 0 {
		// From the feed, not learned: a restored line gets it back here.
		l.tripSecs = max(l.tripSecs, float64(st[len(st)-1].Arrival-st[0].Departure))
	}
	return l
}

func (m *Learned) lineFor(k lineKey) *line {
	l := m.lines[k]
	if l == nil {
		l = &line{memErr: make([]decaying, len(m.cfg.SegmentMemories)), late: newRing(lateObs)}
		m.lines[k] = l
	}
	return l
}

func keyOf(tr *gtfs.Trip, i int) segKey {
	return segKey{from: tr.StopTimes[i-1].StopID, to: tr.StopTimes[i].StopID, first: i == 1}
}

// scheduled is the scheduled time from passing stop i-1 to passing stop i.
func scheduled(tr *gtfs.Trip, i int) float64 {
	return float64(tr.StopTimes[i].Departure - tr.StopTimes[i-1].Departure)
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

// maxEarlyStart is how early before its scheduled departure a bus leaving
// its first stop is taken to have started its trip.
const maxEarlyStart = 2 * time.Minute

// maxSegTime bounds a believable observation of a segment scheduled to take
// sched seconds: beyond it the bus stood somewhere (a layover before its
// trip, a breakdown), which says nothing about the next bus's trip.
func maxSegTime(sched float64) float64 { return 4*max(sched, 30) + 120 }

// minHourObs is how many observations of a segment in an hour of the day
// make their mean the prior for that hour.
const minHourObs = 3

// segTime estimates the time from passing stop i-1 of tr to passing stop i,
// as of now.
func (m *Learned) segTime(tr *gtfs.Trip, i int, now time.Time, hour int, ratio float64, memory time.Duration) float64 {
	prior := scheduled(tr, i) * ratio
	s := m.segs[keyOf(tr, i)]
	if s == nil {
		return prior
	}
	if h := s.hours[hour]; h.n >= minHourObs {
		prior = h.sum / h.n
	}
	sum, weight := m.cfg.PriorWeight*prior, m.cfg.PriorWeight
	tau := float64(memory)
	for j := 0; j < s.n; j++ {
		o := s.recent[j]
		age := float64(now.Sub(o.at))
		if age < 0 {
			age = 0
		}
		w := math.Exp(-age / tau)
		sum += w * o.secs
		weight += w
	}
	return sum / weight
}

// ratio is how much longer than scheduled the line's segments take now,
// shrunk towards 1 by a whole trip's worth of schedule (the line's longest
// trip seen, first stop to last). A schedule's running times are set trip
// by trip, with its slack spread unevenly along the route: the few
// segments a cold hub has seen say little about how the rest run against
// their times (and the short ones are seen first), so only about a trip's
// worth of them outweighs the schedule.
func (m *Learned) ratio(ln *line, now time.Time) float64 {
	o, _ := ln.obs.get(now, m.cfg.Memory)
	s, _ := ln.sched.get(now, m.cfg.Memory)
	prior := max(ln.tripSecs, minRatioPrior)
	return (o + prior) / (s + prior)
}

// minRatioPrior keeps the ratio defined on a feed whose trips show no
// running time: a segment's worth of schedule.
const minRatioPrior = 60 // seconds

// lateStart is how late after its scheduled departure dep a bus of line
// ln that is still waiting now will leave: the mean lateness of the line's
// recent departures that were later than now (a bus still there two
// minutes after its time is one of the late ones, and the mean over all
// departures would have it leave at once, minute after minute). The latest
// departures of all lines count a fifth as much (operators' habits are
// much alike across lines), and one departure residual seconds after now
// stands for "soon" when nothing later was seen.
func (m *Learned) lateStart(ln *line, dep, now time.Time) time.Duration {
	x := now.Sub(dep).Seconds()
	m.scratch = append(m.scratch[:0], obs{secs: max(x, 0) + residual, weight: 1})
	m.scratch = ln.late.above(m.scratch, x, 1, now, lateMemory)
	m.scratch = m.late.above(m.scratch, x, otherLines, now, lateMemory)
	return secs(weightedMedian(m.scratch))
}

// weightedMedian returns the value below and above which half the weight
// lies. It sorts xs.
func weightedMedian(xs []obs) float64 {
	slices.SortFunc(xs, func(a, b obs) int { return cmp.Compare(a.secs, b.secs) })
	total := 0.0
	for _, o := range xs {
		total += o.weight
	}
	acc := 0.0
	for _, o := range xs {
		acc += o.weight
		if acc >= total/2 {
			return o.secs
		}
	}
	return xs[len(xs)-1].secs
}

// maxStand: standing longer than this on a trip is a breakdown or a
// relief, not traffic or a stop.
const maxStand = 20 * time.Minute

// standLeft is how much longer a vehicle that has stood still for s
// seconds will stand: the weighted median of the stands seen on trips that
// lasted longer than s, less s. A bus stuck for two minutes is one of the
// long stands, and the segment's usual time does not tell how long those
// last. Beyond all but a few of the stands seen, their tail says (see
// tailLeft); nothing until enough stands were seen.
func (m *Learned) standLeft(s float64, now time.Time) time.Duration {
	m.scratch = m.stands.above(m.scratch[:0], s, 1, now, lateMemory)
	if len(m.scratch) < minStands {
		return m.tailLeft(s)
	}
	return secs(weightedMedian(m.scratch) - s)
}

// tailLeft is how much longer a vehicle will stand that has stood still for
// s seconds, longer than all but a few of the stands seen (an incident, a
// relief, a ramp deployed). Those few are too few to take a median of, yet
// saying that the vehicle leaves at once, fix after fix, is wrong just
// then. The longest stands seen show how heavy the tail of stands is:
// fitted as a power law (Hill's estimator of its index a on the tailStands
// longest), a stand that has lasted s has a median of s(2^(1/a) - 1) still
// to go: the longer it has lasted, the longer it will. Never beyond
// maxStand, past which it is a breakdown.
func (m *Learned) tailLeft(s float64) time.Duration {
	d := &m.stands
	if d.n <= tailStands {
		return 0
	}
	xs := m.tail[:0]
	for j := 0; j < d.n; j++ {
		xs = append(xs, d.recent[j].secs)
	}
	m.tail = xs
	slices.Sort(xs)
	top := xs[len(xs)-tailStands-1:] // the threshold, then the tail
	sum := 0.0
	for _, x := range top[1:] {
		sum += math.Log(x / top[0])
	}
	if top[0] <= 0 || sum <= 0 {
		return 0
	}
	a := tailStands / sum
	return secs(max(0, min(s*(math.Pow(2, 1/a)-1), maxStand.Seconds()-s)))
}

// tailStands is how many of the longest stands remembered shape their
// tail: a few percent of them, the ones beyond a couple of minutes.
const tailStands = 20

// minStands is how many longer stands make an estimate; standObs how
// many stands are remembered (a fleet stands every minute or so).
const (
	minStands = 5
	standObs  = 512
)

// Departure lateness is learned over a longer memory than running times:
// how punctually operators leave changes little within a day.
const (
	lateMemory = 2 * time.Hour
	lateObs    = 64
	otherLines = 0.2
	residual   = 60.0 // seconds
)

// ring holds the latest observations of something.
type ring struct {
	recent []obs
	next   int
	n      int
}

func newRing(size int) ring { return ring{recent: make([]obs, size)} }

// above appends to dst the observations greater than x, each weighing k
// times exp(-age/tau) as of now.
func (d *ring) above(dst []obs, x, k float64, now time.Time, tau time.Duration) []obs {
	for j := 0; j < d.n; j++ {
		if o := d.recent[j]; o.secs > x {
			w := k * math.Exp(-math.Max(0, float64(now.Sub(o.at)))/float64(tau))
			dst = append(dst, obs{secs: o.secs, weight: w})
		}
	}
	return dst
}

func (d *ring) add(at time.Time, secs float64) {
	d.recent[d.next] = obs{at: at, secs: secs}
	d.next = (d.next + 1) % len(d.recent)
	d.n = min(d.n+1, len(d.recent))
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
	// begun its trip yet, whatever the clock says.
	layover := i == 0 || now.Before(dep0) || !v.StandingSince.IsZero() && v.StandingSince.Before(dep0)
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
