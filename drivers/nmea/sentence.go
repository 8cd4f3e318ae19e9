package nmea

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"time"
)

// Reasons a line is rejected. They are the keys of [Stats].Rejects and the
// Reason of a [ParseError].
const (
	ReasonChecksum   = "checksum"    // checksum present but wrong or malformed
	ReasonNoChecksum = "no_checksum" // no "*HH" at the end
	ReasonTruncated  = "truncated"   // sentence cut short: a new '$' or the end of input arrived first
	ReasonGarbage    = "garbage"     // bytes that are not a sentence, e.g. before the '$'
	ReasonTooLong    = "too_long"    // line longer than MaxLineLength
	ReasonAddress    = "address"     // talker/type field is not an NMEA address
	ReasonFields     = "fields"      // too few fields for the sentence type
	ReasonValue      = "value"       // a field does not parse, e.g. a latitude of "12ab"
)

// Sentinel errors a [ParseError] wraps, for errors.Is.
var (
	ErrChecksum   = errors.New("checksum mismatch")
	ErrNoChecksum = errors.New("missing checksum")
	ErrSyntax     = errors.New("malformed sentence")
)

// ParseError is a sentence that could not be parsed.
type ParseError struct {
	Sentence string // the start of the offending line, for logs
	Reason   string // one of the Reason constants
	Err      error  // what was wrong; wraps ErrChecksum, ErrNoChecksum or ErrSyntax
}

func (e *ParseError) Error() string {
	return fmt.Sprintf("nmea: %s: %q: %v", e.Reason, e.Sentence, e.Err)
}

func (e *ParseError) Unwrap() error { return e.Err }

// Sentence is one parsed NMEA sentence. Only the struct matching Type is
// filled in; other types are parsed no further than their address.
type Sentence struct {
	// Talker is the two-letter source, e.g. "GP" (GPS) or "GN" (multi-GNSS);
	// "P" for proprietary sentences.
	Talker string
	// Type is the sentence type, e.g. "RMC"; for proprietary and other
	// non-standard sentences the whole address, e.g. "PGRME" (Talker "P")
	// or "SNRSTAT" (Talker "").
	Type string
	RMC  RMC // when Type == "RMC"
	GGA  GGA // when Type == "GGA"
	GNS  GNS // when Type == "GNS"
	GLL  GLL // when Type == "GLL"
	VTG  VTG // when Type == "VTG"
	GSA  GSA // when Type == "GSA"
	GSV  GSV // when Type == "GSV"
	ZDA  ZDA // when Type == "ZDA"
	TXT  TXT // when Type == "TXT"
}

// RMC is the recommended minimum data: time, date, position, speed, track.
type RMC struct {
	Time       time.Duration // UTC time of day; NoTime when empty
	Valid      bool          // status A (valid) rather than V (void)
	Lat, Lon   float64       // degrees; NaN when empty
	SpeedKnots float64       // NaN when empty
	Track      float64       // degrees true; NaN when empty
	Date       Date          // zero when empty
	FAAMode    byte          // NMEA 2.3 mode indicator ('A', 'D', 'E', 'N', ...); 0 when absent
	NavStatus  byte          // NMEA 4.1+: 'S' safe, 'C' caution, 'U' unsafe, 'V' not valid; 0 when absent
}

// GGA is the fix data: time, position, quality, altitude.
type GGA struct {
	Time     time.Duration // UTC time of day; NoTime when empty
	Lat, Lon float64       // degrees; NaN when empty
	Quality  int           // 0 no fix, 1 GPS, 2 DGPS, 3 PPS, 4 RTK fixed, 5 RTK float, 6 estimated, 7 manual, 8 simulated; -1 when empty
	Sats     int           // satellites used; -1 when empty
	HDOP     float64       // NaN when empty
	AltMSL   float64       // metres; NaN when empty
	GeoidSep float64       // metres, ellipsoid minus MSL; NaN when empty
}

// Sentence types the package decodes (see also types.go). Adding one means
// a case in parse, a struct in Sentence and its merge in the epoch.
const (
	TypeRMC = "RMC"
	TypeGGA = "GGA"
)

// ParseSentence parses one sentence, "$" through the checksum. A trailing
// "\r\n" or "\n" is allowed. Sentences of types the package does not decode
// are returned with only Talker and Type set and no error.
func ParseSentence(line []byte) (Sentence, error) {
	var s Sentence
	line = trimEOL(line)
	reason, err := parse(line, &s, nil)
	if reason != "" {
		return Sentence{}, &ParseError{Sentence: excerpt(line), Reason: reason, Err: err}
	}
	return s, nil
}

// excerpt is the start of line, enough to recognise it in a log.
func excerpt(line []byte) string {
	const n = 20
	if len(line) > n {
		return string(line[:n]) + "..."
	}
	return string(line)
}

func trimEOL(b []byte) []byte {
	for len(b) > 0 {
		switch b[len(b)-1] {
		case '\n', '\r', ' ', '\t':
			b = b[:len(b)-1]
			continue
		}
		break
	}
	return b
}

// Errors for the common rejects, preallocated so the decoder's hot path
// does not allocate when it only needs the reason.
var (
	errNoDollar  = fmt.Errorf("%w: does not start with '$'", ErrSyntax)
	errBadSum    = fmt.Errorf("%w: checksum is not two hex digits", ErrChecksum)
	errAddress   = fmt.Errorf("%w: bad talker/type address", ErrSyntax)
	errTooLong   = fmt.Errorf("%w: longer than %d bytes", ErrSyntax, MaxLineLength)
	errFieldsRMC = fmt.Errorf("%w: RMC needs at least %d fields", ErrSyntax, minFieldsRMC)
	errFieldsGGA = fmt.Errorf("%w: GGA needs at least %d fields", ErrSyntax, minFieldsGGA)
)

// MaxLineLength is the longest line accepted, without its line ending.
// NMEA 0183 allows 82 bytes; some receivers send longer proprietary lines.
const MaxLineLength = 200

// checksumErr builds the detailed error only when someone will read it.
type checksumErr struct{ line, computed byte }

func (e checksumErr) Error() string {
	return fmt.Sprintf("checksum mismatch: line says %02X, computed %02X", e.line, e.computed)
}
func (e checksumErr) Unwrap() error { return ErrChecksum }

func badField(name string) error { return fmt.Errorf("%w: bad %s field", ErrSyntax, name) }

var (
	errTime     = badField("time")
	errStatus   = badField("status")
	errLat      = badField("latitude")
	errLon      = badField("longitude")
	errSpeed    = badField("speed")
	errTrack    = badField("track")
	errDate     = badField("date")
	errQuality  = badField("quality")
	errSats     = badField("satellites")
	errHDOP     = badField("hdop")
	errAlt      = badField("altitude")
	errGeoidSep = badField("geoid separation")
)

// parse parses line (no line ending) into s. It returns a reject reason and
// error, or "" on success. names interns unknown type names; nil means
// allocate.
func parse(line []byte, s *Sentence, names *interner) (string, error) {
	if len(line) > MaxLineLength {
		return ReasonTooLong, errTooLong
	}
	if len(line) == 0 || line[0] != '$' {
		return ReasonGarbage, errNoDollar
	}
	star := bytes.LastIndexByte(line, '*')
	if star < 0 {
		return ReasonNoChecksum, ErrNoChecksum
	}
	body := line[1:star]
	want, ok := unhex(line[star+1:])
	if !ok {
		return ReasonChecksum, errBadSum
	}
	if got := checksum(body); got != want {
		return ReasonChecksum, checksumErr{line: want, computed: got}
	}

	addr, rest := body, []byte(nil)
	if i := bytes.IndexByte(body, ','); i >= 0 {
		addr, rest = body[:i], body[i+1:]
	}
	if !validAddress(addr) {
		return ReasonAddress, errAddress
	}
	switch {
	case addr[0] == 'P':
		s.Talker, s.Type = "P", names.intern(addr)
		return "", nil
	case len(addr) != 5:
		// Vendor sentences outside the standard scheme, e.g. Unicore's
		// $SNRSTAT: well-formed, just not ours to decode.
		s.Talker, s.Type = "", names.intern(addr)
		return "", nil
	}
	s.Talker, s.Type = internTalker(addr[:2], names), names.intern(addr[2:])
	switch s.Type {
	case TypeRMC:
		return parseRMC(rest, &s.RMC)
	case TypeGGA:
		return parseGGA(rest, &s.GGA)
	case TypeGNS:
		return parseGNS(rest, &s.GNS)
	case TypeGLL:
		return parseGLL(rest, &s.GLL)
	case TypeVTG:
		return parseVTG(rest, &s.VTG)
	case TypeGSA:
		return parseGSA(rest, &s.GSA)
	case TypeGSV:
		return parseGSV(rest, &s.GSV)
	case TypeZDA:
		return parseZDA(rest, &s.ZDA)
	case TypeTXT:
		return parseTXT(rest, &s.TXT)
	}
	return "", nil
}

// validAddress: upper-case letters or digits, normally a two-character
// talker and a three-letter type, or "P" + manufacturer and type.
func validAddress(a []byte) bool {
	if len(a) < 2 || len(a) > 10 {
		return false
	}
	for _, c := range a {
		if (c < 'A' || c > 'Z') && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}

func checksum(body []byte) byte {
	var sum byte
	for _, c := range body {
		sum ^= c
	}
	return sum
}

func unhex(b []byte) (byte, bool) {
	if len(b) != 2 {
		return 0, false
	}
	hi, ok1 := hexDigit(b[0])
	lo, ok2 := hexDigit(b[1])
	return hi<<4 | lo, ok1 && ok2
}

func hexDigit(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	}
	return 0, false
}

// maxFields bounds the fields split per sentence; the decoded types have
// at most 20 (GSV with four satellites), more are ignored.
const maxFields = 24

// splitFields splits the comma-separated fields after the address into dst
// without allocating, and returns how many there are.
func splitFields(rest []byte, dst *[maxFields][]byte) int {
	n := 0
	for n < maxFields {
		i := bytes.IndexByte(rest, ',')
		if i < 0 {
			dst[n] = rest
			return n + 1
		}
		dst[n] = rest[:i]
		rest = rest[i+1:]
		n++
	}
	return n
}

// Fewer fields than this are rejected. Older receivers stop RMC after the
// date and GGA after the altitude; the rest is optional.
const (
	minFieldsRMC = 9
	minFieldsGGA = 9
)

func parseRMC(rest []byte, r *RMC) (string, error) {
	var f [maxFields][]byte
	n := splitFields(rest, &f)
	if n < minFieldsRMC {
		return ReasonFields, errFieldsRMC
	}
	var ok bool
	if r.Time, ok = parseTimeOfDay(f[0]); !ok {
		return ReasonValue, errTime
	}
	switch string(f[1]) {
	case "A":
		r.Valid = true
	case "V", "":
		r.Valid = false
	default:
		return ReasonValue, errStatus
	}
	var err error
	if r.Lat, r.Lon, err = parsePosition(f[2:6], r.Valid); err != nil {
		return ReasonValue, err
	}
	if r.SpeedKnots, ok = parseFloat(f[6]); !ok {
		return ReasonValue, errSpeed
	}
	if r.Track, ok = parseFloat(f[7]); !ok {
		return ReasonValue, errTrack
	}
	if r.Date, ok = parseDate(f[8]); !ok {
		return ReasonValue, errDate
	}
	r.FAAMode, r.NavStatus = 0, 0
	if n > 11 {
		if r.FAAMode, ok = faaMode(f[11]); !ok {
			return ReasonValue, errMode
		}
	}
	if n > 12 {
		if r.NavStatus, ok = faaMode(f[12]); !ok {
			return ReasonValue, errStatus
		}
	}
	return "", nil
}

func parseGGA(rest []byte, g *GGA) (string, error) {
	var f [maxFields][]byte
	n := splitFields(rest, &f)
	if n < minFieldsGGA {
		return ReasonFields, errFieldsGGA
	}
	var ok bool
	if g.Time, ok = parseTimeOfDay(f[0]); !ok {
		return ReasonValue, errTime
	}
	if g.Quality, ok = parseUint(f[5]); !ok || len(f[5]) > 1 {
		return ReasonValue, errQuality
	}
	var err error
	if g.Lat, g.Lon, err = parsePosition(f[1:5], g.Quality != 0); err != nil {
		return ReasonValue, err
	}
	if g.Sats, ok = parseUint(f[6]); !ok {
		return ReasonValue, errSats
	}
	if g.HDOP, ok = parseFloat(f[7]); !ok {
		return ReasonValue, errHDOP
	}
	if g.AltMSL, ok = parseFloat(f[8]); !ok {
		return ReasonValue, errAlt
	}
	g.GeoidSep, _ = parseFloat(nil)
	if n > 10 {
		if g.GeoidSep, ok = parseFloat(f[10]); !ok {
			return ReasonValue, errGeoidSep
		}
	}
	return "", nil
}

// parsePosition reads the four fields lat, N|S, lon, E|W. Receivers without
// a fix fill them with placeholders such as 36000.0000: unusable, but the
// time and date beside them are good, so when fix is false a bad position
// is NaN rather than an error.
func parsePosition(f [][]byte, fix bool) (lat, lon float64, err error) {
	lat, okLat := parseLatLon(f[0], f[1], 'N', 'S', 90)
	lon, okLon := parseLatLon(f[2], f[3], 'E', 'W', 180)
	switch {
	case !okLat && fix:
		return 0, 0, errLat
	case !okLon && fix:
		return 0, 0, errLon
	}
	if !okLat {
		lat = math.NaN()
	}
	if !okLon {
		lon = math.NaN()
	}
	return lat, lon, nil
}
