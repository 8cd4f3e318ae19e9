package faults

// Garble appends to dst what a UART receiving at rxBaud reads from src
// sent at txBaud, 8N1 both ends, with the frames of src back to back and
// the line idle (mark) before and after.
//
// The model: the sender's line is a sequence of 10-bit frames (start bit
// 0, eight data bits LSB first, stop bit 1). The receiver waits for a
// falling edge (mark to space), samples the start bit half a bit later,
// then each data bit and the stop bit at the middle of its own bit times.
// Every frame it assembles is delivered, whatever its stop bit, as Linux
// does in raw mode (no INPCK, so a framing error passes the byte through).
// After the stop bit it waits for the next falling edge; a stop bit read
// as space (framing error) means the line must go back to mark first.
// Times are kept as integers in units of 1/(txBaud·rxBaud) s, so the
// result is exact and deterministic.
//
// At any rate far from txBaud this yields bytes that are not NMEA: when
// the receiver is faster, a few mostly 0xFF/0x00-heavy bytes per byte
// sent; when slower, one byte per several sent.
func Garble(dst, src []byte, txBaud, rxBaud int) []byte {
	if txBaud <= 0 || rxBaud <= 0 || len(src) == 0 {
		return dst
	}
	if txBaud == rxBaud {
		return append(dst, src...)
	}
	txBit := int64(rxBaud) // one sender bit, in units
	rxBit := int64(txBaud) // one receiver bit
	nbits := int64(len(src)) * 10
	// level is the line at sender bit index k: mark (1) outside the data.
	level := func(k int64) byte {
		if k < 0 || k >= nbits {
			return 1
		}
		b, pos := src[k/10], k%10
		switch pos {
		case 0:
			return 0
		case 9:
			return 1
		}
		return b >> (pos - 1) & 1
	}
	at := func(t int64) byte { return level(floorDiv(t, txBit)) }
	t := int64(0) // search for a falling edge from here
	for {
		// The next sender bit boundary at or after t where mark turns to
		// space.
		k := ceilDiv(t, txBit)
		for k < nbits && !(level(k) == 0 && level(k-1) == 1) {
			k++
		}
		if k >= nbits {
			return dst
		}
		edge := k * txBit
		var c byte
		for i := int64(0); i < 8; i++ {
			c |= at(edge+(i+1)*rxBit+rxBit/2) << i
		}
		dst = append(dst, c)
		t = edge + 9*rxBit + rxBit/2 // the stop bit's sample
	}
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

func ceilDiv(a, b int64) int64 { return -floorDiv(-a, b) }
