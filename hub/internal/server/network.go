package server

import (
	"maps"
	"math"
	"slices"
	"sync"

	"github.com/headway-transit/headway/internal/geo"
	"github.com/headway-transit/headway/internal/gtfs"
)

// Network is the schedule drawn on the dashboard's map (/api/network): each
// route's paths, the stops, and the bounds, built once from the GTFS feed.
type Network struct {
	Bounds [4]float64     `json:"bounds"` // min lat, min lon, max lat, max lon
	Routes []NetworkRoute `json:"routes"`
	Stops  []NetworkStop  `json:"stops"`
	// Tiles is an agency's tile server URL template, when hub.yaml gives
	// one ({z}/{x}/{y}); the map draws without it.
	Tiles string `json:"tiles,omitempty"`
}

// NetworkRoute is a route and its distinct paths, each a list of
// [lat, lon] with points closer than pathStep to the last kept left out.
type NetworkRoute struct {
	ID        string         `json:"id"`
	ShortName string         `json:"short_name"`
	Color     string         `json:"color"` // #rrggbb
	TextColor string         `json:"text_color"`
	Paths     [][][2]float64 `json:"paths"`
}

// NetworkStop is a stop where passengers board.
type NetworkStop struct {
	ID   string  `json:"id"`
	Name string  `json:"name"`
	Lat  float64 `json:"lat"`
	Lon  float64 `json:"lon"`
}

// pathStep is the least distance between two kept points of a path: fine
// enough for a city-wide map, a few hundred points a route.
const pathStep = 40 // metres

func buildNetwork(feed *gtfs.Feed, tiles string) *Network {
	n := &Network{Tiles: tiles, Bounds: [4]float64{90, 180, -90, -180}}
	grow := func(p geo.Point) {
		n.Bounds[0], n.Bounds[1] = math.Min(n.Bounds[0], p.Lat), math.Min(n.Bounds[1], p.Lon)
		n.Bounds[2], n.Bounds[3] = math.Max(n.Bounds[2], p.Lat), math.Max(n.Bounds[3], p.Lon)
	}
	paths := map[string]map[*geo.Polyline]bool{}
	served := map[string]bool{}
	for _, tr := range feed.Trips {
		if tr.Path != nil {
			if paths[tr.RouteID] == nil {
				paths[tr.RouteID] = map[*geo.Polyline]bool{}
			}
			paths[tr.RouteID][tr.Path] = true
		}
		for _, st := range tr.StopTimes {
			served[st.StopID] = true
		}
	}
	for _, id := range slices.Sorted(maps.Keys(feed.Routes)) {
		r := feed.Routes[id]
		nr := NetworkRoute{ID: id, ShortName: r.ShortName, Color: "#" + colorOr(r.Color, "0057b8"), TextColor: "#" + colorOr(r.TextColor, "ffffff")}
		for pl := range paths[id] {
			var kept [][2]float64
			var last geo.Point
			pts := pl.Points()
			for i, p := range pts {
				if i == 0 || i == len(pts)-1 || geo.Distance(last, p) >= pathStep {
					kept = append(kept, [2]float64{round5(p.Lat), round5(p.Lon)})
					last = p
					grow(p)
				}
			}
			nr.Paths = append(nr.Paths, kept)
		}
		slices.SortFunc(nr.Paths, func(a, b [][2]float64) int { return len(b) - len(a) })
		n.Routes = append(n.Routes, nr)
	}
	for _, id := range slices.Sorted(maps.Keys(feed.Stops)) {
		s := feed.Stops[id]
		if !served[id] {
			continue // a station or entrance: nobody boards there
		}
		n.Stops = append(n.Stops, NetworkStop{ID: id, Name: s.Name, Lat: round5(s.Lat), Lon: round5(s.Lon)})
		grow(geo.Point{Lat: s.Lat, Lon: s.Lon})
	}
	return n
}

func round5(v float64) float64 { return math.Round(v*1e5) / 1e5 }

// colorOr is a GTFS colour (six hex digits) or def.
func colorOr(c, def string) string {
	if len(c) != 6 {
		return def
	}
	for _, r := range c {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'f' || r >= 'A' && r <= 'F') {
			return def
		}
	}
	return c
}

// networkOnce builds the network on first use.
type networkOnce struct {
	once sync.Once
	n    *Network
}

func (o *networkOnce) get(feed *gtfs.Feed, tiles string) *Network {
	o.once.Do(func() { o.n = buildNetwork(feed, tiles) })
	return o.n
}
