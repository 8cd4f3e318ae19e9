// Package fleet runs simulated buses: for each, trips from the dispatcher, a
// motion plan, and a GPS receiver whose epochs go to a port (a PTY, a serial
// device, stdout) or, as a vehicle agent would publish them, to MQTT.
//
// One goroutine drives the whole fleet: each tick it steps every bus's state
// machine (which trip, which stop, what the receiver says) in turn. Simulated
// time runs Speedup times faster than the wall clock; the wall clock is
// injected so tests need not wait on it.
package fleet

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"slices"
	"sync/atomic"
	"time"

	"github.com/headway-transit/headway/drivers/nmea"
	"github.com/headway-transit/headway/firmware-sim/internal/dispatch"
	"github.com/headway-transit/headway/firmware-sim/internal/motion"
	"github.com/headway-transit/headway/firmware-sim/internal/receiver"
	"github.com/headway-transit/headway/internal/gtfs"
)

// Port is where one receiver's sentences go: a PTY, a serial device, stdout.
type Port interface {
	io.WriteCloser
	String() string // for people: "/tmp/headway-gps0 -> /dev/pts/3"
}

// Publisher sends fixes on behalf of vehicle agents (package mqttout). It
// must not block for long: the whole fleet waits on it.
type Publisher interface {
	Publish(vehicle int, f nmea.Fix, trip string)
}

// Clock is the wall clock the simulation is paced by.
type Clock interface {
	Now() time.Time
	After(d time.Duration) <-chan time.Time
}

type wallClock struct{}

func (wallClock) Now() time.Time                         { return time.Now() }
func (wallClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// TowardLead is how far ahead of the start a bus sent toward a stop must
// reach it, so a sign sees it coming for a while.
const TowardLead = 2 * time.Minute

// DefaultLayover is the least time a bus spends at a terminus between trips.
const DefaultLayover = 2 * time.Minute

// Options configure a fleet. Give one of Trips, Routes or Blocks.
type Options struct {
	Feed *gtfs.Feed
	// Trips puts one bus on each trip ID.
	Trips []string
	// Routes (IDs or short names) with Vehicles: bus i drives route
	// Routes[i % len(Routes)]. Vehicles 0 means one bus per route.
	Routes   []string
	Vehicles int
	// Blocks puts one bus on each block ID: it drives the block's trips in
	// order, waiting at the terminus for each next departure.
	Blocks []string
	// Toward, with Routes, picks for each bus a run that will call at this
	// stop soon (see dispatch.Toward), to test that stop's sign.
	Toward string

	Start    time.Time     // simulated time of the first fix
	Speedup  float64       // simulated seconds per wall second; 0 means 1
	Duration time.Duration // simulated time to run for; 0 means until cancelled
	Seed     uint64        // with the same Start, the same seed gives the same fixes
	Motion   motion.Config // how the buses drive, including Delay and Traffic
	// Layover is the least time at a terminus between trips; 0 means
	// DefaultLayover.
	Layover time.Duration
	// Skip is the share of scheduled runs no bus drives, as an agency's
	// missed trips, drawn from Seed (0 <= Skip < 1); SkipTrips are trips no
	// bus drives on any day. A bus whose next run is skipped lays over at
	// its terminus and takes the next one it would (its block's next, with
	// Blocks); in a fleet over routes a skipped run gets no bus. A run
	// named in Trips is driven whatever the share draws.
	Skip      float64
	SkipTrips []string

	// Receiver, if not nil, emulates a real receiver (profile, rate, cold
	// start, noise, faults) on each port; nil is the plain receiver, RMC
	// and GGA once a second with the true position. Bus i's receiver gets
	// its own seed, drawn from Seed. With a Publisher, each epoch's
	// sentences are decoded with drivers/nmea and the fixes with a
	// position are published, as an agent would.
	Receiver *receiver.Options
	// Name names bus i; nil means "gps0", "gps1", ...
	Name func(i int) string
	// Open returns the port of bus i. The fleet closes it.
	Open func(i int) (Port, error)
	// Publisher, instead of Open, sends every bus's fixes to MQTT.
	Publisher Publisher
	// Truth, if not nil, receives JSON lines: the true state at each fix,
	// the true arrival and departure at each stop, and each skipped run.
	Truth  io.Writer
	Clock  Clock // nil means the wall clock
	Logger *slog.Logger
}

// Fleet is a set of buses ready to run.
type Fleet struct {
	opts     Options
	dispatch *dispatch.Dispatcher
	vehicles []*Vehicle
	truth    *bufio.Writer
	log      *slog.Logger
	period   time.Duration

	// The routes and blocks whose skipped runs the truth lists, the runs
	// listed but not yet written (their departure is ahead), and how far
	// the schedule has been listed.
	skipRoutes, skipBlocks []string
	skips                  []dispatch.Run
	skipsTo                time.Time

	fixes  atomic.Uint64
	moving atomic.Int64
}

// New assigns trips to each bus and opens its port. On success the caller
// must Close the fleet.
func New(opts Options) (_ *Fleet, err error) {
	if opts.Feed == nil {
		return nil, errors.New("no feed")
	}
	if opts.Speedup == 0 {
		opts.Speedup = 1
	}
	if !(opts.Speedup > 0) {
		return nil, fmt.Errorf("speedup must be positive, got %v", opts.Speedup)
	}
	period := time.Second
	if opts.Receiver != nil {
		if err := opts.Receiver.Validate(); err != nil {
			return nil, fmt.Errorf("receiver: %w", err)
		}
		period = opts.Receiver.Interval()
	}
	if opts.Layover == 0 {
		opts.Layover = DefaultLayover
	}
	if opts.Layover < 0 {
		return nil, fmt.Errorf("layover %v must not be negative", opts.Layover)
	}
	if opts.Start.IsZero() {
		return nil, errors.New("no start time")
	}
	if err := opts.Motion.Validate(); err != nil {
		return nil, fmt.Errorf("motion: %w", err)
	}
	if (opts.Open == nil) == (opts.Publisher == nil) {
		return nil, errors.New("give ports to write to or a publisher, one of the two")
	}
	if opts.Clock == nil {
		opts.Clock = wallClock{}
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Name == nil {
		opts.Name = func(i int) string { return fmt.Sprintf("gps%d", i) }
	}
	f := &Fleet{opts: opts, dispatch: dispatch.New(opts.Feed), log: opts.Logger, period: period}
	if err := f.dispatch.Skip(dispatch.Skips{Share: opts.Skip, Seed: opts.Seed, Trips: opts.SkipTrips}); err != nil {
		return nil, err
	}
	if opts.Truth != nil {
		f.truth = bufio.NewWriterSize(opts.Truth, 64<<10)
	}
	plans, err := f.assign()
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			f.Close()
		}
	}()
	out := "mqtt"
	if s, ok := opts.Publisher.(fmt.Stringer); ok {
		out = s.String()
	}
	for i, p := range plans {
		v := &Vehicle{
			Name: opts.Name(i), index: i, block: p.block, queue: p.runs[1:], out: out,
			rng: rand.New(rand.NewPCG(opts.Seed, uint64(i))),
		}
		first := p.runs[0]
		// Waiting at the first stop since the start, or there just as it
		// leaves when the run is already under way.
		v.atFirst = opts.Start
		if first.Departs().Before(opts.Start) {
			v.atFirst = first.Departs()
		}
		if err := v.drive(first, time.Time{}, opts.Motion); err != nil {
			return nil, err
		}
		v.skipStopsBefore(opts.Start)
		if opts.Open != nil {
			port, err := opts.Open(i)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", v.Name, err)
			}
			v.Port = port
			if v.rx, err = newReceiver(port, opts.Receiver, opts.Seed, i); err != nil {
				return nil, fmt.Errorf("%s: %w", v.Name, err)
			}
		} else if opts.Receiver != nil {
			// The emulated receiver's sentences, decoded as the agent's
			// driver would, so noise, cold start and faults reach MQTT.
			v.epoch = new(bytes.Buffer)
			if v.rx, err = newReceiver(v.epoch, opts.Receiver, opts.Seed, i); err != nil {
				return nil, fmt.Errorf("%s: %w", v.Name, err)
			}
		} else {
			v.rx = receiver.New(io.Discard)
		}
		f.vehicles = append(f.vehicles, v)
	}
	return f, nil
}

// newReceiver is bus i's receiver writing to w.
func newReceiver(w io.Writer, o *receiver.Options, seed uint64, i int) (*receiver.Receiver, error) {
	if o == nil {
		return receiver.New(w), nil
	}
	mine := *o
	// Each bus its own sky, noise and faults, all from the one seed.
	mine.Seed = rand.New(rand.NewPCG(seed, uint64(i)<<32|0x5eed)).Uint64()
	return receiver.NewWith(w, mine)
}

// plan is what a bus starts with: the runs it will drive, in order (more
// come from the dispatcher as it goes), and its block if it drives one.
type plan struct {
	runs  []dispatch.Run
	block string
}

func (f *Fleet) assign() ([]plan, error) {
	o := f.opts
	given := 0
	for _, l := range [][]string{o.Trips, o.Routes, o.Blocks} {
		if len(l) > 0 {
			given++
		}
	}
	if given > 1 {
		return nil, errors.New("give trips, routes or blocks, only one of them")
	}
	one := func(what string, n int) error {
		if o.Vehicles != 0 && o.Vehicles != n {
			return fmt.Errorf("%d vehicles for %d %s: give one %s per vehicle, or routes", o.Vehicles, n, what, what)
		}
		return nil
	}
	var plans []plan
	switch {
	case len(o.Trips) > 0:
		if err := one("trip", len(o.Trips)); err != nil {
			return nil, err
		}
		for _, id := range o.Trips {
			r, err := f.dispatch.Trip(id, o.Start)
			if err != nil {
				return nil, err
			}
			plans = append(plans, plan{runs: []dispatch.Run{r}})
			if !slices.Contains(f.skipRoutes, r.Trip.RouteID) {
				// The bus goes on with the route's next trips.
				f.skipRoutes = append(f.skipRoutes, r.Trip.RouteID)
			}
		}
	case len(o.Blocks) > 0:
		if err := one("block", len(o.Blocks)); err != nil {
			return nil, err
		}
		for _, id := range o.Blocks {
			runs, err := f.dispatch.Block(id, o.Start)
			if err != nil {
				return nil, err
			}
			plans = append(plans, plan{runs: runs, block: id})
		}
		f.skipBlocks = o.Blocks
	case len(o.Routes) > 0:
		var ids []string
		for _, name := range o.Routes {
			r, err := f.dispatch.Route(name)
			if err != nil {
				return nil, err
			}
			ids = append(ids, r.ID)
		}
		f.skipRoutes = ids
		n := o.Vehicles
		if n == 0 {
			n = len(ids)
		}
		if o.Toward == "" {
			runs, err := f.dispatch.Spread(ids, n, o.Start)
			if err != nil {
				return nil, err
			}
			for _, r := range runs {
				plans = append(plans, plan{runs: []dispatch.Run{r}})
			}
			break
		}
		for i := range n {
			r, err := f.dispatch.Toward(ids[i%len(ids)], o.Toward, o.Start, TowardLead)
			if err != nil {
				return nil, err
			}
			plans = append(plans, plan{runs: []dispatch.Run{r}})
		}
	default:
		return nil, errors.New("give a trip, a route or a block to drive")
	}
	return plans, nil
}

// Vehicles returns the buses, in port order.
func (f *Fleet) Vehicles() []*Vehicle { return f.vehicles }

// Stats is a snapshot of a running fleet, safe to take from any goroutine.
type Stats struct {
	Vehicles int    // buses in the fleet
	Moving   int    // of which driving (not at a stop or halt) at the last tick
	Fixes    uint64 // epochs emitted since the start, all buses
}

// FaultCounts sums the faults the receivers have injected, by name. It is
// safe from any goroutine.
func (f *Fleet) FaultCounts() map[string]uint64 {
	sum := map[string]uint64{}
	for _, v := range f.vehicles {
		for k, n := range v.rx.FaultCounts() {
			sum[k] += n
		}
	}
	return sum
}

// Stats reports how the fleet is doing.
func (f *Fleet) Stats() Stats {
	return Stats{Vehicles: len(f.vehicles), Moving: int(f.moving.Load()), Fixes: f.fixes.Load()}
}

// Run emits one epoch per bus every receiver interval (simulated) until ctx is
// done or Duration has passed. It returns nil when stopped by either.
func (f *Fleet) Run(ctx context.Context) error {
	o := f.opts
	wall0 := o.Clock.Now()
	defer f.flushTruth()
	for k := 0; ; k++ {
		sim := time.Duration(k) * f.period
		if o.Duration > 0 && sim >= o.Duration {
			return f.flushTruth()
		}
		// Pace against the start, not the previous tick, so that slow ticks
		// do not accumulate drift.
		due := wall0.Add(time.Duration(float64(sim) / o.Speedup))
		if wait := due.Sub(o.Clock.Now()); wait > 0 {
			select {
			case <-ctx.Done():
				return f.flushTruth()
			case <-o.Clock.After(wait):
			}
		} else if ctx.Err() != nil {
			return f.flushTruth()
		}
		t := o.Start.Add(sim)
		if err := f.skipEvents(t); err != nil {
			return err
		}
		moving := 0
		for _, v := range f.vehicles {
			if err := f.step(v, t); err != nil {
				return err
			}
			if v.last.Speed > 0 {
				moving++
			}
		}
		f.fixes.Add(uint64(len(f.vehicles)))
		f.moving.Store(int64(moving))
		if f.truth != nil && o.Speedup <= 1 {
			// Live runs: a reader of the truth file sees each epoch now.
			if err := f.flushTruth(); err != nil {
				return err
			}
		}
	}
}

func (f *Fleet) flushTruth() error {
	if f.truth == nil {
		return nil
	}
	if err := f.truth.Flush(); err != nil {
		return fmt.Errorf("write truth: %w", err)
	}
	return nil
}

// Close closes every port.
func (f *Fleet) Close() error {
	errs := []error{f.flushTruth()}
	for _, v := range f.vehicles {
		if v.Port != nil {
			errs = append(errs, v.Port.Close())
		}
	}
	return errors.Join(errs...)
}
