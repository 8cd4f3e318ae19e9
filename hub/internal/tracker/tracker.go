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
	// Shared: vehicles move between the hubs of a partitioned cluster, so
	// fixes older than the first one met may still come, once each (see
	// seqSet).
	Shared bool
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
	// TrackedSince is the vehicle's first live fix, or its first after a
	// silence longer than holdFor.
	TrackedSince time.Time
	Online       bool
	Version      string // the agent's version, from its status

	// Accepted live fixes; Duplicates dropped by seq; Gaps: seqs skipped
	// when they were first passed (some arrive later as backfill);
	// Backfill fixes received late from the outbox; Late: fixes not marked
	// backfill but older than the live position (resent after an outage);
	// Rejected as hostile or impossible.
	Accepted, Duplicates, Gaps, Backfill, Late, Rejected uint64
	// Resets counts the times the vehicle's outbox numbering restarted.
	Resets uint64

	seen seqSet
	// sharedSince: the first fix this hub met of a vehicle of a
	// partitioned cluster (Config.Shared).
	sharedSince time.Time
	against     int // consecutive fixes heading against the inferred trip
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
	// Ambiguous says, for an inferred trip, that another block's trip run
	// fitted the latest fix about as well (see ambiguous).
	Ambiguous bool

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

// FirstSeq is the seq this hub's count of the vehicle's seqs starts at (0
// before the first fix).
func (v *Vehicle) FirstSeq() uint64 { return v.seen.first }

// Holes lists up to n of the lowest seqs Missing counts.
func (v *Vehicle) Holes(n int) []uint64 { return v.seen.holes(n) }

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
		v.seen.shared = t.cfg.Shared
		t.vehicles[id] = v
	}
	return v
}

// SetStatus records a vehicle's online/offline status message.
func (t *Tracker) SetStatus(id string, s wire.Status, now time.Time) {
	v := t.vehicle(id)
	v.Online = s.State == wire.StateOnline
	v.LastSeen = now
	if s.Version != "" {
		v.Version = s.Version
	}
}

// settleSeqs is how long a hub of a partitioned cluster takes a vehicle's
// seqs as they come before it starts counting holes: longer than the
// cluster's AckWait (30 s), after which a dead hub's unapplied fixes come.
const settleSeqs = 40 * time.Second

// rejoinAfter: a vehicle of a partitioned cluster silent this long at a hub
// may have been tracked by another meanwhile (its hub's partitions move in
// 5-15 s); when it comes back, its seqs are counted afresh.
const rejoinAfter = 10 * time.Second

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
	if v.seen.shared && v.seen.init && now.Sub(v.LastSeen) > rejoinAfter {
		// Back after a silence: in a partitioned cluster, likely from
		// another hub that tracked it meanwhile; its seqs are counted
		// afresh.
		v.seen.reset()
		v.sharedSince = time.Time{}
	}
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
		v.sharedSince = time.Time{}
		v.LastSeq = 0
		v.Resets++
	}
	if v.seen.shared && !v.seen.init {
		// Taken over (or met) mid-stream in a partitioned cluster: for
		// settleSeqs the seqs come in any order (fixes the hub before
		// was handed and never applied, redelivered after AckWait; ones
		// a bus sent again while the stream elected a leader), and the
		// count starts after the highest of them.
		if v.sharedSince.IsZero() {
			v.sharedSince = now
		}
		if now.Sub(v.sharedSince) < settleSeqs {
			v.seen.addBefore(p.Seq)
		} else {
			v.seen.startAfter(v.seen.beforeMax)
			v.Gaps += v.seen.add(p.Seq)
		}
	} else {
		v.Gaps += v.seen.add(p.Seq)
	}
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
	if prev.Time.IsZero() || p.Time.Sub(prev.Time) > holdFor {
		// New, or back after its block claims lapsed: nothing is known
		// of it beyond this fix.
		v.TrackedSince = p.Time
	}
	v.Pos = p
	stand(v, prev, p)
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
	var cands []candidate
	defer func() { v.Ambiguous = ambiguous(v, cands) }()
	if t.cfg.Blocks[v.ID] == "" {
		cands = t.fitting(t.trips, pt, p)
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
		// Not yet gone from its first stop and now driving along another
		// trip's shape (its own does not fit): it was never waiting for
		// this one.
		drivingAnother := v.Next == 0 && driving(cands, p, v.Trip, v.DayStart) && !onItsWay(cands, v.Trip, v.DayStart)
		if ok && !finished(v.Trip, c.dist) && absDur(c.delay) <= maxInferDelay && v.against < maxAgainst && !drivingAnother {
			if v.TripSource == SourceInferred && haveLead && t.better(v, lead, c, mine, matched, others) {
				// Another block has fitted this bus better: it is on that
				// block's trip (bunched buses swap places, and a wrong first
				// guess is put right).
				c = lead
			}
			if v.TripSource == SourceInferred {
				c = t.departure(v, c, cands, p, others)
			}
			t.apply(v, c, v.TripSource)
			return
		}
		if t.waiting(v, pt, p.Time) && !drivingAnother {
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
		t.apply(v, t.departure(v, lead, cands, p, others), src)
		return
	}
	if c, ok := t.infer(v, candidates, pt, p); ok {
		if src == SourceInferred {
			c = t.departure(v, c, cands, p, others)
		}
		t.apply(v, c, src)
		return
	}
	if v.Trip != nil {
		v.prev = v.Trip
	}
	v.Trip, v.TripSource = nil, ""
}
