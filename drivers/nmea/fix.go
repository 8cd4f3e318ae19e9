package nmea

import (
	"math"
	"time"
)

// Mode is the kind of fix, numbered as gpsd's TPV "mode".
type Mode int

const (
	ModeUnknown Mode = 0 // nothing said whether there is a fix
	ModeNoFix   Mode = 1 // the receiver said it has no fix
	Mode2D      Mode = 2 // position without altitude
	Mode3D      Mode = 3 // position with altitude
)

func (m Mode) String() string {
	switch m {
	case ModeUnknown:
		return "unknown"
	case ModeNoFix:
		return "nofix"
	case Mode2D:
		return "2d"
	case Mode3D:
		return "3d"
	}
	return "mode(" + itoa(int(m)) + ")"
}

// Fix is one epoch merged from the sentences sharing its UTC time.
// Unknown float fields are math.NaN(); Sats and SatsInView are -1 when
// unknown.
type Fix struct {
	Time     time.Time // UTC, full date+time to the millisecond; zero if the date is not known yet
	Mode     Mode
	Status   Status  // how the fix was obtained; check Status.Measured before trusting the position
	Lat, Lon float64 // degrees, meaningful when Mode >= Mode2D
	AltMSL   float64 // metres above mean sea level
	AltHAE   float64 // metres above the WGS84 ellipsoid (MSL + geoid separation, when GGA or GNS gives the separation)
	Speed    float64 // m/s over ground (RMC, else VTG)
	Track    float64 // degrees true (RMC, else VTG)
	HDOP     float64 // GSA, else GGA or GNS
	PDOP     float64 // GSA
	VDOP     float64 // GSA
	Sats     int     // satellites used (GGA, else GNS, else the PRNs listed in GSA)
	// SatsInView counts the distinct satellites of the latest complete GSV
	// picture, all systems together.
	SatsInView int
}

// unknownFix is a Fix with every field unknown.
func unknownFix() Fix {
	nan := math.NaN()
	return Fix{Lat: nan, Lon: nan, AltMSL: nan, AltHAE: nan, Speed: nan, Track: nan,
		HDOP: nan, PDOP: nan, VDOP: nan, Sats: -1, SatsInView: -1}
}

// HasPosition reports whether f carries a usable position.
func (f Fix) HasPosition() bool {
	return f.Mode >= Mode2D && !math.IsNaN(f.Lat) && !math.IsNaN(f.Lon)
}

func itoa(n int) string {
	var b [20]byte
	return string(appendInt(b[:0], n))
}
