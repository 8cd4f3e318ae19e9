package motion

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/headway-transit/headway/internal/geo"
	"github.com/headway-transit/headway/internal/gtfs"
)

// Config is how the bus drives. The zero value is not useful; start from
// DefaultConfig.
type Config struct {
	Accel    float64       // m/s², pulling away from a stop
	Decel    float64       // m/s², braking for a stop
	MaxSpeed float64       // m/s, cap on the cruise speed
	MinSpeed float64       // m/s, floor on the cruise speed, so a slack schedule does not make the bus crawl
	DwellMin time.Duration // shortest stop at an intermediate stop
	DwellMax time.Duration // longest stop at an intermediate stop
	// Delay shifts every scheduled time the bus aims for: with 3m the bus
	// runs three minutes late all trip (a test's "late bus").
	Delay time.Duration
	// Traffic is the streets' effect on speed; the zero value is empty
	// streets all day.
	Traffic Traffic
}

// DefaultConfig is a city bus: about 1 m/s² away from stops, 1.2 m/s² braking,
// at most 15 m/s (54 km/h), 15-30 s at each stop, in CityTraffic.
func DefaultConfig() Config {
	return Config{
		Accel:    1.0,
		Decel:    1.2,
		MaxSpeed: 15,
		MinSpeed: 3,
		DwellMin: 15 * time.Second,
		DwellMax: 30 * time.Second,
		Traffic:  CityTraffic(),
	}
}

// Validate reports a config that would make the bus misbehave.
func (c Config) Validate() error {
	switch {
	case !(c.Accel > 0) || !(c.Decel > 0):
		return fmt.Errorf("acceleration and braking must be positive (got %v, %v m/s²)", c.Accel, c.Decel)
	case !(c.MaxSpeed > 0) || c.MinSpeed < 0 || c.MinSpeed > c.MaxSpeed:
		return fmt.Errorf("speed limits must satisfy 0 <= min <= max, max > 0 (got %v, %v m/s)", c.MinSpeed, c.MaxSpeed)
	case c.DwellMin < 0 || c.DwellMax < c.DwellMin:
		return fmt.Errorf("dwell range must satisfy 0 <= min <= max (got %v, %v)", c.DwellMin, c.DwellMax)
	}
	return c.Traffic.Validate()
}

// State is where the bus truly is at one instant.
type State struct {
	Time  time.Time
	Lat   float64
	Lon   float64
	Speed float64 // m/s
	Track float64 // degrees true: the bearing of the path here, also when stopped
	Dist  float64 // metres along Trip.Path
	// Stop is the index into Trip.StopTimes of the stop the bus is at
	// (AtStop) or has most recently left.
	Stop   int
	AtStop bool
	// Done is true once the bus has reached the last stop; it then stays put.
	Done bool
}

// segment is one run from standstill to standstill: from a stop or a traffic
// halt to the next stop or halt. Times are seconds since the driver's epoch.
type segment struct {
	depart   float64 // leaves
	from     float64 // metres along the path where it leaves
	length   float64 // metres to where it stops next
	v        float64 // peak speed, m/s
	tAccel   float64 // seconds accelerating
	tCruise  float64 // seconds at v
	tDecel   float64 // seconds braking
	arrive   float64 // depart + tAccel + tCruise + tDecel
	accel    float64
	decel    float64
	dAccel   float64 // metres covered accelerating
	dCruised float64 // metres covered by the end of the cruise
	left     int     // index of the stop most recently left
	endStop  int     // index of the stop it ends at, or -1 at a traffic halt
}

// Driver is one bus on one trip. It is immutable after NewDriver and safe for
// concurrent use.
type Driver struct {
	trip     *gtfs.Trip
	epoch    time.Time // the service day start; all plan times are relative to it
	segs     []segment
	arrive   []float64 // per stop: when the bus gets there (stop 0: when it leaves)
	depart   []float64 // per stop: when it leaves (last stop: when it arrives)
	firstDep float64   // when the bus leaves the first stop
	end      float64   // when it reaches the last stop
}

// NewDriver plans trip, which runs on the service day starting at dayStart.
// The bus is at the first stop from ready on (pass the zero time if it has been
// there all along) and leaves at the later of ready and its scheduled
// departure plus cfg.Delay. Traffic halts, street speeds and dwell times are
// drawn from rng in stop order, so the same seed gives the same plan.
func NewDriver(trip *gtfs.Trip, dayStart, ready time.Time, cfg Config, rng *rand.Rand) (*Driver, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if trip == nil || trip.Path == nil {
		return nil, errors.New("trip has no path to drive along")
	}
	if len(trip.StopTimes) < 2 {
		return nil, fmt.Errorf("trip %s has %d stops; need at least two", trip.ID, len(trip.StopTimes))
	}
	sts := trip.StopTimes
	d := &Driver{trip: trip, epoch: dayStart, arrive: make([]float64, len(sts)), depart: make([]float64, len(sts))}
	delay := cfg.Delay.Seconds()
	// Distances along the path, forced monotonic and inside the path, so a
	// sloppy feed cannot make the bus reverse.
	dist := make([]float64, len(sts))
	for i, st := range sts {
		dist[i] = math.Max(0, math.Min(st.Dist, trip.Path.Length()))
		if i > 0 && dist[i] < dist[i-1] {
			dist[i] = dist[i-1]
		}
	}
	depart := float64(sts[0].Departure) + delay
	if !ready.IsZero() {
		depart = math.Max(depart, ready.Sub(dayStart).Seconds())
	}
	d.firstDep = depart
	d.arrive[0], d.depart[0] = depart, depart
	k := 1/cfg.Accel + 1/cfg.Decel
	for i := 0; i+1 < len(sts); i++ {
		length := dist[i+1] - dist[i]
		f := cfg.Traffic.Factor(d.at(depart))
		halts := cfg.Traffic.halts(length, f, rng)
		// The speed that keeps the schedule: n stretches of the trapezoid,
		// t = L/v + n·v·k/2 (k = 1/a + 1/b), in the budget left after the
		// halts. Take the smaller root.
		budget := float64(sts[i+1].Arrival) + delay - depart
		for _, h := range halts {
			budget -= h.wait
		}
		n := float64(len(halts) + 1)
		vSched := cfg.MaxSpeed
		if disc := budget*budget - 2*n*k*length; budget > 0 && disc >= 0 {
			vSched = (budget - math.Sqrt(disc)) / (n * k)
		}
		vSched = math.Max(cfg.MinSpeed, vSched)
		from := dist[i]
		for j := 0; j <= len(halts); j++ {
			to, endStop, wait := dist[i+1], i+1, 0.0
			if j < len(halts) {
				to, endStop, wait = dist[i]+halts[j].at, -1, halts[j].wait
			}
			// The street allows MaxSpeed scaled by the hour, give or take
			// the jitter of this stretch.
			street := cfg.MaxSpeed * f * (1 + cfg.Traffic.Jitter*(2*rng.Float64()-1))
			v := math.Min(vSched, math.Min(street, cfg.MaxSpeed))
			s := plan(depart, from, to-from, v, cfg, k)
			s.left, s.endStop = i, endStop
			d.segs = append(d.segs, s)
			from, depart = to, s.arrive+wait
		}
		last := d.segs[len(d.segs)-1]
		d.arrive[i+1] = last.arrive
		if i+1 == len(sts)-1 {
			d.end, d.depart[i+1] = last.arrive, last.arrive
			break
		}
		dwell := cfg.DwellMin
		if span := cfg.DwellMax - cfg.DwellMin; span > 0 {
			dwell += time.Duration(rng.Int64N(int64(span) + 1))
		}
		// Never leave before the (delayed) scheduled departure: buses hold at
		// stops when early.
		depart = math.Max(last.arrive+dwell.Seconds(), float64(sts[i+1].Departure)+delay)
		d.depart[i+1] = depart
	}
	return d, nil
}

// plan is the trapezoid (or triangle, when too short to reach v) that covers
// length metres from standstill to standstill.
func plan(depart, from, length, v float64, cfg Config, k float64) segment {
	s := segment{depart: depart, from: from, length: length, accel: cfg.Accel, decel: cfg.Decel}
	if peak := math.Sqrt(2 * length / k); v > peak {
		v = peak
	}
	s.v = v
	if v > 0 {
		s.tAccel = v / cfg.Accel
		s.tDecel = v / cfg.Decel
		s.dAccel = v * v / (2 * cfg.Accel)
		cruise := math.Max(0, length-v*v*k/2)
		s.tCruise = cruise / v
		s.dCruised = s.dAccel + cruise
	}
	s.arrive = depart + s.tAccel + s.tCruise + s.tDecel
	return s
}

// Trip is the trip being driven.
func (d *Driver) Trip() *gtfs.Trip { return d.trip }

// DayStart is the start of the service day the trip runs on.
func (d *Driver) DayStart() time.Time { return d.epoch }

// Departs is when the bus leaves the first stop.
func (d *Driver) Departs() time.Time { return d.at(d.firstDep) }

// End is when the bus reaches the last stop.
func (d *Driver) End() time.Time { return d.at(d.end) }

// ArrivesAt is when the bus reaches stop i (for i = 0, when it leaves it).
func (d *Driver) ArrivesAt(i int) time.Time { return d.at(d.arrive[i]) }

// DepartsAt is when the bus leaves stop i (for the last stop, when it arrives).
func (d *Driver) DepartsAt(i int) time.Time { return d.at(d.depart[i]) }

// Halts lists the traffic stops the bus makes on the trip, in order.
func (d *Driver) Halts() []Halt {
	var out []Halt
	for i, s := range d.segs {
		if s.endStop < 0 {
			out = append(out, Halt{Dist: s.from + s.length, From: d.at(s.arrive), Until: d.at(d.segs[i+1].depart)})
		}
	}
	return out
}

func (d *Driver) at(s float64) time.Time {
	return d.epoch.Add(time.Duration(math.Round(s * float64(time.Second))))
}

// At returns the state of the bus at t.
func (d *Driver) At(t time.Time) State {
	s := t.Sub(d.epoch).Seconds()
	st := State{Time: t}
	// The last segment departing at or before s; before the first
	// departure, the bus waits at the first stop.
	i := -1
	lo, hi := 0, len(d.segs)
	for lo < hi {
		m := (lo + hi) / 2
		if d.segs[m].depart <= s {
			i, lo = m, m+1
		} else {
			hi = m
		}
	}
	switch {
	case i < 0:
		st.Stop, st.AtStop, st.Dist = 0, true, d.segs[0].from
	case s >= d.segs[i].arrive:
		// Standing at the end of segment i: at a stop (dwelling, or done),
		// or at a traffic halt.
		g := d.segs[i]
		st.Dist = g.from + g.length
		if g.endStop >= 0 {
			st.Stop, st.AtStop = g.endStop, true
			st.Done = i == len(d.segs)-1
		} else {
			st.Stop = g.left
		}
	default:
		g := d.segs[i]
		st.Stop = g.left
		st.Dist, st.Speed = g.progress(s - g.depart)
	}
	p, track := d.trip.Path.At(st.Dist)
	st.Lat, st.Lon, st.Track = p.Lat, p.Lon, track
	return st
}

// progress returns the distance along the path and speed dt seconds after
// leaving the stop.
func (l segment) progress(dt float64) (dist, speed float64) {
	switch {
	case dt <= 0:
		return l.from, 0
	case dt < l.tAccel:
		return l.from + l.accel*dt*dt/2, l.accel * dt
	case dt < l.tAccel+l.tCruise:
		return l.from + l.dAccel + l.v*(dt-l.tAccel), l.v
	}
	r := math.Max(0, l.tAccel+l.tCruise+l.tDecel-dt) // seconds until stopped
	return l.from + l.length - l.decel*r*r/2, l.decel * r
}

// Point is the bus position as a geo.Point.
func (s State) Point() geo.Point { return geo.Point{Lat: s.Lat, Lon: s.Lon} }
