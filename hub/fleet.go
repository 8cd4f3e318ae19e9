package main

import (
	"encoding/json"
	"sort"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/headway-transit/headway/hub/internal/config"
	"github.com/headway-transit/headway/hub/internal/engine"
	"github.com/headway-transit/headway/hub/internal/push"
	"github.com/headway-transit/headway/internal/wire"
)

// fleet holds the versions the operators want the agents to run (hub.yaml
// fleet:), says them to the buses (retained on the fleet topic) and the
// signs (the WebSocket fleet message), and reports who runs another.
type fleet struct {
	mu     sync.Mutex
	wanted config.Fleet
	since  time.Time
}

// set takes w at now, and reports whether it changed.
func (f *fleet) set(w config.Fleet, now time.Time) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if w == f.wanted && !f.since.IsZero() {
		return false
	}
	f.wanted, f.since = w, now.UTC()
	return true
}

func (f *fleet) get() (config.Fleet, time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.wanted, f.since
}

// mqtt is the retained message for the buses; ws the signs' message.
func (f *fleet) mqtt() []byte {
	w, since := f.get()
	b, _ := json.Marshal(wire.Fleet{V: wire.Version, VehicleVersion: w.VehicleVersion, StationVersion: w.StationVersion, Time: since})
	return b
}

func (f *fleet) ws() []byte {
	w, since := f.get()
	b, _ := json.Marshal(wire.Fleet{Type: wire.TypeFleet, StationVersion: w.StationVersion, Time: since})
	return b
}

// fleetAgent is one agent in /api/fleet.
type fleetAgent struct {
	Role    string `json:"role"` // vehicle or station
	ID      string `json:"id"`
	Version string `json:"version"` // "" if it has not said
	Online  bool   `json:"online"`
}

// fleetRole counts one role's agents.
type fleetRole struct {
	Wanted  string `json:"wanted"`
	Total   int    `json:"total"`
	Current int    `json:"current"`
	Behind  int    `json:"behind"` // on another version, or none reported
}

// fleetReport is /api/fleet: what the operators want, and who is behind
// (every agent on another version, online first).
type fleetReport struct {
	Since    time.Time    `json:"since,omitzero"`
	Vehicles fleetRole    `json:"vehicles"`
	Stations fleetRole    `json:"stations"`
	Behind   []fleetAgent `json:"behind"`
}

func (f *fleet) report(vehicles []engine.VehicleView, displays []push.Display) fleetReport {
	w, since := f.get()
	r := fleetReport{Since: since, Vehicles: fleetRole{Wanted: w.VehicleVersion}, Stations: fleetRole{Wanted: w.StationVersion}, Behind: []fleetAgent{}}
	count := func(role *fleetRole, a fleetAgent) {
		role.Total++
		if role.Wanted == "" || a.Version == role.Wanted {
			role.Current++
			return
		}
		role.Behind++
		r.Behind = append(r.Behind, a)
	}
	for _, v := range vehicles {
		count(&r.Vehicles, fleetAgent{Role: "vehicle", ID: v.ID, Version: v.Version, Online: v.Online})
	}
	for _, d := range displays {
		count(&r.Stations, fleetAgent{Role: "station", ID: d.ID, Version: d.Version, Online: d.Connected})
	}
	sort.SliceStable(r.Behind, func(i, j int) bool {
		a, b := r.Behind[i], r.Behind[j]
		if a.Online != b.Online {
			return a.Online
		}
		if a.Role != b.Role {
			return a.Role < b.Role
		}
		return a.ID < b.ID
	})
	return r
}

// collector is headway_fleet_behind{role}, headway_fleet_agents{role}.
func (f *fleet) collector(vehicles func() []engine.VehicleView, displays func() []push.Display) prometheus.Collector {
	return &fleetCollector{f: f, vehicles: vehicles, displays: displays,
		behind: prometheus.NewDesc("headway_fleet_behind", "Agents not on the version hub.yaml fleet: wants (or not saying theirs), by role.", []string{"role"}, nil),
		agents: prometheus.NewDesc("headway_fleet_agents", "Agents the hub knows, by role.", []string{"role"}, nil),
	}
}

type fleetCollector struct {
	f              *fleet
	vehicles       func() []engine.VehicleView
	displays       func() []push.Display
	behind, agents *prometheus.Desc
}

func (c *fleetCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.behind; ch <- c.agents }
func (c *fleetCollector) Collect(ch chan<- prometheus.Metric) {
	r := c.f.report(c.vehicles(), c.displays())
	for role, n := range map[string]fleetRole{"vehicle": r.Vehicles, "station": r.Stations} {
		ch <- prometheus.MustNewConstMetric(c.behind, prometheus.GaugeValue, float64(n.Behind), role)
		ch <- prometheus.MustNewConstMetric(c.agents, prometheus.GaugeValue, float64(n.Total), role)
	}
}
