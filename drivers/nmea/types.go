package nmea

import (
	"fmt"
	"time"
)

// The sentence types beyond RMC and GGA. Each parser fills its struct
// completely, so a reused Sentence carries nothing over from the last line.

// Sentence types the package decodes besides [TypeRMC] and [TypeGGA].
const (
	TypeGNS = "GNS"
	TypeGLL = "GLL"
	TypeVTG = "VTG"
	TypeGSA = "GSA"
	TypeGSV = "GSV"
	TypeZDA = "ZDA"
	TypeTXT = "TXT"
)

// GNS is the multi-GNSS fix data (NMEA 3.0+).
type GNS struct {
	Time     time.Duration // UTC time of day; NoTime when empty
	Lat, Lon float64       // degrees; NaN when empty
	// Modes holds one FAA mode indicator per system, in the order GPS,
	// GLONASS, Galileo, BeiDou, QZSS, NavIC ('N' for a system not used);
	// NModes says how many there are.
	Modes     [maxGNSModes]byte
	NModes    int
	Sats      int     // satellites used; -1 when empty
	HDOP      float64 // NaN when empty
	AltMSL    float64 // metres; NaN when empty
	GeoidSep  float64 // metres; NaN when empty
	NavStatus byte    // NMEA 4.1+: 'S' safe, 'C' caution, 'U' unsafe, 'V' not valid; 0 when absent
}

// maxGNSModes bounds the systems in a GNS mode field.
const maxGNSModes = 8

// GLL is a geographic position with time and status.
type GLL struct {
	Lat, Lon float64       // degrees; NaN when empty
	Time     time.Duration // UTC time of day; NoTime when empty or absent (NMEA 1.5)
	Valid    bool          // status A; an absent status (NMEA 1.5) is not valid
	FAAMode  byte          // NMEA 2.3+; 0 when absent
}

// VTG is the track and speed over ground.
type VTG struct {
	TrackTrue  float64 // degrees; NaN when empty
	TrackMag   float64 // degrees magnetic; NaN when empty
	SpeedKnots float64 // NaN when empty
	SpeedKmh   float64 // NaN when empty
	FAAMode    byte    // NMEA 2.3+; 0 when absent
}

// GSA lists the satellites used and the dilutions of precision.
type GSA struct {
	Auto    bool // selection mode A (automatic 2D/3D) rather than M (manual)
	FixType int  // 1 no fix, 2 2D, 3 3D; -1 when empty
	// PRNs holds the satellites used, NPRNs how many.
	PRNs             [maxGSAPRNs]int
	NPRNs            int
	PDOP, HDOP, VDOP float64 // NaN when empty
	SystemID         int     // NMEA 4.1+: 1 GPS, 2 GLONASS, 3 Galileo, 4 BeiDou, 5 QZSS, 6 NavIC; 0 when absent
}

// maxGSAPRNs is the satellites one GSA lists: 12 by the standard; a few
// receivers send more, which are dropped.
const maxGSAPRNs = 16

// GSV is one part of the satellites-in-view report.
type GSV struct {
	Total, Num int // this is part Num of Total (1-based)
	InView     int // satellites in view of this talker (and signal); -1 when empty
	Sats       [4]GSVSat
	NSats      int // entries used in Sats
	SignalID   int // NMEA 4.1+ signal, e.g. 1 for GPS L1 C/A; 0 when absent
}

// GSVSat is one satellite of a [GSV]. Unknown values are -1.
type GSVSat struct {
	PRN       int
	Elevation int // degrees
	Azimuth   int // degrees true
	SNR       int // dB-Hz
}

// ZDA is the UTC date and time.
type ZDA struct {
	Time time.Duration // UTC time of day; NoTime when empty
	Date Date          // zero when empty
	// ZoneHours and ZoneMinutes are the local zone's offset; receivers
	// leave them empty or zero.
	ZoneHours, ZoneMinutes int
}

// TXT is a text transmission: boot banners, firmware and antenna status.
type TXT struct {
	Total, Num int // part Num of Total; -1 when empty
	ID         int // message identifier; -1 when empty
	// Text aliases the parsed line: copy it to keep it.
	Text []byte
}

var (
	errFieldsGNS = fieldsErr(TypeGNS, minFieldsGNS)
	errFieldsGLL = fieldsErr(TypeGLL, minFieldsGLL)
	errFieldsVTG = fieldsErr(TypeVTG, minFieldsVTG)
	errFieldsGSA = fieldsErr(TypeGSA, minFieldsGSA)
	errFieldsGSV = fieldsErr(TypeGSV, minFieldsGSV)
	errFieldsZDA = fieldsErr(TypeZDA, minFieldsZDA)
	errFieldsTXT = fieldsErr(TypeTXT, minFieldsTXT)

	errMode    = badField("mode")
	errFixType = badField("fix type")
	errPRN     = badField("satellite number")
	errDOP     = badField("dilution of precision")
	errSystem  = badField("system id")
	errParts   = badField("message number")
	errSat     = badField("satellite")
	errSignal  = badField("signal id")
	errZone    = badField("time zone")
	errText    = badField("text")
)

func fieldsErr(typ string, n int) error {
	return fmt.Errorf("%w: %s needs at least %d fields", ErrSyntax, typ, n)
}

const (
	minFieldsGNS = 12
	minFieldsGLL = 4 // NMEA 1.5: position only
	minFieldsVTG = 4 // NMEA 2.0 without unit letters
	minFieldsGSA = 17
	minFieldsGSV = 3
	minFieldsZDA = 4
	minFieldsTXT = 4
)

// faaMode reads an optional one-letter mode indicator. Any upper-case
// letter passes: the standard adds letters now and then, and the merge
// only acts on the ones it knows.
func faaMode(b []byte) (byte, bool) {
	switch {
	case len(b) == 0:
		return 0, true
	case len(b) == 1 && b[0] >= 'A' && b[0] <= 'Z':
		return b[0], true
	}
	return 0, false
}

func parseGNS(rest []byte, g *GNS) (string, error) {
	var f [maxFields][]byte
	n := splitFields(rest, &f)
	if n < minFieldsGNS {
		return ReasonFields, errFieldsGNS
	}
	var ok bool
	if g.Time, ok = parseTimeOfDay(f[0]); !ok {
		return ReasonValue, errTime
	}
	m := f[5]
	if len(m) > maxGNSModes {
		return ReasonValue, errMode
	}
	g.NModes = len(m)
	valid := false
	for i, c := range m {
		if c < 'A' || c > 'Z' {
			return ReasonValue, errMode
		}
		g.Modes[i] = c
		valid = valid || c != 'N'
	}
	for i := len(m); i < maxGNSModes; i++ {
		g.Modes[i] = 0
	}
	var err error
	if g.Lat, g.Lon, err = parsePosition(f[1:5], valid); err != nil {
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
	if g.GeoidSep, ok = parseFloat(f[9]); !ok {
		return ReasonValue, errGeoidSep
	}
	g.NavStatus = 0
	if n > 12 {
		if g.NavStatus, ok = faaMode(f[12]); !ok {
			return ReasonValue, errStatus
		}
	}
	return "", nil
}

func parseGLL(rest []byte, g *GLL) (string, error) {
	var f [maxFields][]byte
	n := splitFields(rest, &f)
	if n < minFieldsGLL {
		return ReasonFields, errFieldsGLL
	}
	var ok bool
	g.Time, g.Valid, g.FAAMode = NoTime, false, 0
	if n > 4 {
		if g.Time, ok = parseTimeOfDay(f[4]); !ok {
			return ReasonValue, errTime
		}
	}
	if n > 5 {
		// Only A is valid. Some receivers put other letters here (the
		// Magellan eXplorist sends N): not a fix, but not line noise either.
		st, ok := faaMode(f[5])
		if !ok {
			return ReasonValue, errStatus
		}
		g.Valid = st == 'A'
	}
	if n > 6 {
		if g.FAAMode, ok = faaMode(f[6]); !ok {
			return ReasonValue, errMode
		}
	}
	var err error
	if g.Lat, g.Lon, err = parsePosition(f[0:4], g.Valid); err != nil {
		return ReasonValue, err
	}
	return "", nil
}

func parseVTG(rest []byte, v *VTG) (string, error) {
	var f [maxFields][]byte
	n := splitFields(rest, &f)
	if n < minFieldsVTG {
		return ReasonFields, errFieldsVTG
	}
	var ok bool
	v.FAAMode = 0
	if n >= 8 && (string(f[1]) == "T" || string(f[3]) == "M" || string(f[5]) == "N" || string(f[7]) == "K") {
		// NMEA 2.0+: value, unit letter pairs, then the mode indicator.
		if v.TrackTrue, ok = parseFloat(f[0]); !ok {
			return ReasonValue, errTrack
		}
		if v.TrackMag, ok = parseFloat(f[2]); !ok {
			return ReasonValue, errTrack
		}
		if v.SpeedKnots, ok = parseFloat(f[4]); !ok {
			return ReasonValue, errSpeed
		}
		if v.SpeedKmh, ok = parseFloat(f[6]); !ok {
			return ReasonValue, errSpeed
		}
		if n > 8 {
			if v.FAAMode, ok = faaMode(f[8]); !ok {
				return ReasonValue, errMode
			}
		}
		return "", nil
	}
	// Before NMEA 2.0 the four values came without unit letters.
	if v.TrackTrue, ok = parseFloat(f[0]); !ok {
		return ReasonValue, errTrack
	}
	if v.TrackMag, ok = parseFloat(f[1]); !ok {
		return ReasonValue, errTrack
	}
	if v.SpeedKnots, ok = parseFloat(f[2]); !ok {
		return ReasonValue, errSpeed
	}
	if v.SpeedKmh, ok = parseFloat(f[3]); !ok {
		return ReasonValue, errSpeed
	}
	return "", nil
}

func parseGSA(rest []byte, g *GSA) (string, error) {
	var f [maxFields][]byte
	n := splitFields(rest, &f)
	if n < minFieldsGSA {
		return ReasonFields, errFieldsGSA
	}
	switch string(f[0]) {
	case "A":
		g.Auto = true
	case "M", "":
		g.Auto = false
	default:
		return ReasonValue, errMode
	}
	var ok bool
	if g.FixType, ok = parseUint(f[1]); !ok || g.FixType == 0 || g.FixType > 3 {
		return ReasonValue, errFixType
	}
	// Twelve satellite fields, then PDOP, HDOP and VDOP; NMEA 4.1+ adds the
	// system id, and some receivers another decimal (a TDOP) instead. A
	// receiver listing more than twelve satellites puts the DOPs last.
	end := 17
	g.SystemID = 0
	switch {
	case n > 18:
		end = n
		if !hasDot(f[n-1]) {
			end = n - 1
		}
	case n == 18 && !hasDot(f[17]):
		if g.SystemID, ok = parseHexDigit(f[17]); !ok {
			return ReasonValue, errSystem
		}
	}
	if n > 18 && end == n-1 {
		if g.SystemID, ok = parseHexDigit(f[n-1]); !ok {
			return ReasonValue, errSystem
		}
	}
	if g.PDOP, ok = parseFloat(f[end-3]); !ok {
		return ReasonValue, errDOP
	}
	if g.HDOP, ok = parseFloat(f[end-2]); !ok {
		return ReasonValue, errDOP
	}
	if g.VDOP, ok = parseFloat(f[end-1]); !ok {
		return ReasonValue, errDOP
	}
	g.NPRNs = 0
	for _, b := range f[2 : end-3] {
		prn, ok := parseUint(b)
		if !ok {
			return ReasonValue, errPRN
		}
		if prn > 0 && g.NPRNs < maxGSAPRNs {
			g.PRNs[g.NPRNs] = prn
			g.NPRNs++
		}
	}
	return "", nil
}

func hasDot(b []byte) bool {
	for _, c := range b {
		if c == '.' {
			return true
		}
	}
	return false
}

// parseHexDigit parses a one-digit hex field; empty is 0.
func parseHexDigit(b []byte) (int, bool) {
	switch len(b) {
	case 0:
		return 0, true
	case 1:
		v, ok := hexDigit(b[0])
		return int(v), ok
	}
	return 0, false
}

func parseGSV(rest []byte, g *GSV) (string, error) {
	var f [maxFields][]byte
	n := splitFields(rest, &f)
	if n < minFieldsGSV {
		return ReasonFields, errFieldsGSV
	}
	var ok bool
	g.Total, ok = parseUint(f[0])
	if !ok || g.Total < 1 || g.Total > 9 {
		return ReasonValue, errParts
	}
	g.Num, ok = parseUint(f[1])
	if !ok || g.Num < 1 || g.Num > g.Total {
		return ReasonValue, errParts
	}
	if g.InView, ok = parseUint(f[2]); !ok {
		return ReasonValue, errSats
	}
	// Up to four blocks of four fields follow; NMEA 4.1+ adds the signal id
	// after them, which makes the count of the remaining fields odd.
	blocks := f[3:n]
	g.SignalID = 0
	if len(blocks)%4 == 1 {
		if g.SignalID, ok = parseHexDigit(blocks[len(blocks)-1]); !ok {
			return ReasonValue, errSignal
		}
		blocks = blocks[:len(blocks)-1]
	}
	// Some receivers cut the last block short; a block needs its PRN.
	g.NSats = 0
	for i := 0; i < len(blocks) && g.NSats < len(g.Sats); i += 4 {
		var v [4]int
		for j := range v {
			v[j] = -1
			if i+j < len(blocks) {
				if v[j], ok = parseUint(blocks[i+j]); !ok {
					return ReasonValue, errSat
				}
			}
		}
		if v[0] <= 0 {
			continue // an empty block, as sent with 0 in view
		}
		if v[1] > 90 || v[2] > 359 || v[3] > 99 {
			return ReasonValue, errSat
		}
		g.Sats[g.NSats] = GSVSat{PRN: v[0], Elevation: v[1], Azimuth: v[2], SNR: v[3]}
		g.NSats++
	}
	if len(blocks) > 4*len(g.Sats)+3 {
		return ReasonValue, errSat
	}
	return "", nil
}

// gpsEpochYear is the year GPS time starts (1980-01-06).
const gpsEpochYear = 1980

func parseZDA(rest []byte, z *ZDA) (string, error) {
	var f [maxFields][]byte
	n := splitFields(rest, &f)
	if n < minFieldsZDA {
		return ReasonFields, errFieldsZDA
	}
	var ok bool
	if z.Time, ok = parseTimeOfDay(f[0]); !ok {
		return ReasonValue, errTime
	}
	day, ok1 := parseUint(f[1])
	month, ok2 := parseUint(f[2])
	year, ok3 := parseUint(f[3])
	switch {
	case !ok1 || !ok2 || !ok3:
		return ReasonValue, errDate
	case day <= 0 || month <= 0 || year <= 0:
		// Empty or zero before the receiver knows the date.
		z.Date = Date{}
	case day > 31 || month > 12 || len(f[3]) != 4 || year < gpsEpochYear:
		// No GNSS date precedes GPS time's epoch (1980).
		return ReasonValue, errDate
	default:
		z.Date = Date{Year: year, Month: time.Month(month), Day: day}
	}
	z.ZoneHours, z.ZoneMinutes = 0, 0
	if n > 4 && len(f[4]) > 0 {
		b, neg := f[4], false
		if b[0] == '-' || b[0] == '+' {
			b, neg = b[1:], b[0] == '-'
		}
		h, ok := parseUint(b)
		if !ok || h < 0 || h > 13 {
			return ReasonValue, errZone
		}
		z.ZoneHours = h
		if neg {
			z.ZoneHours = -h
		}
	}
	if n > 5 && len(f[5]) > 0 {
		m, ok := parseUint(f[5])
		if !ok || m > 59 {
			return ReasonValue, errZone
		}
		z.ZoneMinutes = m
	}
	return "", nil
}

func parseTXT(rest []byte, t *TXT) (string, error) {
	var f [maxFields][]byte
	n := splitFields(rest, &f)
	if n < minFieldsTXT {
		return ReasonFields, errFieldsTXT
	}
	var ok bool
	if t.Total, ok = parseUint(f[0]); !ok {
		return ReasonValue, errParts
	}
	if t.Num, ok = parseUint(f[1]); !ok {
		return ReasonValue, errParts
	}
	if t.ID, ok = parseUint(f[2]); !ok {
		return ReasonValue, errParts
	}
	// The text may itself hold commas: it is the rest of the sentence.
	text := rest
	for range 3 {
		text = text[indexComma(text)+1:]
	}
	for _, c := range text {
		if c < 0x20 || c > 0x7e {
			return ReasonValue, errText
		}
	}
	t.Text = text
	return "", nil
}

func indexComma(b []byte) int {
	for i, c := range b {
		if c == ',' {
			return i
		}
	}
	return len(b) - 1
}
