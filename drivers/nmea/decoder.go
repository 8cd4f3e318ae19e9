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
// An epoch is the burst of sentences a receiver sends for one measurement:
// the sentences carrying the same UTC time, and the untimed ones (GSA, GSV,
// VTG, TXT, proprietary) among them. An epoch ends when a sentence with
// another time arrives. To add no latency on a live receiver, the Decoder
// learns which sentence closes the burst (the last one before the time
// changed) and returns the fix as soon as that sentence arrives again;
// until it has learned one, it returns the fix once both RMC and GGA are in.
//
// Next must be called from one goroutine; Stats, Sky and Texts may be
// called from any.
type Decoder struct {
	br    *bufio.Reader
	names interner
	sent  Sentence
	err   error // sticky: io.EOF, or a wrapped read error
	pivot time.Time

	ep epoch
	// ender is the sentence that closes an epoch, known when hasEnder.
	// The first epoch teaches the ender. After that, cand is the last
	// sentence of the last epoch that closed otherwise, known when hasCand;
	// it becomes the ender when the next such epoch confirms it, so that
	// one lost sentence does not retrain the Decoder.
	ender, cand       sig
	hasEnder, hasCand bool
	// prevTOD is the time of the epoch before the current one, to
	// recognise its late sentences.
	prevTOD time.Duration

	// date is midnight UTC of the last known date (zero: unknown) and
	// lastTOD the time of day of the last epoch, to detect midnight in
	// epochs without RMC.
	date    time.Time
	lastTOD time.Duration

	mu    sync.Mutex
	stats Stats
	sky   sky
}

// sig identifies a sentence within its epoch: its address and how many of
// the same address came before it in the epoch (GSV parts, one GSA per
// system).
type sig struct {
	talker, typ string
	n           int
}

// maxSigs bounds the distinct addresses counted in one epoch.
const maxSigs = 32

// epoch is the fix being assembled.
type epoch struct {
	active  bool
	emitted bool
	// timed: it holds a sentence with a time field, which set tod
	// (NoTime when the field was empty). byEnder: emitted
	// because its closing sentence arrived. late: it holds sentences of an
	// epoch already returned, and yields nothing.
	timed, byEnder, late bool
	tod                  time.Duration

	addrs  [maxSigs]sig // address and count so far
	naddrs int
	last   sig

	hasRMC, hasGGA, hasGNS, hasGLL, hasVTG, hasZDA, hasGSA bool
	rmc                                                    RMC
	gga                                                    GGA
	gns                                                    GNS
	gll                                                    GLL
	vtg                                                    VTG
	zda                                                    ZDA

	gsaFix           int // highest fix type of the epoch's GSAs
	pdop, hdop, vdop float64
	gsaPRNs          int

	// Any sentence saying simulated or estimated taints the whole epoch.
	simulated, estimated bool
}

// Option configures a Decoder.
type Option func(*Decoder)

// DefaultPivotYear is the start of the default GPS week-rollover window:
// see [RolloverPivot].
const DefaultPivotYear = 2020

// RolloverPivot sets the earliest date the Decoder believes a receiver can
// report. GPS counts weeks modulo 1024 (19.6 years), and receivers whose
// firmware predates a rollover (1999-08-22, 2019-04-07) report dates 1024
// weeks too early. A date before the pivot is moved forward by whole
// multiples of 1024 weeks until it is not: the Decoder then reports dates
// from the pivot to 1024 weeks after it. The default, January 1 of
// [DefaultPivotYear], lies before this code was written, so the window
// reaches to 2039. To replay a log recorded before the pivot with its
// original dates, set the pivot before the recording.
func RolloverPivot(t time.Time) Option {
	return func(d *Decoder) { d.pivot = t.UTC() }
}

// NewDecoder returns a Decoder reading from r. It buffers r.
func NewDecoder(r io.Reader, opts ...Option) *Decoder {
	d := &Decoder{
		br:      bufio.NewReaderSize(r, readBufferSize),
		stats:   newStats(),
		pivot:   time.Date(DefaultPivotYear, 1, 1, 0, 0, 0, 0, time.UTC),
		prevTOD: NoTime,
	}
	for _, o := range opts {
		o(d)
	}
	return d
}

// Reset discards everything d has learned and counted and has it read r,
// as a new Decoder with the same options would, keeping its buffers: for a
// caller that decodes many short inputs (firmware-sim decodes each
// simulated bus's epoch, thousands a second) without a new 78 kB Decoder
// for each. It must not be called while another goroutine is in Next.
func (d *Decoder) Reset(r io.Reader) {
	d.br.Reset(r)
	d.sent = Sentence{}
	d.err = nil
	d.ep = epoch{}
	d.ender, d.cand, d.hasEnder, d.hasCand = sig{}, sig{}, false, false
	d.prevTOD = NoTime
	d.date, d.lastTOD = time.Time{}, 0
	d.mu.Lock()
	defer d.mu.Unlock()
	clear(d.stats.Sentences)
	clear(d.stats.Ignored)
	clear(d.stats.Rejects)
	d.stats = Stats{Sentences: d.stats.Sentences, Ignored: d.stats.Ignored, Rejects: d.stats.Rejects}
	d.sky.reset()
}

// Sky returns the latest complete satellite picture of all systems, from
// GSV, with Used set from the GSA of the last epoch that had one. It
// returns a new slice, and is safe to call while another goroutine is in
// Next.
func (d *Decoder) Sky() []Satellite {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.sky.satellites()
}

// Texts returns up to 8 of the most recent distinct texts the receiver sent
// about itself, oldest first: TXT sentences (boot banner, firmware,
// antenna status) and proprietary identity sentences (Garmin PGRMT,
// MediaTek PMTK705, ...). It is safe to call while another goroutine is in
// Next.
func (d *Decoder) Texts() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]string(nil), d.sky.texts[:d.sky.ntexts]...)
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
	case TypeRMC, TypeGGA, TypeGNS, TypeGLL, TypeVTG, TypeGSA, TypeGSV, TypeZDA, TypeTXT:
		if s.Talker != "" && s.Talker != "P" {
			d.count(d.stats.Sentences, s.Type)
			return d.merge(s)
		}
	}
	d.mu.Lock()
	key := s.Type
	if _, ok := d.stats.Ignored[key]; !ok && len(d.stats.Ignored) >= maxIgnoredTypes {
		key = "other"
	}
	d.stats.Ignored[key]++
	if s.Talker == "P" {
		if text := identity(s.Type, line); text != nil {
			d.sky.addText(text)
		}
	}
	d.mu.Unlock()
	return d.merge(s)
}

// identity returns the text of a proprietary sentence that names the
// receiver or its firmware, or nil.
func identity(typ string, line []byte) []byte {
	switch typ {
	case "PGRMT", "PMTK705", "PSTMVER", "PQVERNO", "PSRFTXT", "PMTK011":
	default:
		return nil
	}
	body := line[:bytes.LastIndexByte(line, '*')]
	i := bytes.IndexByte(body, ',')
	if i < 0 {
		return nil
	}
	return bytes.TrimRight(body[i+1:], ",")
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

// merge adds a well-formed sentence to the epochs and returns a fix when
// one is complete.
func (d *Decoder) merge(s *Sentence) (Fix, bool) {
	var out Fix
	var ok bool
	tod, timed := sentenceTime(s)
	ep := &d.ep
	switch {
	case timed && !ep.active:
		out, ok = d.next(true, tod)
	case timed && !ep.timed && !ep.emitted:
		// Untimed sentences opened this epoch; this one dates it.
		ep.timed, ep.tod = true, tod
		ep.late = ep.late || tod != NoTime && tod == d.prevTOD
	case timed && (!ep.timed || tod != NoTime && ep.tod != tod):
		out, ok = d.next(true, tod)
	case timed && tod == NoTime && (ep.tod != NoTime || ep.count(s.Talker, s.Type) > 0):
		// A time field left empty, as before the first fix: a second
		// sentence of the same address means a new burst.
		out, ok = d.next(true, NoTime)
	case !timed && (!ep.active || ep.byEnder):
		out, ok = d.next(false, NoTime)
	}
	ep = &d.ep
	ep.last = sig{talker: s.Talker, typ: s.Type, n: ep.add(s.Talker, s.Type)}
	if s.Type == TypeGSV {
		// GSV parts say where they stand in the burst better than a count.
		ep.last.n = s.GSV.Num | s.GSV.SignalID<<8
	}
	ep.take(s, &d.sky, &d.mu)
	if ok || ep.emitted || ep.late {
		return out, ok
	}
	switch {
	case d.hasEnder && ep.last == d.ender:
		ep.byEnder = true
		return d.flush()
	case !d.hasEnder && ep.hasRMC && ep.hasGGA:
		return d.flush()
	}
	return out, ok
}

// next closes the current epoch and opens another. It returns the closed
// epoch's fix if it had not been returned yet.
func (d *Decoder) next(timed bool, tod time.Duration) (Fix, bool) {
	out, ok := d.flush()
	old := &d.ep
	if old.active {
		// The sentence that closed an epoch is the one to wait for next
		// time, unless the epoch closed on it already. Late sentences of an
		// epoch already returned say the burst ends later than thought.
		switch {
		case old.byEnder:
			d.hasCand = false
		case !old.timed:
		case !d.hasEnder, d.hasCand && d.cand == old.last:
			d.ender, d.hasEnder, d.hasCand = old.last, true, false
		default:
			d.cand, d.hasCand = old.last, true
		}
		d.mu.Lock()
		d.sky.endEpoch(old.hasGSA)
		d.mu.Unlock()
		if old.tod != NoTime {
			d.prevTOD = old.tod
		}
	}
	d.ep = epoch{active: true, timed: timed, tod: tod}
	d.ep.late = tod != NoTime && tod == d.prevTOD
	return out, ok
}

// sentenceTime returns a sentence's time of day; timed is false for types
// that carry none.
func sentenceTime(s *Sentence) (tod time.Duration, timed bool) {
	switch s.Type {
	case TypeRMC:
		return s.RMC.Time, true
	case TypeGGA:
		return s.GGA.Time, true
	case TypeGNS:
		return s.GNS.Time, true
	case TypeZDA:
		return s.ZDA.Time, true
	case TypeGLL:
		// GLL before NMEA 2.0 had no time field.
		return s.GLL.Time, s.GLL.Time != NoTime
	}
	return NoTime, false
}

// count returns how many sentences of the address the epoch holds.
func (ep *epoch) count(talker, typ string) int {
	for _, a := range ep.addrs[:ep.naddrs] {
		if a.talker == talker && a.typ == typ {
			return a.n
		}
	}
	return 0
}

// add counts one more sentence of the address and returns its count.
func (ep *epoch) add(talker, typ string) int {
	for i := range ep.addrs[:ep.naddrs] {
		if a := &ep.addrs[i]; a.talker == talker && a.typ == typ {
			a.n++
			return a.n
		}
	}
	if ep.naddrs == maxSigs {
		return 0
	}
	ep.addrs[ep.naddrs] = sig{talker: talker, typ: typ, n: 1}
	ep.naddrs++
	return 1
}

// take merges a decoded sentence's data into the epoch. Of two sentences
// of the same type (two talkers), the first is kept unless only the second
// claims a fix.
func (ep *epoch) take(s *Sentence, sk *sky, mu *sync.Mutex) {
	switch s.Type {
	case TypeRMC:
		if !ep.hasRMC || !ep.rmc.Valid && s.RMC.Valid {
			ep.rmc, ep.hasRMC = s.RMC, true
		}
		ep.taint(s.RMC.FAAMode)
	case TypeGGA:
		if !ep.hasGGA || ep.gga.Quality <= 0 && s.GGA.Quality > 0 {
			ep.gga, ep.hasGGA = s.GGA, true
		}
		switch s.GGA.Quality {
		case 6:
			ep.estimated = true
		case 8:
			ep.simulated = true
		}
	case TypeGNS:
		if !ep.hasGNS || gnsValid(&ep.gns) == false && gnsValid(&s.GNS) {
			ep.gns, ep.hasGNS = s.GNS, true
		}
		for _, m := range s.GNS.Modes[:s.GNS.NModes] {
			ep.taint(m)
		}
	case TypeGLL:
		if !ep.hasGLL || !ep.gll.Valid && s.GLL.Valid {
			ep.gll, ep.hasGLL = s.GLL, true
		}
		ep.taint(s.GLL.FAAMode)
	case TypeVTG:
		if !ep.hasVTG || math.IsNaN(ep.vtg.SpeedKnots) && math.IsNaN(ep.vtg.SpeedKmh) {
			ep.vtg, ep.hasVTG = s.VTG, true
		}
		ep.taint(s.VTG.FAAMode)
	case TypeZDA:
		if !ep.hasZDA || ep.zda.Date.IsZero() {
			ep.zda, ep.hasZDA = s.ZDA, true
		}
	case TypeGSA:
		g := &s.GSA
		if !ep.hasGSA {
			ep.gsaFix, ep.pdop, ep.hdop, ep.vdop = g.FixType, g.PDOP, g.HDOP, g.VDOP
		}
		ep.hasGSA = true
		ep.gsaFix = max(ep.gsaFix, g.FixType)
		if math.IsNaN(ep.pdop) && math.IsNaN(ep.hdop) {
			ep.pdop, ep.hdop, ep.vdop = g.PDOP, g.HDOP, g.VDOP
		}
		ep.gsaPRNs += g.NPRNs
		mu.Lock()
		sk.addGSA(s.Talker, g)
		mu.Unlock()
	case TypeGSV:
		mu.Lock()
		sk.addGSV(s.Talker, &s.GSV)
		mu.Unlock()
	case TypeTXT:
		mu.Lock()
		sk.addText(s.TXT.Text)
		mu.Unlock()
	}
}

func (ep *epoch) taint(faa byte) {
	switch faa {
	case 'S':
		ep.simulated = true
	case 'E':
		ep.estimated = true
	}
}

func gnsValid(g *GNS) bool {
	for _, m := range g.Modes[:g.NModes] {
		if m != 'N' {
			return true
		}
	}
	return false
}

// flush builds the fix of the current epoch unless it was returned already
// or holds no sentence about position or time.
func (d *Decoder) flush() (Fix, bool) {
	ep := &d.ep
	if !ep.active || ep.emitted || ep.late {
		return Fix{}, false
	}
	ep.emitted = true
	if !ep.hasRMC && !ep.hasGGA && !ep.hasGNS && !ep.hasGLL && !ep.hasZDA {
		return Fix{}, false
	}
	f := d.build(ep)
	d.mu.Lock()
	f.SatsInView = d.sky.inView()
	d.mu.Unlock()
	return f, true
}

// status decides whether the epoch has a fix and how it was obtained. said
// is false when no sentence spoke about it. GGA is the fullest word on the
// fix, then GNS, RMC and GLL.
func (ep *epoch) status() (st Status, valid, said bool) {
	switch {
	case ep.hasGGA && ep.gga.Quality >= 0:
		if ep.gga.Quality == 0 {
			return StatusUnknown, false, true
		}
		st, _ = statusFromQuality(ep.gga.Quality)
	case ep.hasGNS && ep.gns.NModes > 0:
		if !gnsValid(&ep.gns) {
			return StatusUnknown, false, true
		}
		// The best system decides: one system in RTK makes an RTK fix.
		for _, m := range ep.gns.Modes[:ep.gns.NModes] {
			if s, ok := statusFromFAA(m); ok && (st == StatusUnknown || s.rank() > st.rank()) {
				st = s
			}
		}
	case ep.hasRMC:
		if !ep.rmc.Valid || ep.rmc.FAAMode == 'N' {
			return StatusUnknown, false, true
		}
		st = faaStatus(ep.rmc.FAAMode)
	case ep.hasGLL && ep.gll.Time != NoTime:
		if !ep.gll.Valid || ep.gll.FAAMode == 'N' {
			return StatusUnknown, false, true
		}
		st = faaStatus(ep.gll.FAAMode)
	default:
		return StatusUnknown, false, false
	}
	// Whatever the sources say otherwise, one sentence admitting a
	// simulated or estimated position makes the fix one.
	switch {
	case ep.simulated:
		st = StatusSimulated
	case ep.estimated:
		st = StatusDR
	}
	return st, true, true
}

// faaStatus is the status of a valid fix with FAA mode m; before NMEA 2.3
// there is no mode, and a valid fix is a plain GPS one.
func faaStatus(m byte) Status {
	if st, ok := statusFromFAA(m); ok {
		return st
	}
	return StatusGPS
}

func (d *Decoder) build(ep *epoch) Fix {
	f := unknownFix()
	rmc, gga, gns, gll, vtg := &ep.rmc, &ep.gga, &ep.gns, &ep.gll, &ep.vtg

	st, valid, said := ep.status()
	switch {
	case !said:
		f.Mode = ModeUnknown
	case !valid:
		f.Mode = ModeNoFix
	case ep.hasGSA && ep.gsaFix >= 1:
		// GSA's fix type is the receiver's own word on 2D or 3D.
		f.Mode = Mode(ep.gsaFix)
	case ep.hasGGA && !math.IsNaN(gga.AltMSL), ep.hasGNS && !math.IsNaN(gns.AltMSL):
		f.Mode = Mode3D
	default:
		f.Mode = Mode2D
	}
	if f.Mode >= Mode2D {
		f.Status = st
	}

	if ep.hasGSA {
		f.PDOP, f.VDOP, f.HDOP = ep.pdop, ep.vdop, ep.hdop
		f.Sats = ep.gsaPRNs
	}
	switch {
	case ep.hasGGA && gga.Sats >= 0:
		f.Sats = gga.Sats
	case ep.hasGNS && gns.Sats >= 0:
		f.Sats = gns.Sats
	}
	switch {
	case !math.IsNaN(f.HDOP):
	case ep.hasGGA && !math.IsNaN(gga.HDOP):
		f.HDOP = gga.HDOP
	case ep.hasGNS:
		f.HDOP = gns.HDOP
	}

	if f.Mode >= Mode2D {
		switch {
		case ep.hasGGA && !math.IsNaN(gga.Lat) && !math.IsNaN(gga.Lon):
			f.Lat, f.Lon = gga.Lat, gga.Lon
		case ep.hasGNS && !math.IsNaN(gns.Lat) && !math.IsNaN(gns.Lon):
			f.Lat, f.Lon = gns.Lat, gns.Lon
		case ep.hasRMC && !math.IsNaN(rmc.Lat) && !math.IsNaN(rmc.Lon):
			f.Lat, f.Lon = rmc.Lat, rmc.Lon
		case ep.hasGLL && !math.IsNaN(gll.Lat) && !math.IsNaN(gll.Lon):
			f.Lat, f.Lon = gll.Lat, gll.Lon
		}
		if ep.hasRMC {
			f.Speed, f.Track = rmc.SpeedKnots*knot, rmc.Track
		}
		if ep.hasVTG {
			if math.IsNaN(f.Speed) {
				f.Speed = vtg.SpeedKnots * knot
				if math.IsNaN(f.Speed) {
					f.Speed = vtg.SpeedKmh / 3.6
				}
			}
			if math.IsNaN(f.Track) {
				f.Track = vtg.TrackTrue
			}
		}
	}
	if f.Mode == Mode3D {
		switch {
		case ep.hasGGA && !math.IsNaN(gga.AltMSL):
			f.AltMSL = gga.AltMSL
			f.AltHAE = gga.AltMSL + gga.GeoidSep // NaN when the separation is unknown
		case ep.hasGNS:
			f.AltMSL = gns.AltMSL
			f.AltHAE = gns.AltMSL + gns.GeoidSep
		}
	}

	if ep.timed && ep.tod != NoTime {
		var date Date
		switch {
		case ep.hasRMC && !rmc.Date.IsZero():
			date = rmc.Date
		case ep.hasZDA && !ep.zda.Date.IsZero():
			date = ep.zda.Date
		}
		switch {
		case !date.IsZero():
			d.date = d.rollover(time.Date(date.Year, date.Month, date.Day, 0, 0, 0, 0, time.UTC))
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

// rolloverPeriod is one GPS week-number rollover: 1024 weeks.
const rolloverDays = 1024 * 7

// rollover moves a date before the pivot forward by whole rollovers.
func (d *Decoder) rollover(date time.Time) time.Time {
	if date.Before(d.pivot) {
		// Days by Unix seconds: a time.Duration overflows past 292 years.
		days := (d.pivot.Unix() - date.Unix() + 86399) / 86400
		periods := (days + rolloverDays - 1) / rolloverDays
		date = date.AddDate(0, 0, int(periods)*rolloverDays)
	}
	return date
}
