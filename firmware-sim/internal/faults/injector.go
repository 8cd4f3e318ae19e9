// Package faults injects the faults GPS receivers show in the field into
// an emulated receiver's output: tunnels (fix loss), multipath jumps, bad
// checksums, garbage bytes, truncated lines, a wrong baud rate, unplugging
// and a jumping clock. Each is switched on and rated in a Config; every
// decision comes from a seeded generator, one per fault, so the same seed
// gives the same faults, and switching one fault on does not move another.
package faults

import (
	"bytes"
	"encoding/hex"
	"maps"
	"math/rand/v2"
	"sync"
	"time"
)

// Injector decides, epoch by epoch, which faults are on, and corrupts
// sentences. Epoch and AppendSentence must be called from one goroutine;
// Counts from any.
type Injector struct {
	cfg     Config
	nominal int // the line's baud rate

	started bool
	t0      time.Time

	fixLoss, multipath, wrongBaud, unplug, clockJump event
	checksum, garbage, truncated                     *rand.Rand

	jumpBearing, jumpDist float64
	unplugged             bool
	cut                   bool // the last sentence was truncated

	mu     sync.Mutex
	counts map[string]uint64
}

// event is one EventFault's state.
type event struct {
	cfg   EventFault
	rng   *rand.Rand
	fired []bool    // At[i] has started
	until time.Time // active before this time
}

// New returns an Injector for c, drawing from seed, for a receiver whose
// line runs at baud.
func New(c Config, seed uint64, baud int) (*Injector, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	src := func(i uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 0xfa17_0000+i)) }
	ev := func(f EventFault, i uint64) event {
		return event{cfg: f, rng: src(i), fired: make([]bool, len(f.At))}
	}
	return &Injector{
		cfg: c, nominal: baud,
		fixLoss: ev(c.FixLoss, 1), multipath: ev(c.Multipath.EventFault, 2), wrongBaud: ev(c.WrongBaud.EventFault, 3),
		unplug: ev(c.Unplug, 4), clockJump: ev(c.ClockJump.EventFault, 5),
		checksum: src(6), garbage: src(7), truncated: src(8),
		counts: make(map[string]uint64),
	}, nil
}

// Epoch is what the event faults do to one epoch.
type Epoch struct {
	FixLoss bool // report no position
	// JumpBearing (degrees) and JumpDist (metres) displace the position.
	JumpBearing, JumpDist float64
	ClockOffset           time.Duration // add to the reported time
	// WrongBaud is the rate the receiver sends at this epoch, when not 0:
	// pass the epoch's bytes through Garble.
	WrongBaud int
	// Unplugged: the port is gone this epoch. Unplug and Replug mark the
	// epochs where that changes: Unplug the first epoch without the port,
	// Replug the first with it again.
	Unplugged, Unplug, Replug bool
}

// Epoch returns the faults of the epoch at t (the true time), which lasts
// interval. Call it once per epoch, in time order.
func (in *Injector) Epoch(t time.Time, interval time.Duration) Epoch {
	if !in.started {
		in.started, in.t0 = true, t
	}
	var e Epoch
	if in.fixLoss.step(in, t, interval, FixLoss, nil) {
		e.FixLoss = true
	}
	if in.multipath.step(in, t, interval, MultipathJ, func(r *rand.Rand) {
		lo, hi := in.cfg.Multipath.jumps()
		in.jumpBearing = r.Float64() * 360
		in.jumpDist = lo + r.Float64()*(hi-lo)
	}) {
		e.JumpBearing, e.JumpDist = in.jumpBearing, in.jumpDist
	}
	if in.clockJump.step(in, t, interval, ClockJumpN, nil) {
		e.ClockOffset = in.cfg.ClockJump.offset()
	}
	if in.wrongBaud.step(in, t, interval, WrongBaudN, nil) {
		e.WrongBaud = in.cfg.WrongBaud.baud(in.nominal)
	}
	gone := in.unplug.step(in, t, interval, Unplug, nil)
	e.Unplugged = gone
	e.Unplug = gone && !in.unplugged
	e.Replug = !gone && in.unplugged
	in.unplugged = gone
	return e
}

// step reports whether the fault is on at t, starting it when due.
func (ev *event) step(in *Injector, t time.Time, interval time.Duration, name string, start func(*rand.Rand)) bool {
	if !ev.cfg.Enabled {
		return false
	}
	if t.Before(ev.until) {
		return true
	}
	due := false
	since := t.Sub(in.t0)
	for i, at := range ev.cfg.At {
		if !ev.fired[i] && since >= at.D() {
			ev.fired[i], due = true, true
		}
	}
	if p := ev.cfg.PerHour * interval.Hours(); p > 0 && ev.rng.Float64() < p {
		due = true
	}
	if !due {
		return false
	}
	ev.until = t.Add(max(ev.cfg.Duration.D(), time.Nanosecond))
	if start != nil {
		start(ev.rng)
	}
	in.count(name)
	return true
}

// garbageBytes are the noise bytes: anything but '$' (which would start a
// sentence), line endings (which would make lines of their own) and blanks
// (which decoders skip). Each garbage injection is then exactly one
// garbage reject in a decoder that resynchronises on '$'.
func garbageByte(r *rand.Rand) byte {
	for {
		c := byte(r.UintN(256))
		switch c {
		case '$', '\r', '\n', ' ', '\t':
			continue
		}
		return c
	}
}

// AppendSentence appends sentence (one complete "$...*HH\r\n") to dst with
// the line faults that hit it: garbage before it, a wrong checksum, or a
// cut that drops its end and line ending, so that the next sentence runs
// on from it (one "truncated" reject); the sentence after a cut is never
// cut. A cut takes precedence over a wrong checksum. Each fault draws from its own generator for every sentence.
func (in *Injector) AppendSentence(dst, sentence []byte) []byte {
	c := in.cfg
	hitG := c.Garbage.Enabled && in.garbage.Float64() < c.Garbage.Probability
	hitC := c.BadChecksum.Enabled && in.checksum.Float64() < c.BadChecksum.Probability
	hitT := c.Truncated.Enabled && in.truncated.Float64() < c.Truncated.Probability
	star := bytes.LastIndexByte(sentence, '*')
	if star < 2 || sentence[0] != '$' {
		hitC, hitT = false, false
	}
	// After a cut the receiver sends a whole line: two cuts in a row would
	// read as one truncated line.
	hitT, in.cut = hitT && !in.cut, hitT && !in.cut
	if hitG {
		n := 1 + in.garbage.IntN(16)
		for range n {
			dst = append(dst, garbageByte(in.garbage))
		}
		in.count(Garbage)
	}
	switch {
	case hitT:
		// Keep the '$' and at least one character after it.
		cut := 2 + in.truncated.IntN(star-1)
		dst = append(dst, sentence[:cut]...)
		in.count(Truncated)
	case hitC && len(sentence) >= star+3:
		dst = append(dst, sentence...)
		i := len(dst) - len(sentence) + star + 1
		var sum [1]byte
		_, _ = hex.Decode(sum[:], dst[i:i+2]) // our own encoder wrote it
		sum[0] ^= byte(1 + in.checksum.IntN(255))
		const digits = "0123456789ABCDEF" // NMEA writes upper case
		dst[i], dst[i+1] = digits[sum[0]>>4], digits[sum[0]&0xF]
		in.count(BadChecksum)
	default:
		dst = append(dst, sentence...)
	}
	return dst
}

// Rebaud replaces what dst holds from start on by what an agent at the
// nominal rate reads when the receiver sends it at tx; see Garble.
func (in *Injector) Rebaud(dst []byte, start, tx int) []byte {
	garbled := Garble(nil, dst[start:], tx, in.nominal)
	return append(dst[:start], garbled...)
}

func (in *Injector) count(name string) {
	in.mu.Lock()
	in.counts[name]++
	in.mu.Unlock()
}

// Counts returns how many of each fault were injected, by name (FixLoss,
// ...): events started for the event faults, sentences hit for the line
// faults. Faults never injected are absent.
func (in *Injector) Counts() map[string]uint64 {
	in.mu.Lock()
	defer in.mu.Unlock()
	return maps.Clone(in.counts)
}
