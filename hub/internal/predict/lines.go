package predict

import (
	"time"

	"github.com/headway-transit/headway/internal/gtfs"
)

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
