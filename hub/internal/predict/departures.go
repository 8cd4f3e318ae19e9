package predict

import (
	"time"
)

// maxEarlyStart is how early before its scheduled departure a bus leaving
// its first stop is taken to have started its trip.
const maxEarlyStart = 2 * time.Minute

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

// Departure lateness is learned over a longer memory than running times:
// how punctually operators leave changes little within a day.
const (
	lateMemory = 2 * time.Hour
	lateObs    = 64
	otherLines = 0.2
	residual   = 60.0 // seconds
)
