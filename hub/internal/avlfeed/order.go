package avlfeed

import (
	"time"

	"github.com/headway-transit/headway/internal/wire"
)

// Results a feed's fix is counted under (headway_feed_positions_total).
const (
	Accepted  = "accepted"   // handed to the engine
	Repeat    = "repeat"     // the vehicle's last position again (feeds repeat it every poll)
	Backwards = "backwards"  // older than one already taken
	Stale     = "stale"      // older than max_age
	Future    = "future"     // ahead of the hub's clock by more than maxFuture
	BadID     = "bad_id"     // a vehicle id Headway cannot carry (see wire.ValidID)
	Skipped   = "skipped"    // an entity with no usable vehicle, position or time
	OtherHub  = "other_hub"  // in a partitioned cluster, another hub tracks it
	Dropped   = "queue_full" // the engine's queue was full; taken again on the next poll
)

// maxFuture is how far ahead of the hub's clock a fix may be: a producer's
// clock a little fast is common, an hour ahead is a broken feed.
const maxFuture = 2 * time.Minute

// orderer keeps, per vehicle, the time of the last fix taken and the seq it
// was given. A feed lists each vehicle's latest position on every poll,
// usually unchanged, and after a producer restart may go back in time: only
// a fix newer than the last taken goes on, so the engine sees each once and
// in order.
type orderer struct {
	prefix   string
	maxAge   time.Duration
	vehicles map[string]*seen
}

type seen struct {
	last time.Time // time of the last fix taken (ms resolution)
	seq  uint64
}

func newOrderer(prefix string, maxAge time.Duration) *orderer {
	return &orderer{prefix: prefix, maxAge: maxAge, vehicles: map[string]*seen{}}
}

// admit decides what happens to f and, for an accepted fix, returns its
// position message. Nothing is remembered until commit: a fix the engine's
// queue refused is taken again on the next poll.
//
// Seqs: a vehicle's first fix gets the unix milliseconds of its time, each
// one after that the seq before plus one, so the engine counts no gaps.
// Fix times rise by at least a millisecond each, so after a hub restart the
// first fix's milliseconds are above any seq given before: the numbering
// never goes back (which the engine would take for a reset).
func (o *orderer) admit(f Fix, now time.Time) (wire.Position, string) {
	id := o.prefix + f.Vehicle
	if wire.ValidID("vehicle", id) != nil {
		return wire.Position{}, BadID
	}
	t := f.Time.Truncate(time.Millisecond)
	if now.Sub(t) > o.maxAge {
		return wire.Position{}, Stale
	}
	if t.Sub(now) > maxFuture {
		return wire.Position{}, Future
	}
	seq := uint64(t.UnixMilli())
	if s := o.vehicles[id]; s != nil {
		switch {
		case t.Equal(s.last):
			return wire.Position{}, Repeat
		case t.Before(s.last):
			return wire.Position{}, Backwards
		}
		seq = s.seq + 1
	}
	p := wire.Position{
		V: wire.Version, Vehicle: id, Seq: seq, Time: t,
		Lat: f.Lat, Lon: f.Lon, Speed: f.Speed, Track: f.Bearing,
		Mode: 2, // a feed says nothing of the fix's quality; 2D is the honest floor
		Trip: f.Trip,
	}
	if wire.ValidID("trip", p.Trip) != nil {
		p.Trip = "" // not a trip id Headway can carry: inferred instead
	}
	return p, Accepted
}

// commit records p as taken.
func (o *orderer) commit(p wire.Position) {
	s := o.vehicles[p.Vehicle]
	if s == nil {
		s = &seen{}
		o.vehicles[p.Vehicle] = s
	}
	s.last, s.seq = p.Time, p.Seq
}

// forget drops vehicles whose last fix is older than max_age: their next
// fix would be stale anyway until a newer one comes, and a feed's fleet
// changes through the day.
func (o *orderer) forget(now time.Time) {
	for id, s := range o.vehicles {
		if now.Sub(s.last) > o.maxAge {
			delete(o.vehicles, id)
		}
	}
}
