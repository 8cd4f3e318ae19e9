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
	"os"
	"os/signal"
	"syscall"

	"github.com/headway-transit/headway/firmware-sim/internal/scenario"
)

const help = `firmware-sim emulates GPS receivers for testing Headway without a bus.

Usage:
  firmware-sim run -feed DIR|ZIP (-trip ID,.. | -route ID,.. [-vehicles N] | -block ID,..) [flags]
  firmware-sim run -scenario configs/sim-tunnel.yaml [flags]
  firmware-sim fleet -feed DIR|ZIP -vehicles N [-routes a,b] [-pty -link PREFIX | -mqtt URL [-prefix P]] [flags]
  firmware-sim replay [-speed N|max] [-link PATH | -port DEV | -stdout] LOG   (see firmware-sim replay -help)
  firmware-sim sign [-link PATH] [-lines N]   emulate an LED sign (Alpha protocol) on a PTY; prints what it shows

Each receiver is a virtual serial port (a PTY) that sends NMEA 0183 ($GPRMC
then $GPGGA, once a second, 3D fix, valid checksums, unless -profile and
friends emulate a real receiver), like a receiver on a bus roof, while a
simulated bus drives its trip of the GTFS feed: it pulls away from stops,
cruises, stops at traffic lights, brakes, waits at each stop 15-30 s and keeps
roughly to the timetable, slower in the rush hours (07-09, 16-19) than at
night. When a trip ends the bus waits at the terminus (-layover at least, and
until the next trip's departure) and takes the next trip of its route, or of
its block with -block, so the simulation runs until you stop it (Ctrl-C).
Trips left unrun (-skip, -skip-trips) get no bus: one whose next trip is
skipped lays over until the one after (its block's next, with -block).
Everything random comes from -seed: with a fixed -start a run repeats exactly.

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
  Testing a real bus: plug a USB-serial adapter into the bus's GPS input and
     firmware-sim run -feed configs/demo-feed -route 1 -port /dev/ttyUSB0 -baud 9600
  Three buses on three routes:  -route 1,2,3
  Buses that soon reach a stop: -route 1,2,3 -toward CEN  (to test that stop's sign)
  Five buses on route 2:        -route 2 -vehicles 5  (ports /tmp/headway-gps0 .. 4)
  A bus's whole day:            -block 1-bus03  (its trips in order, layovers at the termini)
  A bus running 4 minutes late: -delay 4m
  Missed trips:                 -skip 0.2  (a fifth of the trips get no bus; or -skip-trips ID,..)
  The morning rush:             -start 2026-11-27T08:00:00+01:00  (empty streets: -traffic=false)
  A u-blox at 5 Hz, cold start: -profile ublox-m8 -rate 5 -cold-start 45s -noise 2
  Watch an hour in 6 minutes:   -speedup 10  (fix times follow simulated time)
  Same fixes every run:         -start 2026-11-27T07:30:00+01:00 -seed 7
  No PTY, sentences on stdout:  -stdout  (one receiver; pipe into bin/agent nmea -)
  A field problem, rerun:       -scenario configs/sim-tunnel.yaml  (faults, profiles: see configs/sim-*.yaml)

Fleets (load tests): firmware-sim fleet runs -vehicles N buses over -routes
(default every route), on the trips in progress first, then the next ones to
depart. Each bus has its own PTY (-pty, the default: run an agent per bus), or
with -mqtt the simulator publishes each bus's fixes itself, as N vehicle agents
would (QoS 1, seq per bus, retained online/offline status), e.g.
  firmware-sim fleet -feed configs/demo-feed -vehicles 5000 -mqtt tcp://127.0.0.1:1883 -clients 8
-clients 0 (default) gives each bus its own connection and last will, as real
agents; -clients K shares K connections among all buses (the hub sees the same
topics and payloads), which a fleet of thousands needs. With -profile,
-noise, -cold-start or a scenario's faults, each epoch's sentences are decoded
as the agent's driver would and what it accepts is published. Fix times are
simulated time: with -speedup or a -start far from now the hub rejects them
as from the future or stale. A status line on stderr shows vehicles, fixes/s,
faults injected and MQTT errors.

-truth FILE writes JSON lines: {"type":"fix",...} with where each bus really
was at each fix (vehicle, time, lat, lon, speed, track, trip, dist), and
{"type":"stop","vehicle","trip","stop_id","stop_sequence","arrival","departure"}
when it has left a stop, and with -skip or -skip-trips
{"type":"skip","trip","route","service_day":"YYYY-MM-DD","scheduled_departure"}
for each skipped trip of the routes (or blocks) driven, once its departure
time has passed (at the start if under way then), to score what the hub
made of it against.

Flags of run and fleet (a flag given overrides the -scenario file):
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
	cmd := ""
	if len(args) > 0 {
		cmd = args[0]
	}
	switch cmd {
	case "run", "fleet":
		s, err := parseSim(cmd, args[1:], stdout, stderr, usage)
		if err != nil {
			return err
		}
		return simulate(ctx, s, cmd == "fleet", stdout, stderr)
	case "replay":
		return replayCmd(ctx, args[1:], stdout, stderr)
	case "sign":
		return signCmd(ctx, args[1:], stdout, stderr)
	case "help", "-help", "--help", "-h":
		printHelp(stdout)
		return flag.ErrHelp
	}
	printHelp(stderr)
	if cmd == "" {
		return usageError{errors.New(`want a command: run, fleet, replay or sign`)}
	}
	return usageError{fmt.Errorf("unknown command %q: want run, fleet, replay or sign", cmd)}
}

func usage(fs *flag.FlagSet) {
	fmt.Fprint(fs.Output(), help)
	fs.PrintDefaults()
}

func printHelp(w io.Writer) {
	s := scenario.Default()
	fs := simFlags("run", w, &s, usage)
	fs.Usage()
}
