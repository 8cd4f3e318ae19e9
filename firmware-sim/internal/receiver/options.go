package receiver

import (
	"errors"
	"fmt"
	"time"

	"github.com/headway-transit/headway/firmware-sim/internal/faults"
	"github.com/headway-transit/headway/firmware-sim/internal/profile"
	"github.com/headway-transit/headway/internal/yamlconf"
)

// Options configure an emulated receiver made with NewWith. The zero value
// is the generic profile at 1 Hz, hot start, no noise, no faults; a scenario
// YAML holds it under a "receiver:" key.
type Options struct {
	// Profile is the make of receiver: one of profile.Names() ("generic",
	// "ublox-m8", "sirf-star4", "mtk3339", "quectel-l70"); "" is generic.
	Profile string `yaml:"profile"`
	// RateHz is the epochs per second: 1, 5 or 10; 0 means 1. Whoever
	// drives the receiver calls Emit every Interval().
	RateHz int `yaml:"rate_hz"`
	// Baud is the nominal line rate; 0 means the profile's default. It is
	// the rate the wrong-baud fault garbles against, and the rate to open a
	// real serial port at.
	Baud int `yaml:"baud"`
	// Seed drives the sky, the noise and the faults: the same seed and the
	// same epochs give the same bytes.
	Seed uint64 `yaml:"seed"`
	// ColdStart is how long after the first epoch the receiver has no fix:
	// the first half without even the time (empty fields), the second half
	// with time and date but status V. The profile's boot banner comes
	// first either way. 0 is a hot start.
	ColdStart yamlconf.Duration `yaml:"cold_start"`
	// NoiseM is the standard deviation in metres of the horizontal
	// position error on each axis: a Gauss-Markov random walk with a 60 s
	// correlation time, clamped at 3 NoiseM per axis. Altitude gets 1.5
	// times as much. 0 means none. 2 is a typical receiver in the open.
	NoiseM float64 `yaml:"noise_m"`
	// AltMSL is the altitude above mean sea level in metres, GeoidSep the
	// geoid separation (ellipsoid minus MSL).
	AltMSL   float64 `yaml:"alt_msl"`
	GeoidSep float64 `yaml:"geoid_sep"`
	// Faults to inject.
	Faults faults.Config `yaml:"faults"`
}

// DefaultOptions is the generic profile at 1 Hz with 2 m
// of noise at 20 m above sea level.
func DefaultOptions() Options {
	return Options{Profile: profile.Generic, RateHz: 1, NoiseM: 2, AltMSL: 20}
}

// Validate checks the options; errors name the YAML field.
func (o Options) Validate() error {
	var errs []error
	if _, err := profile.Lookup(o.Profile); err != nil {
		errs = append(errs, fmt.Errorf("profile: %w", err))
	}
	switch o.RateHz {
	case 0, 1, 5, 10:
	default:
		errs = append(errs, fmt.Errorf("rate_hz: %d: want 1, 5 or 10", o.RateHz))
	}
	if o.Baud < 0 {
		errs = append(errs, fmt.Errorf("baud: %d must not be negative", o.Baud))
	}
	if o.ColdStart < 0 {
		errs = append(errs, fmt.Errorf("cold_start: %v must not be negative", o.ColdStart.D()))
	}
	if o.NoiseM < 0 || o.NoiseM > 1000 || o.NoiseM != o.NoiseM {
		errs = append(errs, fmt.Errorf("noise_m: %v: want 0 to 1000 metres", o.NoiseM))
	}
	if err := o.Faults.Validate(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// Interval is the time between epochs.
func (o Options) Interval() time.Duration {
	if o.RateHz <= 0 {
		return time.Second
	}
	return time.Second / time.Duration(o.RateHz)
}
