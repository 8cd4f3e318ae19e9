package tracker

import (
	"fmt"
	"slices"
	"time"

	"github.com/headway-transit/headway/internal/wire"
)

// Saved is what the tracker keeps of a vehicle across a hub restart: which
// of its outbox's seqs it has seen, and its last live position. Without
// it, a restarted hub takes everything below the first seq it meets for
// seen, and the backlog a bus sends after the restart counts as duplicates.
type Saved struct {
	Low      uint64        `json:"low"`             // every seq at or below was seen
	Max      uint64        `json:"max"`             // the highest seen
	Above    []uint64      `json:"above,omitempty"` // seen above Low, ascending
	Pos      wire.Position `json:"pos"`             // the last live position
	LastSeen time.Time     `json:"last_seen"`
}

// Save returns what is to be kept of every vehicle that has sent a fix.
func (t *Tracker) Save() map[string]Saved {
	out := make(map[string]Saved, len(t.vehicles))
	for id, v := range t.vehicles {
		if !v.seen.init || v.Pos.Time.IsZero() {
			continue
		}
		s := Saved{Low: v.seen.low, Max: v.seen.max, Pos: v.Pos, LastSeen: v.LastSeen}
		for q := range v.seen.above {
			s.Above = append(s.Above, q)
		}
		slices.Sort(s.Above)
		out[id] = s
	}
	return out
}

// Restore puts back vehicles saved by Save, offline until they report. A
// vehicle the tracker already knows keeps what it has. Nothing is restored
// when any entry is impossible: the error names it.
func (t *Tracker) Restore(saved map[string]Saved) error {
	for id, s := range saved {
		if err := wire.ValidID("vehicle", id); err != nil {
			return fmt.Errorf("saved vehicles: %w", err)
		}
		if s.Pos.Vehicle != id {
			return fmt.Errorf("saved vehicle %q: position is of %q", id, s.Pos.Vehicle)
		}
		if err := s.Pos.Validate(); err != nil {
			return fmt.Errorf("saved vehicle %q: %w", id, err)
		}
		if s.Max < s.Low || len(s.Above) > maxAbove {
			return fmt.Errorf("saved vehicle %q: seqs low %d, max %d, %d above", id, s.Low, s.Max, len(s.Above))
		}
		for i, q := range s.Above {
			if q <= s.Low || q > s.Max || i > 0 && q <= s.Above[i-1] {
				return fmt.Errorf("saved vehicle %q: seq %d out of order or outside %d..%d", id, q, s.Low, s.Max)
			}
		}
	}
	for id, s := range saved {
		if t.vehicles[id] != nil {
			continue
		}
		v := t.vehicle(id)
		v.seen = seqSet{init: true, low: s.Low, max: s.Max, shared: t.cfg.Shared}
		if len(s.Above) > 0 {
			v.seen.above = make(map[uint64]struct{}, len(s.Above))
			for _, q := range s.Above {
				v.seen.above[q] = struct{}{}
			}
		}
		v.LastSeq, v.Pos, v.LastSeen = s.Max, s.Pos, s.LastSeen
	}
	return nil
}
