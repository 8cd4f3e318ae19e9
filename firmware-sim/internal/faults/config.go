package faults

import (
	"errors"
	"fmt"
	"time"

	"github.com/headway-transit/headway/internal/yamlconf"
)

// LineFault corrupts single sentences.
type LineFault struct {
	Enabled bool `yaml:"enabled"`
	// Probability that a sentence is hit, 0 to 1 (0.01: one sentence in a
	// hundred).
	Probability float64 `yaml:"probability"`
}

// EventFault happens now and then and lasts a while.
type EventFault struct {
	Enabled bool `yaml:"enabled"`
	// PerHour is the mean number of random starts per hour of simulated
	// time (a Bernoulli draw each epoch); 0 means only the At times.
	PerHour float64 `yaml:"per_hour"`
	// At lists fixed starts, as offsets from the receiver's first epoch
	// ("2m", "10m30s"): a scenario's tunnel that always comes at the same
	// place.
	At []yamlconf.Duration `yaml:"at"`
	// Duration is how long each event lasts; 0 means a single epoch.
	Duration yamlconf.Duration `yaml:"duration"`
}

// Multipath makes the position jump by a random distance in a random
// direction for the event's duration, as reflections off buildings do.
type Multipath struct {
	EventFault `yaml:",inline"`
	MinJump    float64 `yaml:"min_jump_m"` // metres; default 30
	MaxJump    float64 `yaml:"max_jump_m"` // metres; default 200
}

// ClockJump makes the receiver report times off by Offset for the event's
// duration, as receivers with a week-rollover bug or a bad RTC do. Offset
// may be negative; "172032h" is 1024 weeks.
type ClockJump struct {
	EventFault `yaml:",inline"`
	Offset     yamlconf.Duration `yaml:"offset"` // default one hour
}

// WrongBaud makes the receiver send at Baud while the line, and so the
// agent, stays at the receiver's nominal rate: the agent reads what its
// UART makes of the mismatched frames (see Garble).
type WrongBaud struct {
	EventFault `yaml:",inline"`
	Baud       int `yaml:"baud"` // the rate the receiver switches to; default 38400 (4800 when the nominal rate is 38400)
}

// Config switches the faults on and sets their rates. The zero value
// injects nothing.
type Config struct {
	// FixLoss is a tunnel: epochs with time but no position (RMC V, GGA
	// quality 0, no satellites used).
	FixLoss   EventFault `yaml:"fix_loss"`
	Multipath Multipath  `yaml:"multipath"`
	// BadChecksum writes a wrong checksum on the sentence.
	BadChecksum LineFault `yaml:"bad_checksum"`
	// Garbage writes 1 to 16 noise bytes before the sentence, on its line.
	Garbage LineFault `yaml:"garbage"`
	// Truncated cuts the sentence short, checksum and line ending
	// included, so the next sentence runs on from it, as when a receiver
	// restarts its output.
	Truncated LineFault `yaml:"truncated"`
	WrongBaud WrongBaud `yaml:"wrong_baud"`
	// Unplug takes the port away for the duration (a PTY's slave goes,
	// and comes back under the same symlink). On a port that cannot be
	// unplugged (stdout, a real serial device) the receiver goes silent
	// instead.
	Unplug    EventFault `yaml:"unplug"`
	ClockJump ClockJump  `yaml:"clock_jump"`
}

// Names of the faults, the keys of Injector.Counts.
const (
	FixLoss     = "fix_loss"
	MultipathJ  = "multipath"
	BadChecksum = "bad_checksum"
	Garbage     = "garbage"
	Truncated   = "truncated"
	WrongBaudN  = "wrong_baud"
	Unplug      = "unplug"
	ClockJumpN  = "clock_jump"
)

// Any reports whether any fault is enabled.
func (c Config) Any() bool {
	return c.FixLoss.Enabled || c.Multipath.Enabled || c.BadChecksum.Enabled || c.Garbage.Enabled ||
		c.Truncated.Enabled || c.WrongBaud.Enabled || c.Unplug.Enabled || c.ClockJump.Enabled
}

// Validate checks the rates and durations; errors name the YAML field
// under "faults.".
func (c Config) Validate() error {
	var errs []error
	line := func(name string, f LineFault) {
		if f.Probability < 0 || f.Probability > 1 || f.Probability != f.Probability {
			errs = append(errs, fmt.Errorf("faults.%s.probability: %v is not between 0 and 1", name, f.Probability))
		}
	}
	event := func(name string, f EventFault, needDuration bool) {
		if f.PerHour < 0 || f.PerHour != f.PerHour {
			errs = append(errs, fmt.Errorf("faults.%s.per_hour: %v must not be negative", name, f.PerHour))
		}
		if f.Duration < 0 {
			errs = append(errs, fmt.Errorf("faults.%s.duration: %v must not be negative", name, f.Duration.D()))
		}
		if needDuration && f.Enabled && f.Duration <= 0 {
			errs = append(errs, fmt.Errorf("faults.%s.duration: give how long it lasts, e.g. 30s", name))
		}
		for i, at := range f.At {
			if at < 0 {
				errs = append(errs, fmt.Errorf("faults.%s.at[%d]: %v must not be negative", name, i, at.D()))
			}
		}
	}
	line(BadChecksum, c.BadChecksum)
	line(Garbage, c.Garbage)
	line(Truncated, c.Truncated)
	event(FixLoss, c.FixLoss, true)
	event(MultipathJ, c.Multipath.EventFault, false)
	event(WrongBaudN, c.WrongBaud.EventFault, true)
	event(Unplug, c.Unplug, true)
	event(ClockJumpN, c.ClockJump.EventFault, false)
	if m := c.Multipath; m.MinJump < 0 || m.MaxJump < 0 || m.MaxJump > 0 && m.MaxJump < m.MinJump {
		errs = append(errs, fmt.Errorf("faults.multipath: jumps must satisfy 0 <= min_jump_m <= max_jump_m (got %v, %v)", m.MinJump, m.MaxJump))
	}
	if b := c.WrongBaud.Baud; b < 0 || b > 4_000_000 {
		errs = append(errs, fmt.Errorf("faults.wrong_baud.baud: %d is not a serial rate", b))
	}
	return errors.Join(errs...)
}

func (m Multipath) jumps() (lo, hi float64) {
	lo, hi = m.MinJump, m.MaxJump
	if hi == 0 {
		lo, hi = 30, 200
	}
	return lo, hi
}

func (c ClockJump) offset() time.Duration {
	if c.Offset == 0 {
		return time.Hour
	}
	return c.Offset.D()
}

func (w WrongBaud) baud(nominal int) int {
	switch {
	case w.Baud > 0:
		return w.Baud
	case nominal == 38400:
		return 4800
	}
	return 38400
}
