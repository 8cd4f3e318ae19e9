// Package gps reads a GPS receiver on a serial port and delivers its fixes.
//
// A [Receiver] owns the port for as long as its Run runs: it opens the
// device, decodes NMEA 0183 with [nmea.Decoder], and when the receiver is
// unplugged or the port fails it closes the port and reopens it with
// backoff, so a USB receiver that drops off the bus comes back on its own.
// [Open] is the thin wrapper over go.bug.st/serial that configures a port.
package gps
