package nmea

import (
	"math"
	"time"
)

// Field parsers work on the raw bytes of one field so that decoding a
// sentence allocates nothing. Each returns ok=false for a malformed field;
// an empty field is not malformed but unknown (NaN, -1 or the zero value).

// pow10 holds the powers of ten that are exact in both int64 and float64.
var pow10 = [...]int64{1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15}

// maxDigits bounds the significant digits kept so mant stays exact in a
// float64; NMEA fields never need more, and extra fraction digits are dropped.
const maxDigits = 15

// parseDecimal parses [+-]digits[.digits] as mant / 10^scale. It accepts no
// exponents, signs inside, "NaN" or "Inf": NMEA numbers are plain decimals,
// and anything else is line noise.
func parseDecimal(b []byte) (mant int64, scale int, neg, ok bool) {
	if len(b) > 0 && (b[0] == '-' || b[0] == '+') {
		neg = b[0] == '-'
		b = b[1:]
	}
	digits, sawDot, sawDigit := 0, false, false
	for _, c := range b {
		switch {
		case c >= '0' && c <= '9':
			sawDigit = true
			if digits == maxDigits {
				if !sawDot {
					return 0, 0, false, false // integer part too large
				}
				continue // drop fraction digits beyond float64 precision
			}
			if mant != 0 || c != '0' {
				digits++
			}
			if sawDot && scale == len(pow10)-1 {
				continue
			}
			mant = mant*10 + int64(c-'0')
			if sawDot {
				scale++
			}
		case c == '.' && !sawDot:
			sawDot = true
		default:
			return 0, 0, false, false
		}
	}
	return mant, scale, neg, sawDigit
}

// parseFloat parses a decimal field; empty is NaN.
func parseFloat(b []byte) (float64, bool) {
	if len(b) == 0 {
		return math.NaN(), true
	}
	mant, scale, neg, ok := parseDecimal(b)
	if !ok {
		return 0, false
	}
	// Both operands are exact, so the quotient is correctly rounded.
	v := float64(mant) / float64(pow10[scale])
	if neg {
		v = -v
	}
	return v, true
}

// parseUint parses an unsigned integer field of at most 9 digits; empty is -1.
func parseUint(b []byte) (int, bool) {
	if len(b) == 0 {
		return -1, true
	}
	if len(b) > 9 {
		return 0, false
	}
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

func digits2(b []byte) (int, bool) {
	if len(b) < 2 || b[0] < '0' || b[0] > '9' || b[1] < '0' || b[1] > '9' {
		return 0, false
	}
	return int(b[0]-'0')*10 + int(b[1]-'0'), true
}

// NoTime marks an empty time field in [RMC] and [GGA].
const NoTime time.Duration = -1

// parseTimeOfDay parses hhmmss[.sss...] into the offset from midnight,
// truncated to the millisecond. Empty is NoTime.
func parseTimeOfDay(b []byte) (time.Duration, bool) {
	if len(b) == 0 {
		return NoTime, true
	}
	if len(b) < 6 {
		return 0, false
	}
	h, ok1 := digits2(b[0:2])
	m, ok2 := digits2(b[2:4])
	s, ok3 := digits2(b[4:6])
	// Second 60 is a leap second.
	if !ok1 || !ok2 || !ok3 || h > 23 || m > 59 || s > 60 {
		return 0, false
	}
	ms := 0
	if rest := b[6:]; len(rest) > 0 {
		if rest[0] != '.' {
			return 0, false
		}
		for i, c := range rest[1:] {
			if c < '0' || c > '9' {
				return 0, false
			}
			if i < 3 {
				ms += int(c-'0') * int(pow10[2-i])
			}
		}
	}
	d := time.Duration(h)*time.Hour + time.Duration(m)*time.Minute +
		time.Duration(s)*time.Second + time.Duration(ms)*time.Millisecond
	return d, true
}

// Date is a calendar date from an RMC sentence. The zero Date means unknown.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// IsZero reports whether the date is unknown.
func (d Date) IsZero() bool { return d == Date{} }

// parseDate parses ddmmyy. Empty and the all-zero placeholder some
// receivers send before their first fix are the zero Date.
func parseDate(b []byte) (Date, bool) {
	if len(b) == 0 {
		return Date{}, true
	}
	if len(b) != 6 {
		return Date{}, false
	}
	d, ok1 := digits2(b[0:2])
	m, ok2 := digits2(b[2:4])
	y, ok3 := digits2(b[4:6])
	if !ok1 || !ok2 || !ok3 || d > 31 || m > 12 {
		return Date{}, false
	}
	if d == 0 || m == 0 {
		return Date{}, true
	}
	// Two-digit years: GPS began in 1980, so 80-99 are the 1900s.
	if y >= 80 {
		y += 1900
	} else {
		y += 2000
	}
	return Date{Year: y, Month: time.Month(m), Day: d}, true
}

// parseLatLon parses ddmm.mmmm / dddmm.mmmm with its hemisphere letter into
// signed degrees. pos and neg are the hemisphere letters ('N','S' or 'E','W').
// A missing value or hemisphere is NaN: a position without its hemisphere is
// unusable, but the rest of the sentence still is.
func parseLatLon(val, hemi []byte, pos, neg byte, maxDeg int64) (float64, bool) {
	if len(hemi) > 1 {
		return 0, false
	}
	if len(hemi) == 1 && hemi[0] != pos && hemi[0] != neg {
		return 0, false
	}
	if len(val) == 0 {
		return math.NaN(), true
	}
	mant, scale, minus, ok := parseDecimal(val)
	if !ok || minus {
		return 0, false
	}
	// Split into whole degrees and minutes on the integer mantissa, so that
	// no rounding happens before the final division.
	p := pow10[scale]
	whole, frac := mant/p, mant%p
	deg, minInt := whole/100, whole%100
	if minInt >= 60 || deg > maxDeg || (deg == maxDeg && (minInt > 0 || frac > 0)) {
		return 0, false
	}
	if len(hemi) == 0 {
		return math.NaN(), true
	}
	minutes := float64(minInt) + float64(frac)/float64(p)
	v := float64(deg) + minutes/60
	if hemi[0] == neg {
		v = -v
	}
	return v, true
}
