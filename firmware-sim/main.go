// Command firmware-sim emulates GPS receivers on virtual serial ports (PTYs),
// each driving a bus along a trip of a GTFS feed, so that a vehicle agent can
// be tested without a bus, a receiver or a sky. See firmware-sim -help.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/headway-transit/headway/firmware-sim/internal/fleet"
	"github.com/headway-transit/headway/firmware-sim/internal/motion"
	"github.com/headway-transit/headway/firmware-sim/internal/ptyport"
	"github.com/headway-transit/headway/internal/gtfs"
)

const help = `firmware-sim emulates GPS receivers for testing Headway without a bus.

Usage:
  firmware-sim run -feed DIR|ZIP (-trip ID[,ID...] | -route ID[,ID...] [-vehicles N]) [flags]

Each receiver is a virtual serial port (a PTY) that sends NMEA 0183 ($GPRMC
then $GPGGA, once a second, 3D fix, valid checksums), like a receiver on a
bus roof, while a simulated bus drives its trip of the GTFS feed: it pulls
away from stops, cruises, brakes, waits at each stop 15-30 s and keeps
roughly to the timetable. When a trip ends the bus takes the next trip of its
route, so the simulation runs until you stop it (Ctrl-C).

For each receiver it prints the port to point the agent at, e.g.
  gps0: /tmp/headway-gps0 -> /dev/pts/4 route 1 trip 1-0-0420
The link path (/tmp/headway-gps0) stays the same from run to run; the
/dev/pts number does not, so configure the agent with the link.

Testing a bus agent on a laptop:
  1. firmware-sim run -feed configs/demo-feed -route 1 -link /tmp/headway-gps
  2. in another terminal, check the port speaks NMEA:
       bin/agent gps -port /tmp/headway-gps0        (or: cat /tmp/headway-gps0)
  3. set the vehicle agent's GPS port to /tmp/headway-gps0 and start it;
     the hub's dashboard should show the bus moving along route 1.
  Three buses on three routes:  -route 1,2,3
  Buses that soon reach a stop: -route 1,2,3 -toward CEN  (to test that stop's sign)
  Five buses on route 2:        -route 2 -vehicles 5  (ports /tmp/headway-gps0 .. 4)
  A bus running 4 minutes late: -delay 4m
  Watch an hour in 6 minutes:   -speedup 10  (fix times follow simulated time)
  Same fixes every run:         -start 2026-11-27T07:30:00+01:00 -seed 7
  No PTY, sentences on stdout:  -stdout  (one receiver; pipe into bin/agent nmea -)
  -truth FILE records where each bus really was at each fix (JSON lines:
  vehicle, time, lat, lon, speed, track, trip, dist) to compare with what the
  hub made of it.

Flags of run:
`

// usageError is a mistake on the command line: exit status 2.
type usageError struct{ error }

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
	case errors.As(err, new(usageError)):
		fmt.Fprintf(os.Stderr, "firmware-sim: %v (see firmware-sim -help)\n", err)
		os.Exit(2)
	default:
		fmt.Fprintf(os.Stderr, "firmware-sim: %v\n", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := runFlags(stderr)
	if len(args) == 0 || args[0] != "run" {
		if len(args) > 0 && strings.TrimLeft(args[0], "-") == "help" || len(args) > 0 && args[0] == "-h" {
			fs.SetOutput(stdout)
			fs.Usage()
			return flag.ErrHelp
		}
		fs.Usage()
		return usageError{errors.New(`want the command "run"`)}
	}
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Errorf("unexpected argument %q", fs.Arg(0))}
	}
	cfg, err := fs.config()
	if err != nil {
		return usageError{err}
	}
	log := slog.New(slog.NewTextHandler(stderr, nil)).With("component", "firmware-sim")
	cfg.Logger = log

	feed, err := gtfs.Load(fs.feed)
	if err != nil {
		return err
	}
	cfg.Feed = feed
	if fs.stdout {
		cfg.Open = func(i int) (fleet.Port, error) { return stdoutPort{stdout}, nil }
	} else {
		cfg.Open = func(i int) (fleet.Port, error) {
			return ptyport.Open(fs.link + strconv.Itoa(i))
		}
	}
	if fs.truth != "" {
		f, err := os.Create(fs.truth)
		if err != nil {
			return fmt.Errorf("truth file: %w", err)
		}
		defer f.Close()
		cfg.Truth = f
	}
	fl, err := fleet.New(cfg)
	if err != nil {
		return err
	}
	defer fl.Close()
	if fs.stdout && len(fl.Vehicles()) != 1 {
		return usageError{fmt.Errorf("-stdout takes one receiver, not %d", len(fl.Vehicles()))}
	}
	announce := stdout
	if fs.stdout {
		announce = stderr // stdout carries the NMEA
	}
	for _, v := range fl.Vehicles() {
		fmt.Fprintln(announce, v.Describe())
	}
	if f, ok := announce.(interface{ Sync() error }); ok {
		f.Sync() // a script waiting for these lines gets them now
	}
	if err := fl.Run(ctx); err != nil {
		return err
	}
	return fl.Close()
}

type runFlagSet struct {
	*flag.FlagSet
	feed, trips, routes, toward, link, start, truth string
	vehicles                                        int
	seed                                            uint64
	speedup                                         float64
	delay, duration                                 time.Duration
	stdout                                          bool
}

func runFlags(out io.Writer) *runFlagSet {
	f := &runFlagSet{FlagSet: flag.NewFlagSet("run", flag.ContinueOnError)}
	f.SetOutput(out)
	f.Usage = func() {
		fmt.Fprint(f.Output(), help)
		f.PrintDefaults()
	}
	f.StringVar(&f.feed, "feed", "", "GTFS feed, a `directory or .zip` (required)")
	f.StringVar(&f.trips, "trip", "", "trip `IDs` to drive, comma-separated, one bus each")
	f.StringVar(&f.routes, "route", "", "route `IDs` or short names, comma-separated; each bus takes the trip in progress")
	f.StringVar(&f.toward, "toward", "", "with -route: send each bus on a trip that reaches this `stop` id in a few minutes (to test its sign)")
	f.IntVar(&f.vehicles, "vehicles", 0, "number of buses, spread over the -route list (default one per route)")
	f.StringVar(&f.link, "link", "/tmp/headway-gps", "symlink `prefix`: bus N's port is PREFIX`N`")
	f.Uint64Var(&f.seed, "seed", 1, "random seed (dwell times); with a fixed -start, runs repeat exactly")
	f.Float64Var(&f.speedup, "speedup", 1, "simulated seconds per real second")
	f.StringVar(&f.start, "start", "now", "simulated start: now, or RFC 3339 such as 2026-11-27T07:30:00+01:00")
	f.DurationVar(&f.delay, "delay", 0, "make every bus run this much late, e.g. 4m")
	f.DurationVar(&f.duration, "duration", 0, "stop after this much simulated time (default: run until interrupted)")
	f.StringVar(&f.truth, "truth", "", "write the true position at each fix to this `file` (JSON lines)")
	f.BoolVar(&f.stdout, "stdout", false, "write NMEA to stdout instead of a PTY (one receiver)")
	return f
}

func (f *runFlagSet) config() (fleet.Options, error) {
	o := fleet.Options{
		Trips: splitList(f.trips), Routes: splitList(f.routes), Vehicles: f.vehicles, Toward: f.toward,
		Speedup: f.speedup, Duration: f.duration, Seed: f.seed, Motion: motion.DefaultConfig(),
	}
	o.Motion.Delay = f.delay
	switch {
	case f.feed == "":
		return o, errors.New("-feed is required")
	case len(o.Trips) == 0 && len(o.Routes) == 0:
		return o, errors.New("give -trip or -route")
	case len(o.Trips) > 0 && len(o.Routes) > 0:
		return o, errors.New("give -trip or -route, not both")
	case f.toward != "" && len(o.Routes) == 0:
		return o, errors.New("-toward goes with -route")
	case f.vehicles < 0:
		return o, errors.New("-vehicles must not be negative")
	case !(f.speedup > 0):
		return o, fmt.Errorf("-speedup must be positive, got %v", f.speedup)
	case f.duration < 0:
		return o, errors.New("-duration must not be negative")
	case !f.stdout && f.link == "":
		return o, errors.New("-link must not be empty")
	}
	if f.start == "now" {
		// Whole seconds, as a receiver's epochs are.
		o.Start = time.Now().Truncate(time.Second)
	} else {
		t, err := time.Parse(time.RFC3339, f.start)
		if err != nil {
			return o, fmt.Errorf("-start %q: want now or RFC 3339, e.g. 2026-11-27T07:30:00+01:00", f.start)
		}
		o.Start = t
	}
	return o, nil
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// stdoutPort is the -stdout receiver's port; closing it leaves stdout open.
type stdoutPort struct{ io.Writer }

func (stdoutPort) Close() error   { return nil }
func (stdoutPort) String() string { return "stdout" }
