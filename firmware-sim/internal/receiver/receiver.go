// Package receiver turns a bus's true motion into what a GPS receiver says
// about it: NMEA 0183 sentences, one epoch per call, written to any
// io.Writer (a PTY, a serial port, stdout, a buffer in a test).
//
// New makes the plain receiver the fleet has always used: RMC then GGA, a
// clear sky, the true position. NewWith emulates a real make (see package
// profile) at 1, 5 or 10 Hz, with a cold start, a moving constellation
// that sets the satellites used and the DOPs, position noise, and the
// faults of package faults.
//
// The receiver has no clock of its own: whoever drives it decides when an
// epoch happens and at what time, so fleets and tests can run on simulated
// time.
package receiver

import (
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"time"

	"github.com/headway-transit/headway/drivers/nmea"
	"github.com/headway-transit/headway/firmware-sim/internal/faults"
	"github.com/headway-transit/headway/firmware-sim/internal/motion"
	"github.com/headway-transit/headway/firmware-sim/internal/profile"
)

// Receiver is one emulated GPS receiver. Its exported fields set what the
// plain receiver of New reports besides the motion; change them before the
// first Emit. NewWith's receiver takes everything from its Options.
type Receiver struct {
	Talker   string  // "GP" for a GPS-only receiver
	AltMSL   float64 // metres above mean sea level
	GeoidSep float64 // metres, HAE minus MSL
	HDOP     float64
	Sats     int

	w   io.Writer
	buf []byte

	emu *emulation // nil for New's plain receiver
}

// Unplugger is a port that can be pulled out and put back, as
// ptyport.Port can. The unplug fault uses it when the writer has it.
type Unplugger interface {
	Unplug() error
	Replug() error
}

// emulation is the state of a NewWith receiver.
type emulation struct {
	opts     Options
	prof     profile.Profile
	baud     int
	interval time.Duration
	sky      *sky
	noise    *rand.Rand
	inj      *faults.Injector // nil without faults

	epochs           int // emitted so far
	t0               time.Time
	boot             bool    // send the banner before the next epoch
	north, east, up  float64 // noise state, metres
	view             []satView
	pdop, hdop, vdop float64
	scratch          []byte
}

// New returns a receiver writing to w with the values of a typical
// single-frequency receiver on a bus roof.
func New(w io.Writer) *Receiver {
	return &Receiver{Talker: "GP", AltMSL: 20, HDOP: 0.9, Sats: 9, w: w}
}

// NewWith returns a receiver emulating o.Profile, writing to w. If w is an
// Unplugger, the unplug fault pulls it out and puts it back.
func NewWith(w io.Writer, o Options) (*Receiver, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	p, _ := profile.Lookup(o.Profile)
	e := &emulation{
		opts: o, prof: p, baud: o.Baud, interval: o.Interval(),
		sky:   newSky(p.Systems, rand.New(rand.NewPCG(o.Seed, 1))),
		noise: rand.New(rand.NewPCG(o.Seed, 2)),
		boot:  true,
	}
	if e.baud == 0 {
		e.baud = p.Baud
	}
	if o.Faults.Any() {
		inj, err := faults.New(o.Faults, o.Seed, e.baud)
		if err != nil {
			return nil, err
		}
		e.inj = inj
	}
	return &Receiver{Talker: "GP", AltMSL: o.AltMSL, GeoidSep: o.GeoidSep, HDOP: math.NaN(), Sats: -1, w: w, emu: e}, nil
}

// Interval is the time between epochs: Emit should be called this often.
func (r *Receiver) Interval() time.Duration {
	if r.emu == nil {
		return time.Second
	}
	return r.emu.interval
}

// Baud is the nominal line rate: the profile's default unless set.
func (r *Receiver) Baud() int {
	if r.emu == nil {
		return 9600
	}
	return r.emu.baud
}

// Profile is the make emulated.
func (r *Receiver) Profile() profile.Profile {
	if r.emu == nil {
		p, _ := profile.Lookup(profile.Generic)
		return p
	}
	return r.emu.prof
}

// FaultCounts returns the faults injected so far by name (see
// faults.Injector.Counts); it is safe to call from any goroutine.
func (r *Receiver) FaultCounts() map[string]uint64 {
	if r.emu == nil || r.emu.inj == nil {
		return map[string]uint64{}
	}
	return r.emu.inj.Counts()
}

// Fix is what the plain receiver reports for the true state s.
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

// Emit writes one epoch for s in a single Write, so that a reader never
// sees half an epoch from a short write it did not cause. The plain
// receiver writes RMC then GGA.
func (r *Receiver) Emit(s motion.State) error {
	if r.emu != nil {
		return r.emulate(s)
	}
	f := r.Fix(s)
	r.buf = nmea.AppendRMC(r.buf[:0], r.Talker, f)
	r.buf = nmea.AppendGGA(r.buf, r.Talker, f)
	if _, err := r.w.Write(r.buf); err != nil {
		return fmt.Errorf("write fix for %s: %w", f.Time.Format(time.RFC3339), err)
	}
	return nil
}

// emulate is Emit for a NewWith receiver.
func (r *Receiver) emulate(s motion.State) error {
	e := r.emu
	if e.epochs == 0 {
		e.t0 = s.Time
	}
	var fe faults.Epoch
	if e.inj != nil {
		fe = e.inj.Epoch(s.Time, e.interval)
	}
	up, canUnplug := r.w.(Unplugger)
	switch {
	case fe.Unplug && canUnplug:
		if err := up.Unplug(); err != nil {
			return fmt.Errorf("unplug: %w", err)
		}
	case fe.Replug && canUnplug:
		if err := up.Replug(); err != nil {
			return fmt.Errorf("replug: %w", err)
		}
	}
	if fe.Replug {
		e.boot = true // powered up again: banner first
	}
	f := r.measure(s, fe)
	r.buf = r.buf[:0]
	if e.boot {
		e.boot = false
		for _, body := range e.prof.Boot {
			start := len(r.buf)
			r.buf = nmea.AppendChecksum(r.buf, []byte(body))
			r.buf = r.sentence(r.buf, start)
		}
	}
	r.buf = r.appendEpoch(r.buf, f)
	e.epochs++
	if fe.WrongBaud != 0 && e.inj != nil {
		r.buf = e.inj.Rebaud(r.buf, 0, fe.WrongBaud)
	}
	if fe.Unplugged || len(r.buf) == 0 {
		return nil // nothing reaches the line
	}
	if _, err := r.w.Write(r.buf); err != nil {
		return fmt.Errorf("write fix for %s: %w", s.Time.Format(time.RFC3339Nano), err)
	}
	return nil
}

// sentence passes the sentence just appended at dst[start:] through the
// line faults.
func (r *Receiver) sentence(dst []byte, start int) []byte {
	inj := r.emu.inj
	if inj == nil {
		return dst
	}
	// The sentence is copied aside: AppendSentence overwrites it in dst.
	r.emu.scratch = append(r.emu.scratch[:0], dst[start:]...)
	return inj.AppendSentence(dst[:start], r.emu.scratch)
}
