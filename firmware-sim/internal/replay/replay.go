// Package replay plays a recorded NMEA log, in gpsd's .log format, to a
// port at the pace it was recorded, or faster, as gpsd's gpsfake does.
//
// The log is split into epochs: a line carrying a UTC time (RMC, GGA, GNS,
// GLL, ZDA) with a time other than the current epoch's starts the next
// epoch, and every other line (GSA, GSV, TXT, proprietary, noise) goes with
// the epoch it follows. Each epoch is written in one Write, and the next
// follows after the difference of their times, divided by the speed-up.
// '#' lines (gpsd's headers and comments) are not sent; everything else,
// noise included, is sent as recorded.
package replay

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/headway-transit/headway/drivers/nmea"
)

// MaxGap bounds the pause between two epochs. Logs have receivers that
// restart or jump their clocks (to 1980, across midnight): a gap that is
// not positive or is longer is replaced by the log's previous gap, or by
// one second at the start.
const MaxGap = 10 * time.Second

// MaxSize bounds a log, which is held in memory.
const MaxSize = 256 << 20

// Epoch is one burst of a log.
type Epoch struct {
	Data []byte        // the lines as recorded, line endings included
	Gap  time.Duration // time since the previous epoch; 0 for the first
}

// Log is a parsed log.
type Log struct {
	Epochs   []Epoch
	Comments int // '#' lines skipped
}

// Parse reads a log and splits it into epochs.
func Parse(r io.Reader) (*Log, error) {
	br := bufio.NewReader(io.LimitReader(r, MaxSize+1))
	lg := &Log{}
	var (
		cur      *Epoch
		curTOD   = nmea.NoTime
		prevTOD  = nmea.NoTime
		lastGap  = time.Second
		total    int
		haveTime bool
	)
	for {
		line, err := br.ReadBytes('\n')
		total += len(line)
		if total > MaxSize {
			return nil, fmt.Errorf("log larger than %d bytes", MaxSize)
		}
		if len(line) > 0 && line[0] == '#' {
			lg.Comments++
		} else if len(bytes.TrimSpace(line)) > 0 {
			tod, timed := lineTime(line)
			if cur == nil || timed && haveTime && tod != curTOD {
				gap := time.Duration(0)
				if cur != nil {
					gap = tod - prevTOD
					if gap < 0 && gap+24*time.Hour <= MaxGap {
						gap += 24 * time.Hour // midnight
					}
					if prevTOD == nmea.NoTime || gap <= 0 || gap > MaxGap {
						gap = lastGap
					}
					lastGap = gap
				}
				lg.Epochs = append(lg.Epochs, Epoch{Gap: gap})
				cur = &lg.Epochs[len(lg.Epochs)-1]
				haveTime = false
			}
			if timed && !haveTime {
				haveTime, curTOD = true, tod
				if tod != nmea.NoTime {
					prevTOD = tod
				}
			}
			cur.Data = append(cur.Data, line...)
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				return lg, nil
			}
			return nil, fmt.Errorf("read log: %w", err)
		}
	}
}

// lineTime returns the UTC time of day a line carries, if it is a
// well-formed sentence with a time field.
func lineTime(line []byte) (time.Duration, bool) {
	i := bytes.IndexByte(line, '$')
	if i < 0 {
		return 0, false
	}
	s, err := nmea.ParseSentence(line[i:])
	if err != nil {
		return 0, false
	}
	var tod time.Duration
	switch s.Type {
	case nmea.TypeRMC:
		tod = s.RMC.Time
	case nmea.TypeGGA:
		tod = s.GGA.Time
	case nmea.TypeGNS:
		tod = s.GNS.Time
	case nmea.TypeGLL:
		tod = s.GLL.Time
	case nmea.TypeZDA:
		tod = s.ZDA.Time
	default:
		return 0, false
	}
	return tod, tod != nmea.NoTime
}

// Clock paces the replay; tests pass a fake.
type Clock interface {
	Now() time.Time
	After(d time.Duration) <-chan time.Time
}

type wallClock struct{}

func (wallClock) Now() time.Time                         { return time.Now() }
func (wallClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// Options say how to play a log.
type Options struct {
	// Speed is the speed-up: 1 plays at the recorded pace, 10 ten times
	// faster; 0 (or +Inf) as fast as the writer takes it.
	Speed float64
	// Loop plays the log again and again until ctx is done.
	Loop  bool
	Clock Clock // nil means the wall clock
}

// Stats counts what Play sent.
type Stats struct {
	Epochs int
	Bytes  int64
	Loops  int // complete passes over the log
}

// Play writes lg's epochs to w, paced by their gaps over o.Speed. It
// returns after the last epoch (never, with Loop), or ctx.Err() once ctx
// is done, or the first write error.
func Play(ctx context.Context, lg *Log, w io.Writer, o Options) (Stats, error) {
	var st Stats
	if o.Speed < 0 || o.Speed != o.Speed {
		return st, fmt.Errorf("speed %v: want a positive speed-up, or 0 for as fast as possible", o.Speed)
	}
	clk := o.Clock
	if clk == nil {
		clk = wallClock{}
	}
	if len(lg.Epochs) == 0 {
		return st, errors.New("the log holds no sentences")
	}
	paced := o.Speed > 0 && o.Speed < 1e300
	start := clk.Now()
	var sim time.Duration // log time of the epoch due next
	for {
		for i, ep := range lg.Epochs {
			if i > 0 || st.Loops > 0 {
				gap := ep.Gap
				if i == 0 {
					gap = time.Second // from the end of a pass to the start of the next
				}
				sim += gap
			}
			if paced {
				due := start.Add(time.Duration(float64(sim) / o.Speed))
				if wait := due.Sub(clk.Now()); wait > 0 {
					select {
					case <-ctx.Done():
						return st, ctx.Err()
					case <-clk.After(wait):
					}
				}
			}
			if err := ctx.Err(); err != nil {
				return st, err
			}
			n, err := w.Write(ep.Data)
			st.Bytes += int64(n)
			if err != nil {
				return st, fmt.Errorf("write: %w", err)
			}
			st.Epochs++
		}
		st.Loops++
		if !o.Loop {
			return st, nil
		}
	}
}
