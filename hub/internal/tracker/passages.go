package tracker

import (
	"math"
	"time"

	"github.com/headway-transit/headway/internal/wire"
)

// Passage is a vehicle leaving a stop behind: the time it crossed the
// stop's place on the path (plus StopRadius), interpolated between the two
// fixes around the crossing.
type Passage struct {
	Index int       // into Trip.StopTimes
	At    time.Time // interpolated passage time
	Gap   time.Duration
	// PrevAt is when the vehicle passed the stop before (zero when that
	// was not seen on this trip run), PrevGap the gap around it. Gaps say
	// how exact the times are: interpolation over minutes guesses.
	PrevAt  time.Time
	PrevGap time.Duration
}

// StopRadius is how far past a stop, in metres, the vehicle must be before
// the stop counts as passed: GPS noise and the length of a bus at a stop
// must not pass it early.
const StopRadius = 25

// DwellRadius is how far past a stop a vehicle standing still is still at
// it, not past it: buses pull up where the kerb is free, a bus length or
// two beyond the pole when another bus is loading, and the receiver sits at
// the front of the bus. A bus standing there has its dwell ahead of it.
const DwellRadius = 50

// departMargin is how far a vehicle that stood at a stop must move to have
// left it.
const departMargin = 10

// LayoverRadius is how far past the first stop a vehicle must be before its
// trip has started: buses wait for their departure anywhere around the
// terminal, not on the stop's spot.
const LayoverRadius = 150

// PassRadius is how far past stop i of a trip the vehicle must be to have
// passed it.
func PassRadius(i int) float64 {
	if i == 0 {
		return LayoverRadius
	}
	return StopRadius
}

func (t *Tracker) apply(v *Vehicle, c candidate, src string) {
	v.Passed = v.Passed[:0]
	st := c.trip.StopTimes
	if v.Trip == c.trip && v.DayStart.Equal(c.dayStart) {
		// Same trip run: every stop crossed since the previous fix is passed,
		// at the time interpolated at its crossing.
		gap := v.Pos.Time.Sub(v.FixTime)
		speed := speedOf(v.Pos)
		if speed < 0 && gap > 0 {
			speed = (c.dist - v.Dist) / gap.Seconds()
		}
		for v.Next < len(st) && c.dist >= st[v.Next].Dist+PassRadius(v.Next) {
			if c.dist <= v.Dist {
				break
			}
			if v.Next > 0 && speed < standing && c.dist < st[v.Next].Dist+DwellRadius {
				break // standing at the stop, not past it
			}
			mark := st[v.Next].Dist + PassRadius(v.Next)
			if v.Dist >= mark {
				// It stood past the mark at the last fix: it passed
				// the stop when it moved off.
				mark = v.Dist + departMargin
			}
			f := math.Max(0, math.Min(1, (mark-v.Dist)/(c.dist-v.Dist)))
			at := v.FixTime.Add(time.Duration(f * float64(gap)))
			v.Passed = append(v.Passed, Passage{Index: v.Next, At: at, Gap: gap, PrevAt: v.PassedAt, PrevGap: v.lastGap})
			v.PassedAt, v.lastGap = at, gap
			v.Next++
		}
	} else {
		// A new trip run: the stops already behind were passed unseen.
		if v.Trip != nil && v.Trip != c.trip {
			v.prev = v.Trip
		}
		v.Since = v.Pos.Time
		v.Next, v.PassedAt, v.lastGap = 0, time.Time{}, 0
		for v.Next < len(st) && c.dist >= st[v.Next].Dist+PassRadius(v.Next) {
			v.Next++
		}
	}
	v.Trip, v.TripSource, v.DayStart = c.trip, src, c.dayStart
	v.Dist, v.Offset, v.Delay, v.FixTime = c.dist, c.offset, c.delay, v.Pos.Time
}

func speedOf(p wire.Position) float64 {
	if p.Speed == nil {
		return -1
	}
	return *p.Speed
}
