package nmea

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"sync"
	"time"
)

// knot is one knot in m/s (1852 m per hour).
const knot = 1852.0 / 3600.0

// readBufferSize bounds the memory a line can take: longer lines are
// discarded in pieces without being buffered whole.
const readBufferSize = 4096

// Decoder reads NMEA 0183 from an io.Reader and returns one Fix per epoch.
//
// An epoch is the set of sentences carrying the same UTC time. It is
// returned as soon as both its RMC and GGA have arrived, so a live receiver
// adds no latency; otherwise when a sentence with another time arrives, or
// at the end of input.
//
// Next must be called from one goroutine; Stats may be called from any.
type Decoder struct {
	br    *bufio.Reader
	names interner
	sent  Sentence
	err   error // sticky: io.EOF, or a wrapped read error

	ep epoch

	// date is midnight UTC of the last known date (zero: unknown) and
	// lastTOD the time of day of the last epoch, to detect midnight in
	// epochs without RMC.
	date    time.Time
	lastTOD time.Duration

	mu    sync.Mutex
	stats Stats
}

// epoch is the fix being assembled.
type epoch struct {
	active  bool
	emitted bool
	tod     time.Duration // NoTime groups sentences without a time
	hasRMC  bool
	hasGGA  bool
	rmc     RMC
	gga     GGA
}

// NewDecoder returns a Decoder reading from r. It buffers r.
func NewDecoder(r io.Reader) *Decoder {
	return &Decoder{
		br:    bufio.NewReaderSize(r, readBufferSize),
		stats: newStats(),
	}
}

// Stats returns a copy of the counts so far. It is safe to call while
// another goroutine is in Next.
func (d *Decoder) Stats() Stats {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.stats.Clone()
}

// Next returns the next epoch's fix. It returns io.EOF at the end of input
// and a wrapped error if r fails, after returning the last epoch read.
// Malformed input is not an error: it is counted in Stats and skipped.
func (d *Decoder) Next() (Fix, error) {
	for {
		if d.err != nil {
			if f, ok := d.flush(); ok {
				return d.emit(f), nil
			}
			return Fix{}, d.err
		}
		line, err := d.readLine()
		if err != nil {
			if errors.Is(err, io.EOF) {
				d.err = io.EOF
			} else {
				d.err = fmt.Errorf("nmea: read: %w", err)
			}
		}
		if len(line) > 0 {
			if f, ok := d.line(line, err != nil); ok {
				return d.emit(f), nil
			}
		}
	}
}

func (d *Decoder) emit(f Fix) Fix {
	d.mu.Lock()
	d.stats.Fixes++
	d.mu.Unlock()
	return f
}

// readLine returns the next line with its ending, or nil for a line
// discarded as too long, or a final partial line with the read error.
func (d *Decoder) readLine() ([]byte, error) {
	line, err := d.br.ReadSlice('\n')
	d.countBytes(len(line))
	if err != bufio.ErrBufferFull {
		return line, err
	}
	d.reject(ReasonTooLong)
	for err == bufio.ErrBufferFull {
		line, err = d.br.ReadSlice('\n')
		d.countBytes(len(line))
	}
	return nil, err
}

// line handles one line; atEOF says no line ending will follow.
func (d *Decoder) line(line []byte, atEOF bool) (Fix, bool) {
	line = trimEOL(line)
	switch {
	case len(line) == 0:
		return Fix{}, false
	case line[0] == '#':
		d.mu.Lock()
		d.stats.Comments++
		d.mu.Unlock()
		return Fix{}, false
	case len(line) > MaxLineLength:
		d.reject(ReasonTooLong)
		return Fix{}, false
	}
	// Resynchronise on the '$': whatever precedes it is noise, for example
	// the tail of a sentence cut when the port was opened.
	if line[0] != '$' {
		i := bytes.IndexByte(line, '$')
		if i < 0 || len(bytes.TrimLeft(line[:i], " \t")) > 0 {
			d.reject(ReasonGarbage)
		}
		if i < 0 {
			return Fix{}, false
		}
		line = line[i:]
	}
	// A second '$' means the receiver restarted the output mid-sentence.
	if j := bytes.LastIndexByte(line, '$'); j > 0 {
		d.reject(ReasonTruncated)
		line = line[j:]
	}
	reason, _ := parse(line, &d.sent, &d.names)
	if reason == ReasonNoChecksum && atEOF {
		reason = ReasonTruncated
	}
	if reason != "" {
		d.reject(reason)
		return Fix{}, false
	}
	s := &d.sent
	switch s.Type {
	case TypeRMC:
		d.count(d.stats.Sentences, s.Type)
		return d.merge(s.RMC.Time, s)
	case TypeGGA:
		d.count(d.stats.Sentences, s.Type)
		return d.merge(s.GGA.Time, s)
	}
	d.mu.Lock()
	key := s.Type
	if _, ok := d.stats.Ignored[key]; !ok && len(d.stats.Ignored) >= maxIgnoredTypes {
		key = "other"
	}
	d.stats.Ignored[key]++
	d.mu.Unlock()
	return Fix{}, false
}

func (d *Decoder) countBytes(n int) {
	d.mu.Lock()
	d.stats.Bytes += uint64(n)
	d.mu.Unlock()
}

func (d *Decoder) reject(reason string) { d.count(d.stats.Rejects, reason) }

func (d *Decoder) count(m map[string]uint64, key string) {
	d.mu.Lock()
	m[key]++
	d.mu.Unlock()
}

// merge adds a decoded sentence with time of day tod to the epochs.
func (d *Decoder) merge(tod time.Duration, s *Sentence) (Fix, bool) {
	var out Fix
	var ok bool
	if d.ep.active && d.ep.tod != tod {
		out, ok = d.flush()
		d.ep = epoch{}
	}
	if !d.ep.active {
		d.ep = epoch{active: true, tod: tod}
	}
	switch s.Type {
	case TypeRMC:
		d.ep.rmc, d.ep.hasRMC = s.RMC, true
	case TypeGGA:
		d.ep.gga, d.ep.hasGGA = s.GGA, true
	}
	if !ok && !d.ep.emitted && d.ep.hasRMC && d.ep.hasGGA {
		out, ok = d.flush()
	}
	return out, ok
}

// flush builds the fix of the current epoch unless it was returned already.
func (d *Decoder) flush() (Fix, bool) {
	if !d.ep.active || d.ep.emitted {
		return Fix{}, false
	}
	d.ep.emitted = true
	return d.build(&d.ep), true
}

func (d *Decoder) build(ep *epoch) Fix {
	f := unknownFix()
	rmc, gga := &ep.rmc, &ep.gga

	// GGA's quality is the better word on the fix; RMC decides without it.
	switch {
	case ep.hasGGA && gga.Quality == 0:
		f.Mode = ModeNoFix
	case ep.hasGGA && gga.Quality > 0:
		f.Mode = Mode2D
		if !math.IsNaN(gga.AltMSL) {
			f.Mode = Mode3D
		}
	case ep.hasRMC && rmc.Valid && rmc.FAAMode != 'N':
		f.Mode = Mode2D
	case ep.hasRMC:
		f.Mode = ModeNoFix
	}

	if ep.hasGGA {
		f.HDOP, f.Sats = gga.HDOP, gga.Sats
	}
	if f.Mode >= Mode2D {
		switch {
		case ep.hasGGA && !math.IsNaN(gga.Lat) && !math.IsNaN(gga.Lon):
			f.Lat, f.Lon = gga.Lat, gga.Lon
		case ep.hasRMC:
			f.Lat, f.Lon = rmc.Lat, rmc.Lon
		}
		if ep.hasRMC {
			f.Speed, f.Track = rmc.SpeedKnots*knot, rmc.Track
		}
	}
	if f.Mode == Mode3D {
		f.AltMSL = gga.AltMSL
		f.AltHAE = gga.AltMSL + gga.GeoidSep // NaN when the separation is unknown
	}

	if ep.tod != NoTime {
		switch {
		case ep.hasRMC && !rmc.Date.IsZero():
			d.date = time.Date(rmc.Date.Year, rmc.Date.Month, rmc.Date.Day, 0, 0, 0, 0, time.UTC)
		case !d.date.IsZero() && ep.tod+12*time.Hour < d.lastTOD:
			// The clock went back by more than half a day without a new
			// date: that is midnight.
			d.date = d.date.AddDate(0, 0, 1)
		}
		d.lastTOD = ep.tod
		if !d.date.IsZero() {
			f.Time = d.date.Add(ep.tod)
		}
	}
	return f
}
