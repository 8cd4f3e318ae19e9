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
	PassedAt time.Time // passage of stop Next-1; zero when not seen
	// StandingSince is the first fix of the vehicle's current stand (zero
	// while it moves); StoodFor, on the fix that ended a stand, how long
	// it stood (from its first standing fix to this one), else zero.
	StandingSince time.Time
	StoodFor      time.Duration
	prev          *gtfs.Trip // the trip before the current one (or before losing it)
	lastGap       time.Duration
	// Block evidence, for inferred vehicles: how badly (in minutes, summed
	// over fixes) each block's trip runs have fitted the vehicle.
	blockCost  map[blockKey]float64
	blockFixes float64    // fixes counted, decayed as the costs are
	blockAt    time.Time  // time of the last fix counted
	claims     []claim    // the blocks with evidence for them (see assign)
	assigned   assignment // the last joint assignment, and when it was made
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

// DwellRadius is how far past a stop a vehicle standing still is still at
// it, not past it: buses pull up where the kerb is free, a bus length or
// two beyond the pole when another bus is loading, and the receiver sits at
// the front of the bus. A bus standing there has its dwell ahead of it.
const DwellRadius = 50

// departMargin is how far a vehicle that stood at a stop must move to have
// left it.
const departMargin = 10

// standing is the speed, in m/s, below which a vehicle is standing still.
const standing = 1.0

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
	paths  []*geo.Polyline                // every path, in the order of trips
	all    map[*gtfs.Trip]bool            // trips
	boxes  map[*geo.Polyline]bbox         // each path's bounds, widened by MaxOffRoute
	grids  map[*geo.Polyline]*pathGrid    // each path's segments by place
	// claimants are the vehicles with evidence for each block, so a joint
	// assignment looks at the vehicles that compete, not at every one.
	claimants map[blockKey]map[*Vehicle]bool
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
	t.grids = map[*geo.Polyline]*pathGrid{}
	t.claimants = map[blockKey]map[*Vehicle]bool{}
	t.byPath = map[*geo.Polyline][]*gtfs.Trip{}
	for _, tr := range t.trips {
		if tr.BlockID != "" {
			t.blocks[tr.BlockID] = append(t.blocks[tr.BlockID], tr)
			k := [2]string{tr.ServiceID, tr.BlockID}
			runs[k] = append(runs[k], tr)
		}
		if _, ok := t.byPath[tr.Path]; !ok {
			t.paths = append(t.paths, tr.Path)
		}
		t.byPath[tr.Path] = append(t.byPath[tr.Path], tr)
		if _, ok := t.boxes[tr.Path]; !ok {
			t.boxes[tr.Path] = boundsOf(tr.Path, cfg.MaxOffRoute)
			t.grids[tr.Path] = newPathGrid(tr.Path, math.Max(200, cfg.MaxOffRoute+60))
		}
	}
	t.all = make(map[*gtfs.Trip]bool, len(t.trips))
	for _, tr := range t.trips {
		t.all[tr] = true
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
			t.claim(v, nil)
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
	prev := v.Pos
	v.Pos = p
	stand(v, prev, p)
	t.locate(v, p)
	return true, nil
}

// stand follows the vehicle standing still and moving off, by the speed it
// reports or, without one, by how far it went since its last fix.
func stand(v *Vehicle, prev, p wire.Position) {
	v.StoodFor = 0
	var still bool
	switch {
	case p.Speed != nil:
		still = *p.Speed < standing
	case !prev.Time.IsZero():
		moved := geo.Distance(geo.Point{Lat: prev.Lat, Lon: prev.Lon}, geo.Point{Lat: p.Lat, Lon: p.Lon})
		still = moved < standing*p.Time.Sub(prev.Time).Seconds()
	default:
		return
	}
	switch {
	case still && v.StandingSince.IsZero():
		v.StandingSince = p.Time
	case !still && !v.StandingSince.IsZero():
		v.StoodFor = p.Time.Sub(v.StandingSince)
		v.StandingSince = time.Time{}
	}
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
	// Block evidence, for vehicles on no reported, configured trip or
	// block: every fix scores the blocks whose trip runs it fits, and the
	// blocks are shared out among the buses so that together they fit best
	// over the last hours (see assign); the bus's block gives the trip. A
	// bus works one block all day,
	// and its delay drifts slowly: a bus late by most of a headway is not
	// taken for the next trip's bus running early.
	var lead candidate
	haveLead := false
	var others map[blockKey]bool
	mine, matched := blockKey{}, false
	if t.cfg.Blocks[v.ID] == "" {
		cands := t.fitting(t.trips, pt, p)
		if v.Trip != nil && v.TripSource == SourceInferred && !has(cands, v.Trip, v.DayStart) {
			// One noisy heading is no evidence against the trip being driven.
			if c, ok := t.match(v.Trip, pt, p, v); ok && !finished(v.Trip, c.dist) && absDur(c.delay) <= maxInferDelay {
				cands = append(cands, c)
			}
		}
		t.learn(v, cands, p.Time, !v.StandingSince.IsZero())
		mine, matched, others = t.assignThrottled(v, p.Time)
		lead, haveLead = t.leader(v, cands, mine, matched, others)
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
			if v.TripSource == SourceInferred && haveLead && t.better(v, lead, c, mine, matched, others) {
				// Another block has fitted this bus better: it is on that
				// block's trip (bunched buses swap places, and a wrong first
				// guess is put right).
				c = lead
			}
			t.apply(v, c, v.TripSource)
			return
		}
		if t.waiting(v, pt, p.Time) {
			// Wandering around the terminal before departure: turning,
			// parking off the street, heading any way.
			c = candidate{trip: v.Trip, dayStart: v.DayStart, dist: v.Dist, offset: v.Offset,
				delay: p.Time.Sub(v.DayStart.Add(ScheduledAt(v.Trip, v.Dist)))}
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
	if haveLead && src == SourceInferred && !(lead.trip == v.Trip && lead.dayStart.Equal(v.DayStart)) {
		// The trip run of the block that has fitted the bus best (the one
		// it just lost is not taken back).
		t.apply(v, lead, src)
		return
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
		speed := speedOf(v.Pos)
		if speed < 0 && gap > 0 {
			speed = (c.dist - v.Dist) / gap.Seconds()
		}
		for v.Next < len(st) && c.dist >= st[v.Next].Dist+PassRadius(v.Next) {
			if c.dist <= v.Dist {
				break
			}
			if v.Next > 0 && speed < standing && c.dist < st[v.Next].Dist+DwellRadius {
				break // standing at the stop, not past it
			}
			mark := st[v.Next].Dist + PassRadius(v.Next)
			if v.Dist >= mark {
				// It stood past the mark at the last fix: it passed
				// the stop when it moved off.
				mark = v.Dist + departMargin
			}
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

func speedOf(p wire.Position) float64 {
	if p.Speed == nil {
		return -1
	}
	return *p.Speed
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

// finished reports whether a vehicle dist metres along tr has reached its
// last stop: it is done with the trip, whatever it does next.
func finished(tr *gtfs.Trip, dist float64) bool {
	return dist >= tr.StopTimes[len(tr.StopTimes)-1].Dist-StopRadius
}

// infer picks the trip whose shape the position lies on, heading the same
// way, and whose schedule at that point is closest to the fix time, among
// trip runs scheduled around now that v has not finished. The trip after
// v's previous one in its block wins when it fits at all: buses work their
// blocks in order. It serves vehicles on a configured block, and others
// when no block evidence applies (see learn and leader for those).
func (t *Tracker) infer(v *Vehicle, trips []*gtfs.Trip, pt geo.Point, p wire.Position) (candidate, bool) {
	return t.pick(v, t.fitting(trips, pt, p))
}

// pick chooses among cands as infer does.
func (t *Tracker) pick(v *Vehicle, cands []candidate) (candidate, bool) {
	// The trip v was on (finished, or lost) or, when it is on none, the
	// one before.
	var successor *gtfs.Trip
	if v.Trip != nil {
		successor = t.next[v.Trip]
	} else if v.prev != nil {
		successor = t.next[v.prev]
	}
	var best candidate
	bestScore := math.Inf(1)
	for _, c := range cands {
		if c.trip == v.Trip && c.dayStart.Equal(v.DayStart) {
			continue
		}
		// A minute of schedule difference weighs like 50 m off the shape.
		score := absDur(c.delay).Minutes()*50 + c.offset
		if c.trip == successor {
			score = c.offset - 1e6
		}
		if score < bestScore {
			best, bestScore = c, score
		}
	}
	return best, !math.IsInf(bestScore, 1)
}

// fitting lists the trip runs among trips, scheduled around p's time, whose
// shape p lies on heading the same way and not at its end.
//
// Only trips running around now are looked at, and each shape is projected
// onto once (trips share shapes), after a bounding-box test and onto the
// segments near p only: a fix costs a handful of short projections,
// however large the feed.
func (t *Tracker) fitting(trips []*gtfs.Trip, pt geo.Point, p wire.Position) []candidate {
	want := t.all
	if len(trips) != len(t.trips) {
		want = make(map[*gtfs.Trip]bool, len(trips))
		for _, tr := range trips {
			want[tr] = true
		}
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
	moving := p.Speed != nil && p.Track != nil && *p.Speed > 3
	var out []candidate
	var offs [3]time.Duration
	for i, d := range days {
		offs[i] = p.Time.Sub(d.start)
	}
	for _, path := range t.paths {
		if !t.boxes[path].contains(pt) {
			continue
		}
		// The path is projected onto once, and only when a trip along it
		// runs around now.
		var pr *geo.Projection
		for _, tr := range t.byPath[path] {
			if !want[tr] {
				continue
			}
			first, last := secs(tr.StopTimes[0].Departure), secs(tr.StopTimes[len(tr.StopTimes)-1].Arrival)
			for i, d := range days {
				if offs[i] < first-maxInferDelay || offs[i] > last+maxInferDelay {
					continue
				}
				on, ok := runs[tr.ServiceID]
				if !ok {
					for i, d := range days {
						on[i] = t.feed.ServiceRunsOn(tr.ServiceID, d.date)
					}
					runs[tr.ServiceID] = on
				}
				if !on[i] {
					continue
				}
				if pr == nil {
					x, ok := projectNear(path, t.grids[path], pt)
					if !ok || x.Offset > t.cfg.MaxOffRoute || (moving && geo.AngleDiff(*p.Track, x.Bearing) > 75) {
						x.Offset = math.Inf(1) // not on this path: no trip along it fits
					}
					pr = &x
				}
				if math.IsInf(pr.Offset, 1) || finished(tr, pr.Dist) {
					continue
				}
				delay := p.Time.Sub(d.start.Add(ScheduledAt(tr, pr.Dist)))
				if absDur(delay) > maxInferDelay {
					continue
				}
				out = append(out, candidate{trip: tr, dayStart: d.start, dist: pr.Dist, offset: pr.Offset, delay: delay})
			}
		}
	}
	return out
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

// holdFor is how long a vehicle not heard from keeps its claim on a block.
const holdFor = 10 * time.Minute

// layoverArea is how far from its trip's first stop a vehicle that has not
// left it yet may wander (turning, parking off the street) and keep the trip.
const layoverArea = 1000

// waiting reports whether v, not yet past its trip's first stop, is still
// around it before the trip's departure (plus maxInferDelay).
func (t *Tracker) waiting(v *Vehicle, pt geo.Point, now time.Time) bool {
	st := v.Trip.StopTimes
	if v.Dist > layoverArea || st[0].Stop == nil || now.After(v.DayStart.Add(ScheduledAt(v.Trip, v.Dist))) {
		return false
	}
	return geo.Distance(pt, st[0].Stop.Point()) <= layoverArea
}

// earlyWeight is how much worse running early is than running late: buses
// fall behind schedule all the time, but seldom run ahead of it (drivers and
// timepoints hold them back).
const earlyWeight = 3

// misfit is how unlikely a schedule deviation is.
func misfit(d time.Duration) time.Duration {
	if d < 0 {
		return time.Duration(-float64(d) * earlyWeight)
	}
	return d
}

// blockKey names one day's run of a block (a trip without a block is a
// block of its own).
type blockKey struct {
	day            int64
	service, block string
}

func keyOf(c candidate) blockKey {
	b := c.trip.BlockID
	if b == "" {
		b = "trip:" + c.trip.ID
	}
	return blockKey{c.dayStart.Unix(), c.trip.ServiceID, b}
}

// maxMisfit caps one fix's evidence against a block, in minutes: a block
// with no trip run fitting the fix at all costs that much.
const maxMisfit = float64(maxInferDelay / time.Minute)

// fixMisfit is how badly candidate c fits, in minutes: waiting at the first
// stop before departure fits perfectly.
func fixMisfit(c candidate) float64 {
	d := c.delay
	if c.dist < LayoverRadius && d < 0 {
		d = 0
	}
	return math.Min(maxMisfit, misfit(d).Minutes())
}

// learn adds the evidence of one fix, fitted by cands, to v's block costs;
// stand says the vehicle stood still.
func (t *Tracker) learn(v *Vehicle, cands []candidate, at time.Time, stand bool) {
	if len(cands) == 0 {
		return
	}
	decay := 1.0
	if !v.blockAt.IsZero() && at.After(v.blockAt) {
		decay = math.Pow(0.5, float64(at.Sub(v.blockAt))/float64(blockHalfLife))
	}
	v.blockAt = at
	if v.blockCost == nil {
		v.blockCost = map[blockKey]float64{}
	}
	now := map[blockKey]float64{}
	for _, c := range cands {
		k := keyOf(c)
		m := fixMisfit(c)
		if stand && c.dist < LayoverRadius {
			// Standing at the first stop, the bus has not left: late or
			// early, it fits the trip. A bus still there after its
			// departure time looks late on its own trip and early on the
			// next one, but it is no more likely to be that one's bus.
			m = 0
		}
		if old, ok := now[k]; !ok || m < old {
			now[k] = m
		}
	}
	fixes := v.blockFixes*decay + 1
	for k, c := range v.blockCost {
		if _, ok := now[k]; !ok {
			v.blockCost[k] = c*decay + maxMisfit
			if v.blockCost[k] >= 0.99*fixes*maxMisfit {
				// No better than a block never seen: forget it (blocks of
				// past days would pile up).
				delete(v.blockCost, k)
			}
		}
	}
	for k, m := range now {
		old, ok := v.blockCost[k]
		if !ok {
			old = v.blockFixes * maxMisfit
		}
		v.blockCost[k] = old*decay + m
	}
	v.blockFixes = fixes
	t.claim(v, claimsOf(v))
}

// leader is, among cands, the best fitting trip run of v's block in the
// joint assignment (mine, when matched) or, when that block runs no trip
// here now, of the block that has fitted v best, leaving out the blocks
// assigned to other vehicles.
func (t *Tracker) leader(v *Vehicle, cands []candidate, mine blockKey, matched bool, others map[blockKey]bool) (candidate, bool) {
	var best candidate
	bestCost := math.Inf(1)
	if matched {
		for _, c := range cands {
			if keyOf(c) == mine && fixMisfit(c) < bestCost {
				best, bestCost = c, fixMisfit(c)
			}
		}
		if !math.IsInf(bestCost, 1) {
			return best, true
		}
	}
	for _, c := range cands {
		k := keyOf(c)
		// Among blocks that fit alike (a bus waiting at a terminal fits
		// every departure soon), the trip nearest its schedule: the bus
		// there first leaves first.
		cost := v.blockCost[k]*1000 + fixMisfit(c) + absDur(c.delay).Minutes()/1000
		if cost < bestCost && !others[k] {
			best, bestCost = c, cost
		}
	}
	return best, !math.IsInf(bestCost, 1)
}

// switchCost is how much better (in minutes summed over fixes) another
// block must have fitted for a vehicle to leave its trip for that block's.
const switchCost = maxMisfit

// better reports whether lead, from another block, should replace c: the
// joint assignment gives v lead's block, or gives c's to another vehicle,
// or lead's block has fitted v better by switchCost.
func (t *Tracker) better(v *Vehicle, lead, c candidate, mine blockKey, matched bool, others map[blockKey]bool) bool {
	if lead.trip == c.trip && lead.dayStart.Equal(c.dayStart) {
		return false
	}
	kl, kc := keyOf(lead), keyOf(c)
	if kl == kc {
		return false
	}
	if (matched && kl == mine) || others[kc] {
		return true
	}
	return v.blockCost[kl]+switchCost < v.blockCost[kc]
}

// blockHalfLife is how fast evidence about blocks fades: a bus's delay
// drifts, and old misfits say less about the present.
const blockHalfLife = time.Hour

// has reports whether cands hold trip run (tr, dayStart).
func has(cands []candidate, tr *gtfs.Trip, dayStart time.Time) bool {
	for _, c := range cands {
		if c.trip == tr && c.dayStart.Equal(dayStart) {
			return true
		}
	}
	return false
}
