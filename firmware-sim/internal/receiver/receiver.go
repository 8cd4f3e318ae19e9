// Package receiver turns a bus's true motion into what a GPS receiver says
// about it: NMEA 0183 RMC and GGA sentences, one epoch per call, written to any
// io.Writer (a PTY, stdout, a buffer in a test).
//
// The receiver has no clock of its own: whoever drives it decides when an
// epoch happens and at what time, so fleets and tests can run on simulated
// time.
package receiver

import (
	"fmt"
	"io"
	"time"

	"github.com/headway-transit/headway/drivers/nmea"
	"github.com/headway-transit/headway/firmware-sim/internal/motion"
)

// Receiver is one emulated GPS receiver with a clear sky: always a 3D fix.
// Its exported fields set what it reports besides the motion; change them
// before the first Emit.
type Receiver struct {
	Talker   string  // "GP" for a GPS-only receiver
	AltMSL   float64 // metres above mean sea level
	GeoidSep float64 // metres, HAE minus MSL
	HDOP     float64
	Sats     int

	w   io.Writer
	buf []byte
}

// New returns a receiver writing to w with the values of a typical
// single-frequency receiver on a bus roof.
func New(w io.Writer) *Receiver {
	return &Receiver{Talker: "GP", AltMSL: 20, HDOP: 0.9, Sats: 9, w: w}
}

// Fix is what the receiver reports for the true state s.
func (r *Receiver) Fix(s motion.State) nmea.Fix {
	return nmea.Fix{
		Time:   s.Time.UTC(),
		Mode:   nmea.Mode3D,
		Lat:    s.Lat,
		Lon:    s.Lon,
		AltMSL: r.AltMSL,
		AltHAE: r.AltMSL + r.GeoidSep,
		Speed:  s.Speed,
		Track:  s.Track,
		HDOP:   r.HDOP,
		Sats:   r.Sats,
	}
}

// Emit writes one epoch for s, RMC then GGA, in a single Write so that a
// reader never sees half an epoch from a short write it did not cause.
func (r *Receiver) Emit(s motion.State) error {
	f := r.Fix(s)
	r.buf = nmea.AppendRMC(r.buf[:0], r.Talker, f)
	r.buf = nmea.AppendGGA(r.buf, r.Talker, f)
	if _, err := r.w.Write(r.buf); err != nil {
		return fmt.Errorf("write fix for %s: %w", f.Time.Format(time.RFC3339), err)
	}
	return nil
}
