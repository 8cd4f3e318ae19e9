package nmea

import "strconv"

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
// unknown fields are left empty. It is AppendRMCFormat with the default
// precision (milliseconds, 1e-5 of a minute: about 2 cm).
func AppendRMC(dst []byte, talker string, f Fix) []byte {
	return AppendRMCFormat(dst, talker, f, Format{})
}

// AppendGGA appends a GGA sentence for f with the default precision
// (AppendGGAFormat with the zero Format).
func AppendGGA(dst []byte, talker string, f Fix) []byte {
	return AppendGGAFormat(dst, talker, f, Format{})
}

// appendPad2 appends n with at least two digits.
func appendPad2(dst []byte, n int) []byte {
	if n >= 0 && n < 10 {
		dst = append(dst, '0')
	}
	return appendInt(dst, n)
}

func appendInt(dst []byte, n int) []byte { return strconv.AppendInt(dst, int64(n), 10) }
