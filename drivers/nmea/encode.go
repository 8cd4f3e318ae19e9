package nmea

import (
	"math"
	"strconv"
	"time"
)

// The Append functions write sentences the way a receiver does, for the
// firmware simulator. They allocate nothing when dst has room.

// AppendChecksum appends "$" + body + "*HH\r\n" to dst, where HH is the
// checksum of body. body is the sentence between '$' and '*', e.g.
// "GPRMC,...", and must not overlap dst's spare capacity.
func AppendChecksum(dst []byte, body []byte) []byte {
	dst = append(dst, '$')
	dst = append(dst, body...)
	return appendTrailer(dst, checksum(body))
}

// appendTrailer closes a sentence written after dst[start] == '$'.
func appendTrailer(dst []byte, sum byte) []byte {
	const hex = "0123456789ABCDEF"
	return append(dst, '*', hex[sum>>4], hex[sum&0xF], '\r', '\n')
}

// finish appends the checksum of the sentence started at dst[start] ('$').
func finish(dst []byte, start int) []byte {
	return appendTrailer(dst, checksum(dst[start+1:]))
}

func appendAddress(dst []byte, talker, typ string) []byte {
	if talker == "" {
		talker = "GP"
	}
	dst = append(dst, '$')
	dst = append(dst, talker...)
	return append(dst, typ...)
}

// AppendRMC appends an RMC sentence for f, e.g. talker "GP" gives
// "$GPRMC,...". Without a position the status is V and the position empty;
// unknown fields are left empty.
func AppendRMC(dst []byte, talker string, f Fix) []byte {
	start := len(dst)
	dst = appendAddress(dst, talker, TypeRMC)
	dst = append(dst, ',')
	dst = appendTime(dst, f.Time)
	fix := f.HasPosition()
	if fix {
		dst = append(dst, ",A,"...)
	} else {
		dst = append(dst, ",V,"...)
	}
	dst = appendPosition(dst, f, fix)
	dst = append(dst, ',')
	if fix && !math.IsNaN(f.Speed) {
		dst = strconv.AppendFloat(dst, f.Speed/knot, 'f', 3, 64)
	}
	dst = append(dst, ',')
	if fix && !math.IsNaN(f.Track) {
		dst = strconv.AppendFloat(dst, f.Track, 'f', 2, 64)
	}
	dst = append(dst, ',')
	if !f.Time.IsZero() {
		t := f.Time.UTC()
		dst = appendPad2(dst, t.Day())
		dst = appendPad2(dst, int(t.Month()))
		dst = appendPad2(dst, t.Year()%100)
	}
	// Magnetic variation unknown; NMEA 2.3 mode indicator.
	if fix {
		dst = append(dst, ",,,A"...)
	} else {
		dst = append(dst, ",,,N"...)
	}
	return finish(dst, start)
}

// AppendGGA appends a GGA sentence for f. The quality is 1 (GPS fix) when
// f has a position, else 0; the altitude is written for Mode3D only, so a
// decoder reads the same mode back.
func AppendGGA(dst []byte, talker string, f Fix) []byte {
	start := len(dst)
	dst = appendAddress(dst, talker, TypeGGA)
	dst = append(dst, ',')
	dst = appendTime(dst, f.Time)
	dst = append(dst, ',')
	fix := f.HasPosition()
	dst = appendPosition(dst, f, fix)
	if fix {
		dst = append(dst, ",1,"...)
	} else {
		dst = append(dst, ",0,"...)
	}
	if f.Sats >= 0 {
		dst = appendPad2(dst, f.Sats)
	}
	dst = append(dst, ',')
	if !math.IsNaN(f.HDOP) {
		dst = strconv.AppendFloat(dst, f.HDOP, 'f', 2, 64)
	}
	dst = append(dst, ',')
	alt := fix && f.Mode == Mode3D && !math.IsNaN(f.AltMSL)
	if alt {
		dst = strconv.AppendFloat(dst, f.AltMSL, 'f', 2, 64)
	}
	dst = append(dst, ",M,"...)
	if alt && !math.IsNaN(f.AltHAE) {
		dst = strconv.AppendFloat(dst, f.AltHAE-f.AltMSL, 'f', 2, 64)
	}
	// Geoid separation unit, then no differential age or station.
	dst = append(dst, ",M,,"...)
	return finish(dst, start)
}

// appendTime appends hhmmss.sss, or nothing for the zero time.
func appendTime(dst []byte, t time.Time) []byte {
	if t.IsZero() {
		return dst
	}
	t = t.UTC()
	dst = appendPad2(dst, t.Hour())
	dst = appendPad2(dst, t.Minute())
	dst = appendPad2(dst, t.Second())
	dst = append(dst, '.')
	ms := t.Nanosecond() / int(time.Millisecond)
	return append(dst, byte('0'+ms/100), byte('0'+ms/10%10), byte('0'+ms%10))
}

// appendPosition appends "lat,N,lon,E", or ",,," without a position.
func appendPosition(dst []byte, f Fix, fix bool) []byte {
	if !fix {
		return append(dst, ",,,"...)
	}
	dst = appendAngle(dst, f.Lat, 2, 'N', 'S')
	dst = append(dst, ',')
	return appendAngle(dst, f.Lon, 3, 'E', 'W')
}

// appendAngle writes degrees as d..dmm.mmmmm (five decimals of a minute,
// about 2 cm) and the hemisphere letter. Rounding happens once, on the
// whole value in units of 1e-5 minute, so 59.999999' carries into the
// degrees instead of printing as 60.00000'.
func appendAngle(dst []byte, v float64, degDigits int, pos, neg byte) []byte {
	hemi := pos
	if v < 0 {
		hemi, v = neg, -v
	}
	const unitsPerMinute = 100000
	units := int64(math.Round(v * 60 * unitsPerMinute))
	deg := units / (60 * unitsPerMinute)
	rem := units % (60 * unitsPerMinute)
	if degDigits == 3 && deg < 100 {
		dst = append(dst, '0')
	}
	dst = appendPad2(dst, int(deg))
	dst = appendPad2(dst, int(rem/unitsPerMinute))
	dst = append(dst, '.')
	frac := rem % unitsPerMinute
	for p := int64(unitsPerMinute / 10); p >= 1; p /= 10 {
		dst = append(dst, byte('0'+frac/p%10))
	}
	return append(dst, ',', hemi)
}

// appendPad2 appends n with at least two digits.
func appendPad2(dst []byte, n int) []byte {
	if n >= 0 && n < 10 {
		dst = append(dst, '0')
	}
	return appendInt(dst, n)
}

func appendInt(dst []byte, n int) []byte { return strconv.AppendInt(dst, int64(n), 10) }
