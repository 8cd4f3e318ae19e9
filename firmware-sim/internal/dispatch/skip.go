package dispatch

import (
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"time"

	"github.com/headway-transit/headway/internal/gtfs"
)

// Skips says which scheduled runs no bus drives, as an agency's missed
// trips: every run of Trips, and of the other runs a Share drawn from Seed.
type Skips struct {
	Share float64 // of the runs, at least 0 and below 1
	Seed  uint64
	Trips []string // trip IDs skipped on every day they run
}

// Skip makes the dispatcher leave out the runs s names: none is given to a
// bus. Whether a run is drawn depends only on Seed, its trip and its start,
// not on which runs were asked about before, so a run repeats.
func (d *Dispatcher) Skip(s Skips) error {
	if !(s.Share >= 0 && s.Share < 1) {
		return fmt.Errorf("skip share %v: want at least 0 and below 1, e.g. 0.2 for a fifth of the trips", s.Share)
	}
	trips := map[string]bool{}
	for _, id := range s.Trips {
		if d.feed.Trips[id] == nil {
			return fmt.Errorf("trip %q to skip is not in the feed", id)
		}
		trips[id] = true
	}
	d.skip, d.skipTrips = s, trips
	return nil
}

// Skipping reports whether any run may be skipped.
func (d *Dispatcher) Skipping() bool { return d.skip.Share > 0 || len(d.skipTrips) > 0 }

// Skipped reports whether no bus drives r. A run given by Trip is never
// skipped by the share.
func (d *Dispatcher) Skipped(r Run) bool {
	switch {
	case d.skipTrips[r.Trip.ID]:
		return true
	case d.skip.Share == 0 || d.kept[r.key()]:
		return false
	}
	return draw(d.skip.Seed, r) < d.skip.Share
}

// draw is a number in [0, 1) fixed by seed and the run alone.
func draw(seed uint64, r Run) float64 {
	h := fnv.New64a()
	h.Write([]byte(r.Trip.ID))
	h.Write(binary.BigEndian.AppendUint64(nil, uint64(r.Base.Unix())))
	return rand.New(rand.NewPCG(seed, h.Sum64())).Float64()
}

// Scheduled lists the runs of the trips of routes (IDs) and of blocks that
// are scheduled to depart in [from, to) or to be under way at from, ordered
// by departure, then trip ID; skipped or not.
func (d *Dispatcher) Scheduled(routes, blocks []string, from, to time.Time) []Run {
	seen := map[*gtfs.Trip]bool{}
	var trips []*gtfs.Trip
	add := func(l []*gtfs.Trip) {
		for _, tr := range l {
			if !seen[tr] {
				seen[tr] = true
				trips = append(trips, tr)
			}
		}
	}
	for _, id := range routes {
		add(d.byRoute[id])
	}
	for _, id := range blocks {
		add(d.byBlock[id])
	}
	var out []Run
	for _, r := range d.runs(trips, from, to) {
		if r.Departs().Before(to) && (!r.Departs().Before(from) || r.Arrives().After(from)) {
			out = append(out, r)
		}
	}
	return out
}

// SkippedRuns is Scheduled less the runs that are not skipped.
func (d *Dispatcher) SkippedRuns(routes, blocks []string, from, to time.Time) []Run {
	if !d.Skipping() {
		return nil
	}
	var out []Run
	for _, r := range d.Scheduled(routes, blocks, from, to) {
		if d.Skipped(r) {
			out = append(out, r)
		}
	}
	return out
}
