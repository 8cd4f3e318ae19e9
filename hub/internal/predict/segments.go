package predict

import (
	"math"
	"time"

	"github.com/headway-transit/headway/internal/gtfs"
)

// segKey names the way from one stop to the next. Leaving a first stop is
// measured differently (see tracker.PassRadius), so it is a segment of its
// own.
type segKey struct {
	from, to string
	first    bool
}

// segment is what is learned about one segment.
type segment struct {
	recent [recentObs]obs // ring, newest at (next-1)
	next   int
	n      int
	hours  [24]struct{ sum, n float64 } // by local hour of the passage
}

const recentObs = 32

func (s *segment) add(at time.Time, secs float64, hour int) {
	s.recent[s.next] = obs{at: at, secs: secs}
	s.next = (s.next + 1) % recentObs
	s.n = min(s.n+1, recentObs)
	s.hours[hour].sum += secs
	s.hours[hour].n++
}

func keyOf(tr *gtfs.Trip, i int) segKey {
	return segKey{from: tr.StopTimes[i-1].StopID, to: tr.StopTimes[i].StopID, first: i == 1}
}

// scheduled is the scheduled time from passing stop i-1 to passing stop i.
func scheduled(tr *gtfs.Trip, i int) float64 {
	return float64(tr.StopTimes[i].Departure - tr.StopTimes[i-1].Departure)
}

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
