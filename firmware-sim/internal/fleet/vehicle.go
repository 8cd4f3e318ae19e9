package fleet

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/headway-transit/headway/drivers/nmea"
	"github.com/headway-transit/headway/firmware-sim/internal/dispatch"
	"github.com/headway-transit/headway/firmware-sim/internal/motion"
	"github.com/headway-transit/headway/firmware-sim/internal/receiver"
	"github.com/headway-transit/headway/internal/gtfs"
)

// Vehicle is one simulated bus: a small state machine the fleet steps every
// tick (drive the current run, record the stops it has left, take the next
// run at the end).
type Vehicle struct {
	Name string // "gps0"
	Port Port   // nil when the fleet publishes to MQTT
	out  string // where a published bus's fixes go, for Describe

	index  int
	rx     *receiver.Receiver
	rng    *rand.Rand
	run    dispatch.Run
	driver *motion.Driver
	block  string         // the block it drives, if any
	queue  []dispatch.Run // the block's runs still to drive
	// atFirst is when the bus reached the current run's first stop;
	// nextStop is the first stop whose event is not yet in the truth file.
	atFirst  time.Time
	nextStop int
	last     motion.State
	// epoch holds an emulated receiver's sentences for one epoch when the
	// fleet publishes to MQTT; dec decodes them (Reset each epoch).
	epoch *bytes.Buffer
	dec   *nmea.Decoder
}

// Run is the trip the bus drives now.
func (v *Vehicle) Run() dispatch.Run { return v.run }

// Block is the block the bus drives, or "".
func (v *Vehicle) Block() string { return v.block }

func (v *Vehicle) drive(run dispatch.Run, ready time.Time, cfg motion.Config) error {
	d, err := motion.NewDriver(run.Trip, run.Base, ready, cfg, v.rng)
	if err != nil {
		return fmt.Errorf("%s: %s: %w", v.Name, run, err)
	}
	v.run, v.driver, v.nextStop = run, d, 0
	return nil
}

// skipStopsBefore leaves out of the truth the stops the bus left before the
// simulation began: no fix shows it there.
func (v *Vehicle) skipStopsBefore(t time.Time) {
	for v.nextStop < len(v.run.Trip.StopTimes) && v.driver.DepartsAt(v.nextStop).Before(t) {
		v.nextStop++
	}
}

func (f *Fleet) step(v *Vehicle, t time.Time) error {
	s := v.driver.At(t)
	if err := f.stopEvents(v, t); err != nil {
		return err
	}
	if s.Done {
		if err := f.next(v, t, s); err != nil {
			return err
		}
		s = v.driver.At(t)
	}
	v.last = s
	if v.Port != nil {
		if err := v.rx.Emit(s); err != nil {
			return fmt.Errorf("%s: %w", v.Name, err)
		}
	} else if v.epoch != nil {
		if err := f.publishEpoch(v, s); err != nil {
			return err
		}
	} else {
		f.opts.Publisher.Publish(v.index, v.rx.Fix(s), v.run.Trip.ID)
	}
	if f.truth != nil {
		return f.writeFix(v, s)
	}
	return nil
}

// publishEpoch has the emulated receiver of v emit the epoch for s, decodes
// it as a vehicle agent's driver would (a new decoder per epoch, as the
// decoder ends at end of input: the bus's one decoder Reset, which
// allocates nothing) and publishes what it makes of it.
func (f *Fleet) publishEpoch(v *Vehicle, s motion.State) error {
	v.epoch.Reset()
	if err := v.rx.Emit(s); err != nil {
		return fmt.Errorf("%s: %w", v.Name, err)
	}
	if v.dec == nil {
		v.dec = nmea.NewDecoder(v.epoch)
	} else {
		v.dec.Reset(v.epoch)
	}
	for {
		fix, err := v.dec.Next()
		if err != nil {
			return nil // end of the epoch; malformed lines were skipped
		}
		f.opts.Publisher.Publish(v.index, fix, v.run.Trip.ID)
	}
}

// next puts a bus that has reached the end of its trip on its next one: the
// block's next trip, or the route's next run from near where it stands. It
// waits there at least the layover, and until the next trip's departure.
func (f *Fleet) next(v *Vehicle, t time.Time, s motion.State) error {
	end := v.driver.End()
	if t.Sub(end) > f.opts.Layover {
		// Given a trip long over (-trip at a late -start): the bus has
		// been waiting at the terminus and goes from now.
		end = t
	}
	var next dispatch.Run
	switch {
	case v.block != "" && len(v.queue) > 0:
		next, v.queue = v.queue[0], v.queue[1:]
	case v.block != "":
		// The block's day is over: the same block on the next day it runs.
		runs, err := f.dispatch.Block(v.block, end)
		if err != nil {
			return fmt.Errorf("%s: %w", v.Name, err)
		}
		next, v.queue = runs[0], runs[1:]
	default:
		var err error
		if next, err = f.dispatch.Next(v.run, end, s.Point()); err != nil {
			return fmt.Errorf("%s: %w", v.Name, err)
		}
	}
	f.dispatch.Release(v.run)
	if err := v.drive(next, end.Add(f.opts.Layover), f.opts.Motion); err != nil {
		return err
	}
	v.atFirst = end
	f.log.Info("next trip", "vehicle", v.Name, "route", routeName(next.Trip), "trip", next.Trip.ID,
		"departs", v.driver.Departs().Format(time.RFC3339))
	return nil
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
	where := v.out
	if v.Port != nil {
		where = v.Port.String()
	}
	s := fmt.Sprintf("%s: %s route %s trip %s", v.Name, where, routeName(v.run.Trip), v.run.Trip.ID)
	if v.block != "" {
		s += " block " + v.block
	}
	return s
}
