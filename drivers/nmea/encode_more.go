package nmea

import (
	"math"
	"strconv"
	"time"
)

// Format is how many decimals a receiver writes, which differs between
// makes: u-blox writes "083723.00" and five decimals of a minute, SiRF and
// MediaTek "020935.000" and four. A zero field means the default, that of
// AppendRMC and AppendGGA.
type Format struct {
	TimeDecimals   int // of the seconds, 1 to 3; default 3
	MinuteDecimals int // of the minutes of latitude and longitude, 1 to 6; default 5
	DOPDecimals    int // of HDOP, PDOP, VDOP; default 2
	SpeedDecimals  int // of the speed in knots and km/h; default 3
	TrackDecimals  int // of the track; default 2
	AltDecimals    int // of the altitude and geoid separation; default 2
}

func (ft Format) time() int   { return def(ft.TimeDecimals, 3, 3) }
func (ft Format) minute() int { return def(ft.MinuteDecimals, 5, 6) }
func (ft Format) dop() int    { return def(ft.DOPDecimals, 2, 6) }
func (ft Format) speed() int  { return def(ft.SpeedDecimals, 3, 6) }
func (ft Format) track() int  { return def(ft.TrackDecimals, 2, 6) }
func (ft Format) alt() int    { return def(ft.AltDecimals, 2, 6) }

func def(v, d, most int) int {
	switch {
	case v <= 0:
		return d
	case v > most:
		return most
	}
	return v
}

// AppendRMCFormat is AppendRMC with ft's decimals; with the zero Format it
// writes the same bytes.
func AppendRMCFormat(dst []byte, talker string, f Fix, ft Format) []byte {
	start := len(dst)
	dst = appendAddress(dst, talker, TypeRMC)
	dst = append(dst, ',')
	dst = appendTimeF(dst, f.Time, ft)
	fix := f.HasPosition()
	if fix {
		dst = append(dst, ",A,"...)
	} else {
		dst = append(dst, ",V,"...)
	}
	dst = appendPositionF(dst, f, fix, ft)
	dst = append(dst, ',')
	if fix && !math.IsNaN(f.Speed) {
		dst = strconv.AppendFloat(dst, f.Speed/knot, 'f', ft.speed(), 64)
	}
	dst = append(dst, ',')
	if fix && !math.IsNaN(f.Track) {
		dst = strconv.AppendFloat(dst, f.Track, 'f', ft.track(), 64)
	}
	dst = append(dst, ',')
	dst = appendDate(dst, f.Time)
	if fix {
		dst = append(dst, ",,,A"...)
	} else {
		dst = append(dst, ",,,N"...)
	}
	return finish(dst, start)
}

// AppendGGAFormat is AppendGGA with ft's decimals; with the zero Format it
// writes the same bytes.
func AppendGGAFormat(dst []byte, talker string, f Fix, ft Format) []byte {
	start := len(dst)
	dst = appendAddress(dst, talker, TypeGGA)
	dst = append(dst, ',')
	dst = appendTimeF(dst, f.Time, ft)
	dst = append(dst, ',')
	fix := f.HasPosition()
	dst = appendPositionF(dst, f, fix, ft)
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
		dst = strconv.AppendFloat(dst, f.HDOP, 'f', ft.dop(), 64)
	}
	dst = append(dst, ',')
	alt := fix && f.Mode == Mode3D && !math.IsNaN(f.AltMSL)
	if alt {
		dst = strconv.AppendFloat(dst, f.AltMSL, 'f', ft.alt(), 64)
	}
	dst = append(dst, ",M,"...)
	if alt && !math.IsNaN(f.AltHAE) {
		dst = strconv.AppendFloat(dst, f.AltHAE-f.AltMSL, 'f', ft.alt(), 64)
	}
	dst = append(dst, ",M,,"...)
	return finish(dst, start)
}

// AppendGNS appends a GNS sentence for f. modes holds one FAA mode letter
// per system (GPS, GLONASS, ...); when f has no position every letter is
// written as N.
func AppendGNS(dst []byte, talker string, f Fix, modes string, ft Format) []byte {
	start := len(dst)
	dst = appendAddress(dst, talker, TypeGNS)
	dst = append(dst, ',')
	dst = appendTimeF(dst, f.Time, ft)
	dst = append(dst, ',')
	fix := f.HasPosition()
	dst = appendPositionF(dst, f, fix, ft)
	dst = append(dst, ',')
	for i := 0; i < len(modes); i++ {
		if fix {
			dst = append(dst, modes[i])
		} else {
			dst = append(dst, 'N')
		}
	}
	dst = append(dst, ',')
	if f.Sats >= 0 {
		dst = appendPad2(dst, f.Sats)
	}
	dst = append(dst, ',')
	if !math.IsNaN(f.HDOP) {
		dst = strconv.AppendFloat(dst, f.HDOP, 'f', ft.dop(), 64)
	}
	dst = append(dst, ',')
	alt := fix && f.Mode == Mode3D && !math.IsNaN(f.AltMSL)
	if alt {
		dst = strconv.AppendFloat(dst, f.AltMSL, 'f', ft.alt(), 64)
	}
	dst = append(dst, ',')
	if alt && !math.IsNaN(f.AltHAE) {
		dst = strconv.AppendFloat(dst, f.AltHAE-f.AltMSL, 'f', ft.alt(), 64)
	}
	// No differential age or station; NMEA 4.1 navigational status.
	if fix {
		dst = append(dst, ",,,S"...)
	} else {
		dst = append(dst, ",,,V"...)
	}
	return finish(dst, start)
}

// AppendGLL appends a GLL sentence (NMEA 2.3, with time, status and mode)
// for f.
func AppendGLL(dst []byte, talker string, f Fix, ft Format) []byte {
	start := len(dst)
	dst = appendAddress(dst, talker, TypeGLL)
	dst = append(dst, ',')
	fix := f.HasPosition()
	dst = appendPositionF(dst, f, fix, ft)
	dst = append(dst, ',')
	dst = appendTimeF(dst, f.Time, ft)
	if fix {
		dst = append(dst, ",A,A"...)
	} else {
		dst = append(dst, ",V,N"...)
	}
	return finish(dst, start)
}

// AppendVTG appends a VTG sentence (NMEA 2.3) for f's speed and track.
// Without a position both are left empty, as receivers do.
func AppendVTG(dst []byte, talker string, f Fix, ft Format) []byte {
	start := len(dst)
	dst = appendAddress(dst, talker, TypeVTG)
	dst = append(dst, ',')
	fix := f.HasPosition()
	if fix && !math.IsNaN(f.Track) {
		dst = strconv.AppendFloat(dst, f.Track, 'f', ft.track(), 64)
	}
	dst = append(dst, ",T,,M,"...)
	if fix && !math.IsNaN(f.Speed) {
		dst = strconv.AppendFloat(dst, f.Speed/knot, 'f', ft.speed(), 64)
	}
	dst = append(dst, ",N,"...)
	if fix && !math.IsNaN(f.Speed) {
		dst = strconv.AppendFloat(dst, f.Speed*3.6, 'f', ft.speed(), 64)
	}
	if fix {
		dst = append(dst, ",K,A"...)
	} else {
		dst = append(dst, ",K,N"...)
	}
	return finish(dst, start)
}

// AppendZDA appends a ZDA sentence for t, with the local zone left at 0.
// The zero time gives empty time and date fields.
func AppendZDA(dst []byte, talker string, t time.Time, ft Format) []byte {
	start := len(dst)
	dst = appendAddress(dst, talker, TypeZDA)
	dst = append(dst, ',')
	dst = appendTimeF(dst, t, ft)
	if t.IsZero() {
		dst = append(dst, ",,,,,"...)
		return finish(dst, start)
	}
	t = t.UTC()
	dst = append(dst, ',')
	dst = appendPad2(dst, t.Day())
	dst = append(dst, ',')
	dst = appendPad2(dst, int(t.Month()))
	dst = append(dst, ',')
	dst = appendInt(dst, t.Year())
	dst = append(dst, ",00,00"...)
	return finish(dst, start)
}

// AppendGSA appends a GSA sentence for g: the first twelve of its PRNs
// (empty fields for the rest), the DOPs (empty when NaN) and, when
// g.SystemID is not 0, the NMEA 4.1 system id.
func AppendGSA(dst []byte, talker string, g GSA, ft Format) []byte {
	start := len(dst)
	dst = appendAddress(dst, talker, TypeGSA)
	if g.Auto {
		dst = append(dst, ",A,"...)
	} else {
		dst = append(dst, ",M,"...)
	}
	if g.FixType < 1 || g.FixType > 3 {
		g.FixType = 1
	}
	dst = appendInt(dst, g.FixType)
	for i := 0; i < 12; i++ {
		dst = append(dst, ',')
		if i < g.NPRNs && i < len(g.PRNs) && g.PRNs[i] > 0 {
			dst = appendPad2(dst, g.PRNs[i])
		}
	}
	for _, v := range [3]float64{g.PDOP, g.HDOP, g.VDOP} {
		dst = append(dst, ',')
		if !math.IsNaN(v) {
			dst = strconv.AppendFloat(dst, v, 'f', ft.dop(), 64)
		}
	}
	if g.SystemID > 0 && g.SystemID < 16 {
		const hex = "0123456789ABCDEF"
		dst = append(dst, ',', hex[g.SystemID])
	}
	return finish(dst, start)
}

// AppendGSV appends part g.Num of g.Total of a satellites-in-view report
// with the first g.NSats entries of g.Sats; an SNR below 0 (not tracked)
// is left empty, as is an elevation or azimuth below 0.
func AppendGSV(dst []byte, talker string, g GSV) []byte {
	start := len(dst)
	dst = appendAddress(dst, talker, TypeGSV)
	dst = append(dst, ',')
	dst = appendInt(dst, g.Total)
	dst = append(dst, ',')
	dst = appendInt(dst, g.Num)
	dst = append(dst, ',')
	if g.InView >= 0 {
		dst = appendPad2(dst, g.InView)
	}
	for i := 0; i < g.NSats && i < len(g.Sats); i++ {
		s := g.Sats[i]
		for j, v := range [4]int{s.PRN, s.Elevation, s.Azimuth, s.SNR} {
			dst = append(dst, ',')
			if j == 2 && v >= 0 && v < 100 {
				dst = append(dst, '0') // azimuth: three digits
			}
			if v >= 0 {
				dst = appendPad2(dst, v)
			}
		}
	}
	if g.SignalID > 0 && g.SignalID < 16 {
		const hex = "0123456789ABCDEF"
		dst = append(dst, ',', hex[g.SignalID])
	}
	return finish(dst, start)
}

// AppendTXT appends a TXT sentence: part t.Num of t.Total, message t.ID,
// text t.Text. Characters outside printable ASCII, and '$', '*' and ',',
// are replaced by a space so the sentence stays well-formed.
func AppendTXT(dst []byte, talker string, t TXT) []byte {
	start := len(dst)
	dst = appendAddress(dst, talker, TypeTXT)
	for _, v := range [3]int{t.Total, t.Num, t.ID} {
		dst = append(dst, ',')
		dst = appendPad2(dst, max(v, 0))
	}
	dst = append(dst, ',')
	for _, c := range t.Text {
		if c < 0x20 || c > 0x7e || c == '$' || c == '*' || c == ',' {
			c = ' '
		}
		dst = append(dst, c)
	}
	return finish(dst, start)
}

// appendTimeF appends hhmmss.s to hhmmss.sss, or nothing for the zero
// time. The fraction is truncated, not rounded, as receivers report the
// epoch they measured.
func appendTimeF(dst []byte, t time.Time, ft Format) []byte {
	if t.IsZero() {
		return dst
	}
	t = t.UTC()
	dst = appendPad2(dst, t.Hour())
	dst = appendPad2(dst, t.Minute())
	dst = appendPad2(dst, t.Second())
	dst = append(dst, '.')
	ms := t.Nanosecond() / int(time.Millisecond)
	digits := [3]byte{byte('0' + ms/100), byte('0' + ms/10%10), byte('0' + ms%10)}
	return append(dst, digits[:ft.time()]...)
}

// appendDate appends ddmmyy, or nothing for the zero time.
func appendDate(dst []byte, t time.Time) []byte {
	if t.IsZero() {
		return dst
	}
	t = t.UTC()
	dst = appendPad2(dst, t.Day())
	dst = appendPad2(dst, int(t.Month()))
	return appendPad2(dst, t.Year()%100)
}

func appendPositionF(dst []byte, f Fix, fix bool, ft Format) []byte {
	if !fix {
		return append(dst, ",,,"...)
	}
	dst = appendAngleF(dst, f.Lat, 2, 'N', 'S', ft.minute())
	dst = append(dst, ',')
	return appendAngleF(dst, f.Lon, 3, 'E', 'W', ft.minute())
}

// appendAngleF writes degrees as d..dmm.m... with decimals of a minute and
// the hemisphere letter. Rounding happens once, on the whole value in units
// of the last decimal, so 59.999999' carries into the degrees instead of
// printing as 60.00000'.
func appendAngleF(dst []byte, v float64, degDigits int, pos, neg byte, decimals int) []byte {
	hemi := pos
	if v < 0 {
		hemi, v = neg, -v
	}
	unitsPerMinute := pow10[decimals]
	units := int64(math.Round(v * 60 * float64(unitsPerMinute)))
	deg := units / (60 * unitsPerMinute)
	rem := units % (60 * unitsPerMinute)
	if degDigits == 3 && deg < 100 {
		dst = append(dst, '0')
	}
	dst = appendPad2(dst, int(deg))
	dst = appendPad2(dst, int(rem/unitsPerMinute))
	dst = append(dst, '.')
	frac := rem % unitsPerMinute
	for p := unitsPerMinute / 10; p >= 1; p /= 10 {
		dst = append(dst, byte('0'+frac/p%10))
	}
	return append(dst, ',', hemi)
}
