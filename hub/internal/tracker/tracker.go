package tracker

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/headway-transit/headway/internal/geo"
	"github.com/headway-transit/headway/internal/gtfs"
	"github.com/headway-transit/headway/internal/wire"
)

// Config tunes tracking.
type Config struct {
	MaxOffRoute float64           // metres from the shape still counted as on the trip
	MaxFuture   time.Duration     // fixes further ahead of the clock are rejected
	Assigned    map[string]string // vehicle -> trip, for vehicles that report none
	Blocks      map[string]string // vehicle -> block: its trip is inferred among the block's
}

// Reasons a position is not used for the live view.
var (
	ErrDuplicate = errors.New("duplicate seq")
	ErrFuture    = errors.New("fix time is in the future")
	ErrFarAway   = errors.New("position is outside the service area")
	ErrStale     = errors.New("fix is older than the vehicle's latest")
)

// Trip sources.
const (
	SourceReported   = "reported"
	SourceConfigured = "configured"
	SourceInferred   = "inferred"
	SourceBlock      = "block" // inferred among the trips of a configured block
)

// Vehicle is what the hub knows about one vehicle.
type Vehicle struct {
	ID       string
	LastSeen time.Time     // hub clock, last accepted message of any kind
	Pos      wire.Position // latest live position
	LastSeq  uint64        // highest seq seen
	Online   bool

	// Accepted live fixes; Duplicates dropped by seq; Gaps: seqs skipped
	// when they were first passed (some arrive later as backfill);
	// Backfill fixes received late from the outbox; Late: fixes not marked
	// backfill but older than the live position (resent after an outage);
	// Rejected as hostile or impossible.
	Accepted, Duplicates, Gaps, Backfill, Late, Rejected uint64
	// Resets counts the times the vehicle's outbox numbering restarted.
	Resets uint64

	seen    seqSet
	against int // consecutive fixes heading against the inferred trip
	// OffRoute counts fixes too far from the vehicle's reported or
	// configured trip; its progress is kept from the last fix on it.
	OffRoute uint64

	// Trip progress; Trip is nil when the vehicle is on no known trip.
	Trip       *gtfs.Trip
	TripSource string
	DayStart   time.Time // service day the trip instance runs on
	Dist       float64   // metres along Trip.Path
	Offset     float64   // metres from the path
	Delay      time.Duration
	FixTime    time.Time // time of the fix Dist and Delay were measured at

	// Stop passages on the current trip run. Next is the index of the
	// first stop not yet passed (0 while the vehicle waits at the first
	// stop); Passed lists the stops the latest fix carried it past; Since
	// is the first fix on the trip run.
	Next     int
	Passed   []Passage
	Since    time.Time
	PassedAt time.Time  // passage of stop Next-1; zero when not seen
	prev     *gtfs.Trip // the trip before the current one (or before losing it)
	lastGap  time.Duration
}

// Passage is a vehicle leaving a stop behind: the time it crossed the
// stop's place on the path (plus StopRadius), interpolated between the two
// fixes around the crossing.
type Passage struct {
	Index int       // into Trip.StopTimes
	At    time.Time // interpolated passage time
	Gap   time.Duration
	// PrevAt is when the vehicle passed the stop before (zero when that
	// was not seen on this trip run), PrevGap the gap around it. Gaps say
	// how exact the times are: interpolation over minutes guesses.
	PrevAt  time.Time
	PrevGap time.Duration
}

// StopRadius is how far past a stop, in metres, the vehicle must be before
// the stop counts as passed: GPS noise and the length of a bus at a stop
// must not pass it early.
const StopRadius = 25

// LayoverRadius is how far past the first stop a vehicle must be before its
// trip has started: buses wait for their departure anywhere around the
// terminal, not on the stop's spot.
const LayoverRadius = 150

// PassRadius is how far past stop i of a trip the vehicle must be to have
// passed it.
func PassRadius(i int) float64 {
	if i == 0 {
		return LayoverRadius
	}
	return StopRadius
}

// Tracker holds every vehicle's state.
type Tracker struct {
	feed     *gtfs.Feed
	cfg      Config
	vehicles map[string]*Vehicle
	area     bbox
	trips    []*gtfs.Trip // every trip with a path, for inference
	blocks   map[string][]*gtfs.Trip
	// next is the trip a vehicle working a block drives after each one:
	// a bus that just finished a trip most likely starts that one.
	next   map[*gtfs.Trip]*gtfs.Trip
	byPath map[*geo.Polyline][]*gtfs.Trip // trips sharing each path
	boxes  map[*geo.Polyline]bbox         // each path's bounds, widened by MaxOffRoute
}

type bbox struct{ minLat, maxLat, minLon, maxLon float64 }

func (b bbox) contains(p geo.Point) bool {
	return p.Lat >= b.minLat && p.Lat <= b.maxLat && p.Lon >= b.minLon && p.Lon <= b.maxLon
}

// serviceMargin widens the feed's bounding box to tolerate depots and detours.
const serviceMargin = 0.3 // degrees, about 30 km

// New builds a tracker over a feed.
func New(feed *gtfs.Feed, cfg Config) *Tracker {
	t := &Tracker{feed: feed, cfg: cfg, vehicles: map[string]*Vehicle{}}
	b := bbox{math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)}
	for _, s := range feed.Stops {
		b.minLat, b.maxLat = math.Min(b.minLat, s.Lat), math.Max(b.maxLat, s.Lat)
		b.minLon, b.maxLon = math.Min(b.minLon, s.Lon), math.Max(b.maxLon, s.Lon)
	}
	b.minLat -= serviceMargin
	b.maxLat += serviceMargin
	b.minLon -= serviceMargin
	b.maxLon += serviceMargin
	t.area = b
	for _, tr := range feed.Trips {
		if tr.Path != nil && len(tr.StopTimes) >= 2 {
			t.trips = append(t.trips, tr)
		}
	}
	sort.Slice(t.trips, func(i, j int) bool { return t.trips[i].ID < t.trips[j].ID })
	t.blocks = map[string][]*gtfs.Trip{}
	runs := map[[2]string][]*gtfs.Trip{} // (service, block): one day's work of one bus
	t.boxes = map[*geo.Polyline]bbox{}
	t.byPath = map[*geo.Polyline][]*gtfs.Trip{}
	for _, tr := range t.trips {
		if tr.BlockID != "" {
			t.blocks[tr.BlockID] = append(t.blocks[tr.BlockID], tr)
			k := [2]string{tr.ServiceID, tr.BlockID}
			runs[k] = append(runs[k], tr)
		}
		t.byPath[tr.Path] = append(t.byPath[tr.Path], tr)
		if _, ok := t.boxes[tr.Path]; !ok {
			t.boxes[tr.Path] = boundsOf(tr.Path, cfg.MaxOffRoute)
		}
	}
	t.next = map[*gtfs.Trip]*gtfs.Trip{}
	for _, trs := range runs {
		sort.Slice(trs, func(i, j int) bool { return trs[i].StopTimes[0].Departure < trs[j].StopTimes[0].Departure })
		for i := 0; i+1 < len(trs); i++ {
			t.next[trs[i]] = trs[i+1]
		}
	}
	return t
}

// boundsOf is the box around path, widened by margin metres.
func boundsOf(path *geo.Polyline, margin float64) bbox {
	b := bbox{math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)}
	for _, p := range path.Points() {
		b.minLat, b.maxLat = math.Min(b.minLat, p.Lat), math.Max(b.maxLat, p.Lat)
		b.minLon, b.maxLon = math.Min(b.minLon, p.Lon), math.Max(b.maxLon, p.Lon)
	}
	dLat := margin / 111e3
	dLon := dLat / math.Max(0.01, math.Cos(b.maxLat*math.Pi/180))
	b.minLat, b.maxLat = b.minLat-dLat, b.maxLat+dLat
	b.minLon, b.maxLon = b.minLon-dLon, b.maxLon+dLon
	return b
}

// Forget drops vehicles not heard from since before, so vehicles that come
// and go (or hostile clients inventing ids) do not accumulate.
func (t *Tracker) Forget(before time.Time) {
	for id, v := range t.vehicles {
		if v.LastSeen.Before(before) {
			delete(t.vehicles, id)
		}
	}
}

// Missing is how many seqs between the lowest hole and the highest seen
// have not arrived (yet).
func (v *Vehicle) Missing() uint64 { return v.seen.missing() }

// Vehicle returns the vehicle's state, or nil.
func (t *Tracker) Vehicle(id string) *Vehicle { return t.vehicles[id] }

// Vehicles returns every vehicle, sorted by id.
func (t *Tracker) Vehicles() []*Vehicle {
	out := make([]*Vehicle, 0, len(t.vehicles))
	for _, v := range t.vehicles {
		out = append(out, v)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

func (t *Tracker) vehicle(id string) *Vehicle {
	v := t.vehicles[id]
	if v == nil {
		v = &Vehicle{ID: id}
		t.vehicles[id] = v
	}
	return v
}

// SetStatus records a vehicle's online/offline status message.
func (t *Tracker) SetStatus(id string, s wire.Status, now time.Time) {
	v := t.vehicle(id)
	v.Online = s.State == wire.StateOnline
	v.LastSeen = now
}

// Update applies one position received at now. It returns whether the live
// view changed; an error says why the position was not used live (the
// position may still have been counted, as history or as a duplicate).
func (t *Tracker) Update(p wire.Position, now time.Time) (bool, error) {
	if p.Time.After(now.Add(t.cfg.MaxFuture)) {
		if v := t.vehicles[p.Vehicle]; v != nil {
			v.Rejected++
		}
		return false, fmt.Errorf("%w: %s is %v ahead of the hub", ErrFuture, p.Time.Format(time.RFC3339), p.Time.Sub(now).Round(time.Second))
	}
	pt := geo.Point{Lat: p.Lat, Lon: p.Lon}
	if !t.area.contains(pt) {
		if v := t.vehicles[p.Vehicle]; v != nil {
			v.Rejected++
		}
		return false, fmt.Errorf("%w: %.5f,%.5f", ErrFarAway, p.Lat, p.Lon)
	}
	v := t.vehicle(p.Vehicle)
	v.LastSeen = now
	v.Online = true
	if v.seen.has(p.Seq) {
		if p.Backfill || !p.Time.After(v.Pos.Time) || p.Seq >= v.LastSeq {
			v.Duplicates++
			return false, ErrDuplicate
		}
		// A live fix, newer than any, with a seq already passed: the
		// vehicle's outbox was lost and numbering started again.
		v.seen.reset()
		v.LastSeq = 0
		v.Resets++
	}
	v.Gaps += v.seen.add(p.Seq)
	v.LastSeq = max(v.LastSeq, p.Seq)
	if p.Backfill {
		v.Backfill++
		return false, nil
	}
	if !v.Pos.Time.IsZero() && !p.Time.After(v.Pos.Time) {
		v.Late++
		return false, fmt.Errorf("%w: %s", ErrStale, p.Time.Format(time.RFC3339))
	}
	v.Accepted++
	v.Pos = p
	t.locate(v, p)
	return true, nil
}

// locate finds v's trip and its progress along it.
func (t *Tracker) locate(v *Vehicle, p wire.Position) {
	pt := geo.Point{Lat: p.Lat, Lon: p.Lon}
	want := p.Trip
	src := SourceReported
	if want == "" {
		want, src = t.cfg.Assigned[v.ID], SourceConfigured
	}
	if want != "" {
		if tr := t.feed.Trips[want]; tr != nil && tr.Path != nil {
			// A reported or configured trip is never second-guessed: on a
			// detour the vehicle keeps it, with its last progress.
			c, ok := t.match(tr, pt, p, v)
			if ok || v.Trip != tr {
				t.apply(v, c, src)
			} else {
				v.OffRoute++
			}
			return
		}
	}
	// Keep an inferred trip while the vehicle stays on it: on its shape,
	// not at its end, not hopelessly off its schedule, and not driving the
	// other way (one noisy heading is forgiven; a few in a row are not).
	if v.Trip != nil && (v.TripSource == SourceInferred || v.TripSource == SourceBlock) {
		c, ok := t.match(v.Trip, pt, p, v)
		if ok && p.Speed != nil && p.Track != nil && *p.Speed > 3 && geo.AngleDiff(*p.Track, t.bearingAt(v.Trip, c.dist)) > 120 {
			v.against++
		} else {
			v.against = 0
		}
		if ok && !finished(v.Trip, c.dist) && absDur(c.delay) <= maxInferDelay && v.against < maxAgainst {
			if v.TripSource == SourceInferred && v.Next > 0 && absDur(c.delay) > switchMargin {
				c = t.closer(v, c, p.Time)
			}
			t.apply(v, c, v.TripSource)
			return
		}
	}
	v.against = 0
	candidates, src := t.trips, SourceInferred
	if b := t.cfg.Blocks[v.ID]; b != "" && p.Trip == "" {
		// A vehicle working a block: one of the block's trips, chosen by
		// position and time (layovers between them included).
		candidates, src = t.blocks[b], SourceBlock
	}
	if c, ok := t.infer(v, candidates, pt, p); ok {
		t.apply(v, c, src)
		return
	}
	if v.Trip != nil {
		v.prev = v.Trip
	}
	v.Trip, v.TripSource = nil, ""
}

type candidate struct {
	trip     *gtfs.Trip
	dayStart time.Time
	dist     float64
	offset   float64
	delay    time.Duration
}

func (t *Tracker) apply(v *Vehicle, c candidate, src string) {
	v.Passed = v.Passed[:0]
	st := c.trip.StopTimes
	if v.Trip == c.trip && v.DayStart.Equal(c.dayStart) {
		// Same trip run: every stop crossed since the previous fix is passed,
		// at the time interpolated at its crossing.
		gap := v.Pos.Time.Sub(v.FixTime)
		for v.Next < len(st) && c.dist >= st[v.Next].Dist+PassRadius(v.Next) {
			if c.dist <= v.Dist {
				break
			}
			mark := st[v.Next].Dist + PassRadius(v.Next)
			f := math.Max(0, math.Min(1, (mark-v.Dist)/(c.dist-v.Dist)))
			at := v.FixTime.Add(time.Duration(f * float64(gap)))
			v.Passed = append(v.Passed, Passage{Index: v.Next, At: at, Gap: gap, PrevAt: v.PassedAt, PrevGap: v.lastGap})
			v.PassedAt, v.lastGap = at, gap
			v.Next++
		}
	} else {
		// A new trip run: the stops already behind were passed unseen.
		if v.Trip != nil && v.Trip != c.trip {
			v.prev = v.Trip
		}
		v.Since = v.Pos.Time
		v.Next, v.PassedAt, v.lastGap = 0, time.Time{}, 0
		for v.Next < len(st) && c.dist >= st[v.Next].Dist+PassRadius(v.Next) {
			v.Next++
		}
	}
	v.Trip, v.TripSource, v.DayStart = c.trip, src, c.dayStart
	v.Dist, v.Offset, v.Delay, v.FixTime = c.dist, c.offset, c.delay, v.Pos.Time
}

// match places p on trip tr, choosing the service day whose schedule fits
// best. For the trip the vehicle is already on, the search window starts a
// little behind its last distance so it cannot jump back along a shape that
// passes the same street twice.
func (t *Tracker) match(tr *gtfs.Trip, pt geo.Point, p wire.Position, v *Vehicle) (candidate, bool) {
	from, to := 0.0, tr.Path.Length()
	if v != nil && v.Trip == tr {
		from = math.Max(0, v.Dist-100)
	}
	pr := tr.Path.Project(pt, from, to)
	best := candidate{trip: tr, dist: pr.Dist, offset: pr.Offset}
	bestAbs := time.Duration(math.MaxInt64)
	if v != nil && v.Trip == tr {
		best.dayStart = v.DayStart
		best.delay = p.Time.Sub(best.dayStart.Add(ScheduledAt(tr, pr.Dist)))
		bestAbs = 0
	} else {
		day := gtfs.DateOf(p.Time, t.feed.Location)
		for _, d := range []gtfs.Date{day.AddDays(-1), day, day.AddDays(1)} {
			if !t.feed.ServiceRunsOn(tr.ServiceID, d) {
				continue
			}
			ds := t.feed.ServiceDayStart(d)
			delay := p.Time.Sub(ds.Add(ScheduledAt(tr, pr.Dist)))
			if a := absDur(delay); a < bestAbs {
				best.dayStart, best.delay, bestAbs = ds, delay, a
			}
		}
	}
	ok := bestAbs != time.Duration(math.MaxInt64) && pr.Offset <= t.cfg.MaxOffRoute
	// Heading tells apart the two directions of a street when choosing a
	// trip; once on one, a single noisy heading must not throw it off.
	onIt := v != nil && v.Trip == tr
	if ok && !onIt && p.Speed != nil && p.Track != nil && *p.Speed > 3 {
		ok = geo.AngleDiff(*p.Track, pr.Bearing) <= 75
	}
	return best, ok
}

// maxAgainst is how many fixes in a row heading against its inferred trip
// make a vehicle lose it.
const maxAgainst = 3

// bearingAt is the direction of trip's path at dist.
func (t *Tracker) bearingAt(tr *gtfs.Trip, dist float64) float64 {
	_, b := tr.Path.At(dist)
	return b
}

// maxInferDelay bounds how far off schedule an inferred trip may be.
const maxInferDelay = 30 * time.Minute

// switchMargin is how much closer to its schedule another trip along the
// same path must put an inferred vehicle for it to switch trips: once
// moving, a bus that left its terminal twelve minutes after one trip's
// departure and at the next one's is on the next one.
const switchMargin = 2 * time.Minute

// closer returns the trip run along c's path (so at the same place) that
// puts v nearest its schedule, when that is nearer than c by switchMargin
// else c.
func (t *Tracker) closer(v *Vehicle, c candidate, now time.Time) candidate {
	best, bestAbs := c, absDur(c.delay)-switchMargin
	day := gtfs.DateOf(now, t.feed.Location)
	for _, d := range []gtfs.Date{day.AddDays(-1), day, day.AddDays(1)} {
		ds := t.feed.ServiceDayStart(d)
		for _, tr := range t.byPath[c.trip.Path] {
			if !t.feed.ServiceRunsOn(tr.ServiceID, d) {
				continue
			}
			delay := now.Sub(ds.Add(ScheduledAt(tr, c.dist)))
			if a := absDur(delay); a < bestAbs {
				best, bestAbs = candidate{trip: tr, dayStart: ds, dist: c.dist, offset: c.offset, delay: delay}, a
			}
		}
	}
	return best
}

// finished reports whether a vehicle dist metres along tr has reached its
// last stop: it is done with the trip, whatever it does next.
func finished(tr *gtfs.Trip, dist float64) bool {
	return dist >= tr.StopTimes[len(tr.StopTimes)-1].Dist-StopRadius
}

// infer picks the trip whose shape the position lies on, heading the same
// way, and whose schedule at that point is closest to the fix time, among
// trip runs scheduled around now that v has not finished. The trip after
// v's previous one in its block wins when it fits at all: buses work their
// blocks in order. (Leaving out trip runs other vehicles are on was tried:
// one wrong guess then pushes the right bus off its trip, and worse.)
//
// Only trips running around now are looked at, and each shape is projected
// onto once (trips share shapes), after a bounding-box test: a fix costs a
// handful of projections, however large the feed.
func (t *Tracker) infer(v *Vehicle, trips []*gtfs.Trip, pt geo.Point, p wire.Position) (candidate, bool) {
	// The trip v was on (finished, or lost) or, when it is on none, the
	// one before.
	var successor *gtfs.Trip
	if v.Trip != nil {
		successor = t.next[v.Trip]
	} else if v.prev != nil {
		successor = t.next[v.prev]
	}
	day := gtfs.DateOf(p.Time, t.feed.Location)
	type serviceDay struct {
		date  gtfs.Date
		start time.Time
	}
	var days [3]serviceDay
	for i, d := range []gtfs.Date{day.AddDays(-1), day, day.AddDays(1)} {
		days[i] = serviceDay{d, t.feed.ServiceDayStart(d)}
	}
	runs := map[string][3]bool{} // service -> runs on each of days
	proj := map[*geo.Polyline]*geo.Projection{}
	moving := p.Speed != nil && p.Track != nil && *p.Speed > 3
	var best candidate
	bestScore := math.Inf(1)
	for _, tr := range trips {
		on, ok := runs[tr.ServiceID]
		if !ok {
			for i, d := range days {
				on[i] = t.feed.ServiceRunsOn(tr.ServiceID, d.date)
			}
			runs[tr.ServiceID] = on
		}
		first, last := secs(tr.StopTimes[0].Departure), secs(tr.StopTimes[len(tr.StopTimes)-1].Arrival)
		for i, d := range days {
			if !on[i] || p.Time.Before(d.start.Add(first-maxInferDelay)) || p.Time.After(d.start.Add(last+maxInferDelay)) {
				continue
			}
			if tr == v.Trip && d.start.Equal(v.DayStart) {
				continue
			}
			pr, ok := proj[tr.Path]
			if !ok {
				if t.boxes[tr.Path].contains(pt) {
					x := tr.Path.Project(pt, 0, tr.Path.Length())
					pr = &x
				}
				proj[tr.Path] = pr
			}
			if pr == nil || pr.Offset > t.cfg.MaxOffRoute || finished(tr, pr.Dist) {
				continue
			}
			if moving && geo.AngleDiff(*p.Track, pr.Bearing) > 75 {
				continue
			}
			delay := p.Time.Sub(d.start.Add(ScheduledAt(tr, pr.Dist)))
			if absDur(delay) > maxInferDelay {
				continue
			}
			// A minute of schedule difference weighs like 50 m off the shape.
			score := absDur(delay).Minutes()*50 + pr.Offset
			if tr == successor {
				score = pr.Offset - 1e6
			}
			if score < bestScore {
				best = candidate{trip: tr, dayStart: d.start, dist: pr.Dist, offset: pr.Offset, delay: delay}
				bestScore = score
			}
		}
	}
	return best, !math.IsInf(bestScore, 1)
}

// ScheduledAt returns the scheduled time, as an offset from the service day
// start, at which trip tr passes dist metres along its path: interpolated
// between the departure from one stop and the arrival at the next.
func ScheduledAt(tr *gtfs.Trip, dist float64) time.Duration {
	st := tr.StopTimes
	if dist <= st[0].Dist {
		return secs(st[0].Departure)
	}
	for i := 0; i+1 < len(st); i++ {
		a, b := st[i], st[i+1]
		if dist > b.Dist {
			continue
		}
		span := b.Dist - a.Dist
		f := 0.0
		if span > 0 {
			f = (dist - a.Dist) / span
		}
		return secs(a.Departure) + time.Duration(f*float64(b.Arrival-a.Departure)*float64(time.Second))
	}
	return secs(st[len(st)-1].Arrival)
}

func secs(s int) time.Duration { return time.Duration(s) * time.Second }

func absDur(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}
