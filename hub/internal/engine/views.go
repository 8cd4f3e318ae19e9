package engine

import (
	"sort"
	"time"

	"github.com/headway-transit/headway/hub/internal/tracker"
)

// VehicleView is a vehicle as the HTTP API shows it.
type VehicleView struct {
	ID         string    `json:"vehicle"`
	Online     bool      `json:"online"`
	Version    string    `json:"version,omitempty"` // the agent's, from its status
	LastSeen   time.Time `json:"last_seen"`
	FixTime    time.Time `json:"fix_time,omitzero"`
	Lat        float64   `json:"lat"`
	Lon        float64   `json:"lon"`
	Speed      *float64  `json:"speed,omitempty"`
	Seq        uint64    `json:"seq"`
	Trip       string    `json:"trip,omitempty"`
	Route      string    `json:"route,omitempty"`
	TripSource string    `json:"trip_source,omitempty"`
	DistM      float64   `json:"dist_m"`
	DelayS     float64   `json:"delay_s"`
	Accepted   uint64    `json:"accepted"`
	Duplicates uint64    `json:"duplicates"`
	Gaps       uint64    `json:"gaps"`
	Missing    uint64    `json:"missing"`
	Holes      []uint64  `json:"holes,omitempty"` // the lowest missing seqs, up to 8
	FirstSeq   uint64    `json:"first_seq"`       // where this hub's count of seqs starts
	Backfill   uint64    `json:"backfill"`
	Late       uint64    `json:"late"`
	Resets     uint64    `json:"resets"`
	OffRoute   uint64    `json:"off_route"`
	Rejected   uint64    `json:"rejected"`
	// LayingOver: waiting at its trip's first stop to run it.
	LayingOver bool `json:"laying_over,omitempty"`
}

// viewOf is v's row; call it from the engine's goroutine.
func (e *Engine) viewOf(v *tracker.Vehicle) VehicleView {
	vv := VehicleView{
		ID: v.ID, Online: v.Online, Version: v.Version, LastSeen: v.LastSeen.UTC(), FixTime: v.Pos.Time,
		Lat: v.Pos.Lat, Lon: v.Pos.Lon, Speed: v.Pos.Speed, Seq: v.LastSeq,
		Accepted: v.Accepted, Duplicates: v.Duplicates, Gaps: v.Gaps, Missing: v.Missing(), Holes: v.Holes(8), FirstSeq: v.FirstSeq(), Backfill: v.Backfill,
		Late: v.Late, Resets: v.Resets, OffRoute: v.OffRoute, Rejected: v.Rejected,
	}
	if v.Trip != nil {
		vv.Trip, vv.Route, vv.TripSource = v.Trip.ID, v.Trip.RouteID, v.TripSource
		vv.DistM, vv.DelayS = v.Dist, v.Delay.Seconds()
		vv.LayingOver = e.layover[v.ID]
	}
	return vv
}

// snapshotVehicles rebuilds the whole view of the vehicles.
func (e *Engine) snapshotVehicles() {
	vs := e.tracker.Vehicles()
	out := make(map[string]VehicleView, len(vs))
	for _, v := range vs {
		out[v.ID] = e.viewOf(v)
	}
	e.mu.Lock()
	e.views = out
	e.mu.Unlock()
}

// updateView brings one vehicle's row up to date: what a fix costs the
// view, whatever the fleet.
func (e *Engine) updateView(id string) {
	v := e.tracker.Vehicle(id)
	if v == nil {
		return
	}
	vv := e.viewOf(v)
	e.mu.Lock()
	if e.views == nil {
		e.views = map[string]VehicleView{}
	}
	e.views[id] = vv
	e.mu.Unlock()
}

// Vehicles returns the latest view of every vehicle, by id.
func (e *Engine) Vehicles() []VehicleView {
	e.mu.RLock()
	out := make([]VehicleView, 0, len(e.views))
	for _, v := range e.views {
		out = append(out, v)
	}
	e.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// LastFixAt is when the hub last accepted a live fix.
func (e *Engine) LastFixAt() time.Time {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return e.lastFixAt
}
