// Package tpv writes fixes as gpsd-style TPV JSON lines, the format
// technicians already know from gpspipe and that gpsd's regression logs
// carry, so a captured log can be checked against gpsd's own output.
package tpv

import (
	"math"
	"strconv"

	"github.com/headway-transit/headway/drivers/nmea"
)

// Append appends f as one TPV JSON line (with a trailing newline). Fields
// are omitted when unknown; a fix with no position carries none.
//
// As gpsd does, "status" appears when the fix is more (DGPS, RTK) or less
// (dead reckoning, manual, simulated) than a plain GPS fix, and a
// simulated fix carries no "time": a receiver's demo mode runs on a made-up
// clock, and a TPV without time is not taken for a real fix by tools that
// key fixes by time.
func Append(dst []byte, f nmea.Fix) []byte {
	mode := int(f.Mode)
	if mode < 1 {
		mode = 1
	}
	dst = append(dst, `{"class":"TPV"`...)
	if mode >= 2 && f.Status > nmea.StatusGPS {
		dst = append(dst, `,"status":`...)
		dst = strconv.AppendInt(dst, int64(f.Status), 10)
	}
	dst = append(dst, `,"mode":`...)
	dst = strconv.AppendInt(dst, int64(mode), 10)
	if !f.Time.IsZero() && f.Status != nmea.StatusSimulated {
		dst = append(dst, `,"time":"`...)
		dst = f.Time.UTC().AppendFormat(dst, Layout)
		dst = append(dst, '"')
	}
	if f.HasPosition() {
		dst = num(dst, "lat", f.Lat, 9)
		dst = num(dst, "lon", f.Lon, 9)
		if f.Mode == nmea.Mode3D {
			dst = num(dst, "altHAE", f.AltHAE, 3)
			dst = num(dst, "altMSL", f.AltMSL, 3)
		}
		dst = num(dst, "speed", f.Speed, 3)
		dst = num(dst, "track", f.Track, 4)
	}
	return append(dst, "}\n"...)
}

func num(dst []byte, name string, v float64, prec int) []byte {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return dst
	}
	dst = append(dst, `,"`...)
	dst = append(dst, name...)
	dst = append(dst, `":`...)
	return strconv.AppendFloat(dst, v, 'f', prec, 64)
}

// Layout is the TPV time format (UTC, milliseconds).
const Layout = "2006-01-02T15:04:05.000Z"
