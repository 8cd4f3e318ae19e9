// Package fleet runs simulated buses: for each, a trip from the dispatcher, a
// motion plan, and a GPS receiver writing one epoch a simulated second to its
// port. Simulated time runs Speedup times faster than the wall clock; the
// wall clock is injected so tests need not wait on it.
package fleet

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/headway-transit/headway/firmware-sim/internal/dispatch"
	"github.com/headway-transit/headway/firmware-sim/internal/motion"
	"github.com/headway-transit/headway/firmware-sim/internal/receiver"
	"github.com/headway-transit/headway/internal/gtfs"
)

// Port is where one receiver's sentences go: a PTY, or stdout.
type Port interface {
	io.WriteCloser
	String() string // for people: "/tmp/headway-gps0 -> /dev/pts/3"
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

// Options configure a fleet. Give either Trips or Routes.
type Options struct {
	Feed *gtfs.Feed
	// Trips puts one bus on each trip ID.
	Trips []string
	// Routes (IDs or short names) with Vehicles: bus i drives route
	// Routes[i % len(Routes)]. Vehicles 0 means one bus per route.
	Routes   []string
	Vehicles int
	// Toward, with Routes, picks for each bus a run that will call at this
	// stop soon (see dispatch.Toward), to test that stop's sign.
	Toward string

	Start    time.Time     // simulated time of the first fix
	Speedup  float64       // simulated seconds per wall second; 0 means 1
	Duration time.Duration // simulated time to run for; 0 means until cancelled
	Seed     uint64        // with the same Start, the same seed gives the same fixes
	Motion   motion.Config // how the buses drive, including Delay

	// Open returns the port of bus i. The fleet closes it.
	Open func(i int) (Port, error)
	// Truth, if not nil, receives a JSON line per fix with the true state.
	Truth  io.Writer
	Clock  Clock // nil means the wall clock
	Logger *slog.Logger
}

// Fleet is a set of buses ready to run.
type Fleet struct {
	opts     Options
	dispatch *dispatch.Dispatcher
	vehicles []*Vehicle
	truth    *json.Encoder
	log      *slog.Logger
}

// Vehicle is one simulated bus.
type Vehicle struct {
	Name string // "gps0"
	Port Port

	rx     *receiver.Receiver
	rng    *rand.Rand
	run    dispatch.Run
	driver *motion.Driver
}

// Run is the trip the bus drives now.
func (v *Vehicle) Run() dispatch.Run { return v.run }

// New assigns a trip to each bus and opens its port. On success the caller
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
	if opts.Start.IsZero() {
		return nil, errors.New("no start time")
	}
	if err := opts.Motion.Validate(); err != nil {
		return nil, fmt.Errorf("motion: %w", err)
	}
	if opts.Open == nil {
		return nil, errors.New("no ports to write to")
	}
	if opts.Clock == nil {
		opts.Clock = wallClock{}
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	f := &Fleet{opts: opts, dispatch: dispatch.New(opts.Feed), log: opts.Logger}
	if opts.Truth != nil {
		f.truth = json.NewEncoder(opts.Truth)
	}
	runs, err := f.assign()
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			f.Close()
		}
	}()
	for i, run := range runs {
		v := &Vehicle{Name: fmt.Sprintf("gps%d", i), rng: rand.New(rand.NewPCG(opts.Seed, uint64(i)))}
		if err := v.drive(run, time.Time{}, opts.Motion); err != nil {
			return nil, err
		}
		p, err := opts.Open(i)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", v.Name, err)
		}
		v.Port = p
		v.rx = receiver.New(p)
		f.vehicles = append(f.vehicles, v)
	}
	return f, nil
}

func (f *Fleet) assign() ([]dispatch.Run, error) {
	o := f.opts
	var runs []dispatch.Run
	switch {
	case len(o.Trips) > 0 && len(o.Routes) > 0:
		return nil, errors.New("give trips or routes, not both")
	case len(o.Trips) > 0:
		if o.Vehicles != 0 && o.Vehicles != len(o.Trips) {
			return nil, fmt.Errorf("%d vehicles for %d trips: give one trip per vehicle, or routes", o.Vehicles, len(o.Trips))
		}
		for _, id := range o.Trips {
			r, err := f.dispatch.Trip(id, o.Start)
			if err != nil {
				return nil, err
			}
			runs = append(runs, r)
		}
	case len(o.Routes) > 0:
		var ids []string
		for _, name := range o.Routes {
			r, err := f.dispatch.Route(name)
			if err != nil {
				return nil, err
			}
			ids = append(ids, r.ID)
		}
		n := o.Vehicles
		if n == 0 {
			n = len(ids)
		}
		for i := range n {
			var r dispatch.Run
			var err error
			if o.Toward != "" {
				r, err = f.dispatch.Toward(ids[i%len(ids)], o.Toward, o.Start, TowardLead)
			} else {
				r, err = f.dispatch.Current(ids[i%len(ids)], o.Start)
			}
			if err != nil {
				return nil, err
			}
			runs = append(runs, r)
		}
	default:
		return nil, errors.New("give a trip or a route to drive")
	}
	return runs, nil
}

func (v *Vehicle) drive(run dispatch.Run, ready time.Time, cfg motion.Config) error {
	d, err := motion.NewDriver(run.Trip, run.Base, ready, cfg, v.rng)
	if err != nil {
		return fmt.Errorf("%s: %s: %w", v.Name, run, err)
	}
	v.run, v.driver = run, d
	return nil
}

// Vehicles returns the buses, in port order.
func (f *Fleet) Vehicles() []*Vehicle { return f.vehicles }

// Run emits one epoch per simulated second per bus until ctx is done or
// Duration has passed. It returns nil when stopped by either.
func (f *Fleet) Run(ctx context.Context) error {
	o := f.opts
	wall0 := o.Clock.Now()
	for k := 0; ; k++ {
		sim := time.Duration(k) * time.Second
		if o.Duration > 0 && sim >= o.Duration {
			return nil
		}
		// Pace against the start, not the previous tick, so that slow ticks
		// do not accumulate drift.
		due := wall0.Add(time.Duration(float64(sim) / o.Speedup))
		if wait := due.Sub(o.Clock.Now()); wait > 0 {
			select {
			case <-ctx.Done():
				return nil
			case <-o.Clock.After(wait):
			}
		} else if ctx.Err() != nil {
			return nil
		}
		t := o.Start.Add(sim)
		for _, v := range f.vehicles {
			if err := f.step(v, t); err != nil {
				return err
			}
		}
	}
}

// Layover is the least time a bus spends at the end of a trip before the
// next.
const Layover = 2 * time.Minute

func (f *Fleet) step(v *Vehicle, t time.Time) error {
	s := v.driver.At(t)
	if s.Done {
		end := v.driver.End()
		if t.Sub(end) > Layover {
			// Given a trip long over (-trip at a late -start): the bus has
			// been waiting at the terminus and goes from now.
			end = t
		}
		next, err := f.dispatch.Next(v.run, end, s.Point())
		if err != nil {
			return fmt.Errorf("%s: %w", v.Name, err)
		}
		f.dispatch.Release(v.run)
		if err := v.drive(next, end.Add(Layover), f.opts.Motion); err != nil {
			return err
		}
		f.log.Info("next trip", "vehicle", v.Name, "route", routeName(next.Trip), "trip", next.Trip.ID,
			"departs", v.driver.Departs().Format(time.RFC3339))
		s = v.driver.At(t)
	}
	if err := v.rx.Emit(s); err != nil {
		return fmt.Errorf("%s: %w", v.Name, err)
	}
	if f.truth != nil {
		if err := f.truth.Encode(Truth{
			Vehicle: v.Name, Time: s.Time.UTC(), Lat: s.Lat, Lon: s.Lon,
			Speed: s.Speed, Track: s.Track, Trip: v.run.Trip.ID, Dist: s.Dist,
		}); err != nil {
			return fmt.Errorf("write truth: %w", err)
		}
	}
	return nil
}

// Truth is one line of the -truth file: where a bus really was at a fix.
type Truth struct {
	Vehicle string    `json:"vehicle"`
	Time    time.Time `json:"time"`
	Lat     float64   `json:"lat"`
	Lon     float64   `json:"lon"`
	Speed   float64   `json:"speed"` // m/s
	Track   float64   `json:"track"` // degrees true
	Trip    string    `json:"trip"`
	Dist    float64   `json:"dist"` // metres along the trip's path
}

// Close closes every port.
func (f *Fleet) Close() error {
	var errs []error
	for _, v := range f.vehicles {
		if v.Port != nil {
			errs = append(errs, v.Port.Close())
		}
	}
	return errors.Join(errs...)
}

func routeName(tr *gtfs.Trip) string {
	if tr.Route != nil && tr.Route.ShortName != "" {
		return tr.Route.ShortName
	}
	return tr.RouteID
}

// Describe is the line that tells a technician where bus v is:
// "gps0: /tmp/headway-gps0 -> /dev/pts/3 route 1 trip T1".
func (v *Vehicle) Describe() string {
	return fmt.Sprintf("%s: %s route %s trip %s", v.Name, v.Port, routeName(v.run.Trip), v.run.Trip.ID)
}
