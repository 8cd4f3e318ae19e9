package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/headway-transit/headway/firmware-sim/internal/scenario"
)

// simFlags binds the flags of run and fleet to the fields of s, so that
// parsing them over a scenario loaded into s overrides exactly the flags
// given.
func simFlags(name string, out io.Writer, s *scenario.Scenario, usage func(*flag.FlagSet)) *flag.FlagSet {
	f := flag.NewFlagSet(name, flag.ContinueOnError)
	f.SetOutput(out)
	f.Usage = func() { usage(f) }
	f.String("scenario", "", "load this scenario `file` (configs/sim-*.yaml) first; flags given override it")
	f.StringVar(&s.Feed, "feed", s.Feed, "GTFS feed, a `directory or .zip` (required)")
	f.Var(list{&s.Trips}, "trip", "trip `IDs` to drive, comma-separated, one bus each")
	f.Var(list{&s.Routes}, "route", "route `IDs` or short names, comma-separated; each bus takes the trip in progress")
	f.Var(list{&s.Routes}, "routes", "the same as -route (`IDs`)")
	f.Var(list{&s.Blocks}, "block", "block `IDs` (GTFS block_id), comma-separated: one bus each drives the block's trips in order")
	f.StringVar(&s.Toward, "toward", s.Toward, "with -route: send each bus on a trip that reaches this `stop` id in a few minutes (to test its sign)")
	f.IntVar(&s.Vehicles, "vehicles", s.Vehicles, "number of buses, spread over the routes (default one per route)")
	f.StringVar(&s.Start, "start", s.Start, "simulated start: now, or RFC 3339 such as 2026-11-27T07:30:00+01:00")
	f.Uint64Var(&s.Seed, "seed", s.Seed, "random seed (dwell, traffic, receivers); with a fixed -start, runs repeat exactly")
	f.Float64Var(&s.Speedup, "speedup", s.Speedup, "simulated seconds per real second")
	f.DurationVar((*time.Duration)(&s.Duration), "duration", s.Duration.D(), "stop after this much simulated time (default: run until interrupted)")
	f.DurationVar((*time.Duration)(&s.Delay), "delay", s.Delay.D(), "make every bus run this much late, e.g. 4m")
	f.DurationVar((*time.Duration)(&s.Layover), "layover", s.Layover.D(), "least time a bus waits at the terminus between trips")
	f.Float64Var(&s.Skip, "skip", s.Skip, "leave this `share` of scheduled trips unrun, as an agency's missed trips, e.g. 0.2 (which ones: from -seed)")
	f.Var(list{&s.SkipTrips}, "skip-trips", "trip `IDs`, comma-separated, that no bus runs on any day")
	f.BoolVar(&s.Traffic.Enabled, "traffic", s.Traffic.Enabled, "city traffic: slower in the rush hours, traffic-light halts; -traffic=false for empty streets")
	f.StringVar(&s.Receiver.Profile, "profile", s.Receiver.Profile, "emulate this `receiver`: generic, ublox-m8, sirf-star4, mtk3339, quectel-l70 (default: plain RMC+GGA)")
	f.IntVar(&s.Receiver.RateHz, "rate", s.Receiver.RateHz, "fixes per second: 1, 5 or 10 (default 1)")
	f.IntVar(&s.Receiver.Baud, "baud", s.Receiver.Baud, "serial rate for -port, and what wrong-baud faults garble against (default: the profile's)")
	f.DurationVar((*time.Duration)(&s.Receiver.ColdStart), "cold-start", s.Receiver.ColdStart.D(), "no fix for this long after power-up, e.g. 45s")
	f.Float64Var(&s.Receiver.NoiseM, "noise", s.Receiver.NoiseM, "position noise, `metres` standard deviation per axis (2 is typical)")
	f.StringVar(&s.Output.Link, "link", s.Output.Link, "PTY symlink `prefix`: bus N's port is the prefix followed by N")
	f.BoolVar(&s.Output.Stdout, "stdout", s.Output.Stdout, "write NMEA to stdout instead of a PTY (one receiver)")
	f.StringVar(&s.Output.Port, "port", s.Output.Port, "write NMEA to this real serial `device`, e.g. /dev/ttyUSB0 (one receiver; see -baud)")
	f.Bool("pty", false, "one PTY per bus (the default unless -mqtt, -avl, -port or -stdout)")
	f.StringVar(&s.Output.MQTT, "mqtt", s.Output.MQTT, "publish fixes to this MQTT broker `URL` as vehicle agents would (tcp://127.0.0.1:1883; a comma-separated list is tried in turn, as a cluster of hubs); no NMEA")
	f.StringVar(&s.Output.AVL, "avl", s.Output.AVL, "serve the buses' positions on this `address` as an agency's AVL system would (GTFS-Realtime at /vehicle-positions.pb, SIRI VM at /vehicle-monitoring.xml), for a hub's feeds.vehicles; no NMEA")
	f.StringVar(&s.Output.Prefix, "prefix", s.Output.Prefix, "MQTT topic prefix")
	f.IntVar(&s.Output.Clients, "clients", s.Output.Clients, "MQTT connections: 0 one per bus, with its own last will; `K` shared by all buses (thousands of buses)")
	f.StringVar(&s.Output.ClientID, "client-id", s.Output.ClientID, "MQTT client ID prefix; two simulators on one broker need different ones")
	f.StringVar(&s.Output.Name, "name", s.Output.Name, "MQTT vehicle ID `prefix`: sim-0, sim-1, ...")
	f.BoolVar(&s.Output.SendTrip, "send-trip", s.Output.SendTrip, "MQTT: put the trip driven in each position (-send-trip=false: the hub infers it)")
	f.StringVar(&s.Truth, "truth", s.Truth, "write the true position at each fix and the true arrival and departure at each stop to this `file` (JSON lines)")
	return f
}

// parseSim parses args into a scenario: the -scenario file, if given, over
// the defaults, then the flags given over that.
func parseSim(name string, args []string, stdout, stderr io.Writer, usage func(*flag.FlagSet)) (scenario.Scenario, error) {
	s := scenario.Default()
	// First pass: only to find -scenario; flag errors are reported by the
	// second.
	probe := simFlags(name, io.Discard, &s, func(*flag.FlagSet) {})
	if err := probe.Parse(args); err != nil && !errors.Is(err, flag.ErrHelp) {
		return s, usageError{err}
	}
	if path := probe.Lookup("scenario").Value.String(); path != "" {
		loaded, err := scenario.Load(path)
		if err != nil {
			return s, err
		}
		s = loaded
	} else {
		s = scenario.Default()
	}
	fs := simFlags(name, stderr, &s, usage)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(stdout)
			fs.Usage()
			return s, err
		}
		return s, usageError{err}
	}
	if fs.NArg() > 0 {
		return s, usageError{fmt.Errorf("unexpected argument %q", fs.Arg(0))}
	}
	if fs.Lookup("pty").Value.String() == "true" && (s.Output.MQTT != "" || s.Output.Port != "" || s.Output.Stdout || s.Output.AVL != "") {
		return s, usageError{errors.New("-pty excludes -mqtt, -avl, -port and -stdout")}
	}
	return s, nil
}

// list is a comma-separated flag bound to a string slice; giving it
// replaces the slice (a scenario's list included).
type list struct{ p *[]string }

func (l list) String() string {
	if l.p == nil {
		return ""
	}
	return strings.Join(*l.p, ",")
}

func (l list) Set(v string) error {
	*l.p = nil
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			*l.p = append(*l.p, s)
		}
	}
	return nil
}
