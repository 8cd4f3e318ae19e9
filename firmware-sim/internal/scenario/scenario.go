// Package scenario is a firmware-sim run written down: which buses drive
// what, how they drive, what their receivers get wrong and where the output
// goes, as a commented YAML file (configs/sim-*.yaml) a technician reruns a
// field problem with in one command. Command-line flags bind to the same
// fields, so a flag given overrides the file.
//
// Files are decoded strictly (an unknown key is an error naming it) and
// checked field by field; Ready then checks that the run, after flags, has
// what it needs.
package scenario

import (
	"errors"
	"fmt"
	"reflect"
	"time"

	"github.com/headway-transit/headway/firmware-sim/internal/fleet"
	"github.com/headway-transit/headway/firmware-sim/internal/motion"
	"github.com/headway-transit/headway/firmware-sim/internal/receiver"
	"github.com/headway-transit/headway/internal/wire"
	"github.com/headway-transit/headway/internal/yamlconf"
)

// Scenario is one simulation. Paths are relative to the working directory,
// as in configs/hub.yaml: run firmware-sim from the repository root.
type Scenario struct {
	// Feed is the GTFS feed, a folder or .zip.
	Feed string `yaml:"feed"`
	// What to drive: one of trips, routes or blocks.
	Trips    []string `yaml:"trips"`
	Routes   []string `yaml:"routes"`
	Blocks   []string `yaml:"blocks"`
	Vehicles int      `yaml:"vehicles"`
	Toward   string   `yaml:"toward"`

	Start    string            `yaml:"start"` // "now" or RFC 3339
	Seed     uint64            `yaml:"seed"`
	Speedup  float64           `yaml:"speedup"`
	Duration yamlconf.Duration `yaml:"duration"`
	Delay    yamlconf.Duration `yaml:"delay"`
	Layover  yamlconf.Duration `yaml:"layover"`
	// Skip is the share of scheduled trips no bus runs, as an agency's
	// missed trips, drawn from Seed; SkipTrips names trips no bus runs.
	Skip      float64  `yaml:"skip"`
	SkipTrips []string `yaml:"skip_trips"`

	Motion   Motion           `yaml:"motion"`
	Traffic  Traffic          `yaml:"traffic"`
	Receiver receiver.Options `yaml:"receiver"`
	Output   Output           `yaml:"output"`
	// Truth is a file for the true positions and stop times (JSON lines).
	Truth string `yaml:"truth"`
}

// Motion is how the buses drive (see motion.Config).
type Motion struct {
	Accel    float64           `yaml:"accel"`     // m/s²
	Decel    float64           `yaml:"decel"`     // m/s²
	MaxSpeed float64           `yaml:"max_speed"` // m/s
	MinSpeed float64           `yaml:"min_speed"` // m/s
	DwellMin yamlconf.Duration `yaml:"dwell_min"`
	DwellMax yamlconf.Duration `yaml:"dwell_max"`
}

// Traffic is the streets (see motion.Traffic).
type Traffic struct {
	Enabled    bool              `yaml:"enabled"`
	Hourly     []float64         `yaml:"hourly"` // 24 factors, 00:00 first
	Jitter     float64           `yaml:"jitter"`
	HaltsPerKm float64           `yaml:"halts_per_km"`
	HaltMin    yamlconf.Duration `yaml:"halt_min"`
	HaltMax    yamlconf.Duration `yaml:"halt_max"`
}

// Output is where the receivers' sentences or the fixes go: PTYs (the
// default), stdout, a real serial port, or MQTT.
type Output struct {
	Link   string `yaml:"link"`   // PTY symlink prefix: bus N is LINK<N>
	Stdout bool   `yaml:"stdout"` // one receiver, NMEA on stdout
	Port   string `yaml:"port"`   // a real serial device, one receiver; baud is receiver.baud
	// MQTT publishes fixes as vehicle agents would, no NMEA.
	MQTT     string `yaml:"mqtt"`      // broker URL, tcp://host:1883
	Prefix   string `yaml:"prefix"`    // topic prefix
	Clients  int    `yaml:"clients"`   // 0: one connection per bus; K: K shared
	ClientID string `yaml:"client_id"` // prefix of client IDs
	Name     string `yaml:"name"`      // vehicle ID prefix on MQTT: sim-0, sim-1, ...
	SendTrip bool   `yaml:"send_trip"` // put the trip in each position
	// AVL serves the buses' latest positions on this address as an
	// agency's AVL system would: GTFS-Realtime VehiclePositions and SIRI
	// VM over HTTP, no NMEA. Name and SendTrip apply as for MQTT.
	AVL string `yaml:"avl"`
}

// Default is the scenario with no file: a city bus in city traffic, the
// plain receiver, on PTYs.
func Default() Scenario {
	m := motion.DefaultConfig()
	tr := m.Traffic
	return Scenario{
		Start: "now", Seed: 1, Speedup: 1, Layover: yamlconf.Duration(fleet.DefaultLayover),
		Motion: Motion{
			Accel: m.Accel, Decel: m.Decel, MaxSpeed: m.MaxSpeed, MinSpeed: m.MinSpeed,
			DwellMin: yamlconf.Duration(m.DwellMin), DwellMax: yamlconf.Duration(m.DwellMax),
		},
		Traffic: Traffic{
			Enabled: true, Hourly: tr.Hourly[:], Jitter: tr.Jitter, HaltsPerKm: tr.HaltsPerKm,
			HaltMin: yamlconf.Duration(tr.HaltMin), HaltMax: yamlconf.Duration(tr.HaltMax),
		},
		Output: Output{Link: "/tmp/headway-gps", Prefix: wire.DefaultPrefix, ClientID: "firmware-sim", Name: "sim-", SendTrip: true},
	}
}

// Load reads a scenario file over the defaults, strictly.
func Load(path string) (Scenario, error) {
	s := Default()
	// Lists in the file replace the defaults' rather than merge into them.
	s.Traffic.Hourly = nil
	if err := yamlconf.Load(path, &s); err != nil {
		return Scenario{}, err
	}
	if s.Traffic.Hourly == nil {
		s.Traffic.Hourly = Default().Traffic.Hourly
	}
	return s, nil
}

// Validate checks each field on its own; errors name the YAML field.
func (s *Scenario) Validate() error {
	var errs []error
	add := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	if s.Vehicles < 0 {
		add("vehicles: %d must not be negative", s.Vehicles)
	}
	if s.Start != "now" {
		if _, err := time.Parse(time.RFC3339, s.Start); err != nil {
			add("start: %q: want now or RFC 3339, e.g. 2026-11-27T07:30:00+01:00", s.Start)
		}
	}
	if !(s.Speedup > 0) {
		add("speedup: %v must be positive", s.Speedup)
	}
	if s.Duration < 0 {
		add("duration: %v must not be negative", s.Duration.D())
	}
	if s.Layover < 0 {
		add("layover: %v must not be negative", s.Layover.D())
	}
	if !(s.Skip >= 0 && s.Skip < 1) {
		add("skip: %v: want the share of trips to leave unrun, at least 0 and below 1, e.g. 0.2", s.Skip)
	}
	if n := len(s.Traffic.Hourly); s.Traffic.Enabled && n != 24 && n != 0 {
		add("traffic.hourly: %d factors; give 24, one per hour from 00:00, or none", n)
	}
	if err := s.MotionConfig().Validate(); err != nil {
		add("motion/traffic: %w", err)
	}
	if err := s.Receiver.Validate(); err != nil {
		add("receiver.%w", err)
	}
	if err := wire.ValidPrefix(s.Output.Prefix); err != nil {
		add("output.prefix: %w", err)
	}
	if s.Output.Clients < 0 {
		add("output.clients: %d must not be negative", s.Output.Clients)
	}
	return errors.Join(errs...)
}

// Ready checks that the scenario, with the flags applied, says enough to
// run: a feed, something to drive, one output.
func (s *Scenario) Ready() error {
	if err := s.Validate(); err != nil {
		return err
	}
	given := 0
	for _, l := range [][]string{s.Trips, s.Routes, s.Blocks} {
		if len(l) > 0 {
			given++
		}
	}
	outputs := 0
	for _, on := range []bool{s.Output.Stdout, s.Output.Port != "", s.Output.MQTT != "", s.Output.AVL != ""} {
		if on {
			outputs++
		}
	}
	switch {
	case s.Feed == "":
		return errors.New("feed (-feed) is required")
	case given == 0:
		return errors.New("give trips (-trip), routes (-route) or blocks (-block)")
	case given > 1:
		return errors.New("give trips (-trip), routes (-route) or blocks (-block), only one of them")
	case s.Toward != "" && len(s.Routes) == 0:
		return errors.New("toward (-toward) goes with routes (-route)")
	case outputs > 1:
		return errors.New("output: stdout (-stdout), a serial port (-port), MQTT (-mqtt) and an AVL feed (-avl) exclude one another")
	case outputs == 0 && s.Output.Link == "":
		return errors.New("output.link (-link) must not be empty")
	}
	return nil
}

// MotionConfig is the motion package's view of the scenario.
func (s *Scenario) MotionConfig() motion.Config {
	c := motion.Config{
		Accel: s.Motion.Accel, Decel: s.Motion.Decel, MaxSpeed: s.Motion.MaxSpeed, MinSpeed: s.Motion.MinSpeed,
		DwellMin: s.Motion.DwellMin.D(), DwellMax: s.Motion.DwellMax.D(), Delay: s.Delay.D(),
	}
	if s.Traffic.Enabled {
		copy(c.Traffic.Hourly[:], s.Traffic.Hourly)
		c.Traffic.Jitter = s.Traffic.Jitter
		c.Traffic.HaltsPerKm = s.Traffic.HaltsPerKm
		c.Traffic.HaltMin, c.Traffic.HaltMax = s.Traffic.HaltMin.D(), s.Traffic.HaltMax.D()
	}
	return c
}

// StartTime is the simulated start; "now" is the current second.
func (s *Scenario) StartTime(now time.Time) time.Time {
	if s.Start == "now" {
		// Whole seconds, as a receiver's epochs are.
		return now.Truncate(time.Second)
	}
	t, _ := time.Parse(time.RFC3339, s.Start) // checked by Validate
	return t
}

// Emulated reports whether the receiver section asks for more than the
// plain receiver (RMC and GGA, no noise, no faults).
func (s *Scenario) Emulated() bool { return !reflect.ValueOf(s.Receiver).IsZero() }
