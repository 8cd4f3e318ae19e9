// Package gps reads a GPS receiver on a serial port and delivers its fixes.
//
// A [Receiver] owns the port for as long as its Run runs: it opens the
// device for exclusive use, decodes NMEA 0183 with [nmea.Decoder], and when
// the receiver is unplugged or the port fails it closes the port and
// reopens it with backoff capped at 2 s, so a USB receiver that drops off
// the bus is read again within about 2 s of coming back.
//
// The rate is fixed, or [Auto]: the Receiver then hunts through [Rates],
// starting with the rate that worked last, until checksummed sentences
// arrive. At a wrong rate a UART delivers framing noise, which the decoder
// rejects (garbage and checksum rejects), so a rate that yields two good
// sentences in 1.5 s is the right one.
//
// [Receiver.Stats] exposes what a technician needs to judge a receiver:
// bytes, sentences by type, rejects by reason, reconnects, the detected
// rate, the age of the last fix, the sky and the receiver's TXT messages.
// [Open] is the thin wrapper over go.bug.st/serial that configures a port.
package gps
