//go:build ignore

// Command gen writes the demo GTFS feed of Headway Bay, an invented city, into
// this folder. Run it from the repository root:
//
//	go run ./configs/demo-feed/gen.go
//
// The output is deterministic, so regenerating an unchanged generator changes
// no file.
package main

import (
	"bytes"
	"encoding/csv"
	"flag"
	"fmt"
	"log"
	"math"
	"os"
	"path/filepath"
	"strconv"

	"github.com/headway-transit/headway/internal/geo"
)

// centre is Central Station, the hub every route serves.
var centre = geo.Point{Lat: 44.4050, Lon: 8.9000}

const (
	timezone   = "Europe/Rome"
	serviceID  = "DAILY"
	headway    = 10 * 60  // seconds between trips, round the clock
	cruise     = 30 / 3.6 // m/s between stops; with dwell the average is ~21 km/h
	layover    = 5 * 60   // minimum seconds at a terminal before turning back
	sideOffset = 8.0      // metres from the street centreline to a kerbside stop
	minSpacing = 300.0
	maxSpacing = 600.0
)

// xy is a position in metres east and north of centre.
type xy struct{ x, y float64 }

type stopName struct{ code, name string }

// route is one line: its street, drawn through waypoints (one of them
// Central Station at 0,0), and the names of the stops along it from the
// direction 0 terminal.
type route struct {
	id, short, long, color, text string
	waypoints                    []xy
	first, last                  stopName   // terminals
	before, after                []stopName // intermediate stops either side of Central Station
}

var central = stopName{"CEN", "Central Station"}

var routes = []route{
	{
		id: "1", short: "1", long: "Harbour – University", color: "0B6E99", text: "FFFFFF",
		waypoints: []xy{{-1500, -1900}, {-1200, -1300}, {-700, -900}, {-300, -450}, {0, 0}, {400, 350}, {700, 900}, {1200, 1300}, {1500, 1900}, {1900, 2300}},
		first:     stopName{"HAR", "Harbour Gate"},
		last:      stopName{"UNI", "University"},
		before:    []stopName{{"FSH", "Fish Market"}, {"CUS", "Customs House"}, {"ROP", "Rope Walk"}, {"SAL", "Salt Square"}, {"ANC", "Anchor Lane"}, {"MER", "Merchants' Row"}, {"TID", "Tide Street"}, {"NET", "Net Makers"}},
		after:     []stopName{{"CAT", "Cathedral"}, {"BOT", "Botanic Garden"}, {"OBS", "Observatory Road"}, {"LIB", "Library"}, {"HIL", "Hillcrest"}, {"CHA", "Chapel Steps"}, {"PIN", "Pine Avenue"}, {"LAB", "Science Park"}},
	},
	{
		id: "2", short: "2", long: "Old Town – Lighthouse", color: "C8102E", text: "FFFFFF",
		waypoints: []xy{{2200, -600}, {1700, -300}, {1200, -450}, {700, -200}, {300, -150}, {0, 0}, {-400, -100}, {-800, -400}, {-1300, -500}, {-1800, -800}, {-2300, -900}},
		first:     stopName{"OLD", "Old Town"},
		last:      stopName{"LHS", "Lighthouse"},
		before:    []stopName{{"CLK", "Clock Tower"}, {"WEL", "Old Well"}, {"GLD", "Guildhall"}, {"MKT", "Market Hall"}, {"THR", "Theatre"}, {"FNT", "Fountain Square"}, {"BRI", "Bridge Street"}, {"TAN", "Tanners"}},
		after:     []stopName{{"POS", "Post Office"}, {"BAT", "Baths"}, {"PRM", "Promenade"}, {"GUL", "Gull Point"}, {"DUN", "Dunes"}, {"COV", "Smugglers' Cove"}, {"SEA", "Sea Wall"}, {"BEA", "Beacon Road"}},
	},
	{
		id: "3", short: "3", long: "Airport – Central Station", color: "F2A900", text: "000000",
		waypoints: []xy{{-3500, 2000}, {-2900, 1700}, {-2300, 1500}, {-1800, 1100}, {-1200, 900}, {-700, 500}, {-300, 250}, {0, 0}},
		first:     stopName{"AIR", "Airport"},
		last:      central,
		before:    []stopName{{"CAR", "Car Hire"}, {"CRG", "Cargo Terminal"}, {"FLD", "Airfield Road"}, {"WIN", "Windmill"}, {"ORC", "Orchards"}, {"KIL", "Kiln Lane"}, {"TRA", "Tram Depot"}, {"VIA", "Viaduct"}, {"MIL", "Mill Race"}, {"GAS", "Gasworks"}},
	},
}

func main() {
	out := flag.String("out", "configs/demo-feed", "folder to write the feed into")
	flag.Parse()
	if err := run(*out); err != nil {
		log.Fatal(err)
	}
}

// feed holds the rows of each file.
type feed struct {
	stops                    [][]string
	seenStop                 map[string]bool
	routes, trips, stopTimes [][]string
	shapes                   [][]string
}

func run(out string) error {
	f := &feed{seenStop: map[string]bool{}}
	for _, r := range routes {
		if err := f.addRoute(r); err != nil {
			return fmt.Errorf("route %s: %w", r.id, err)
		}
	}
	files := []struct {
		name string
		rows [][]string
	}{
		{"agency.txt", [][]string{
			{"agency_id", "agency_name", "agency_url", "agency_timezone", "agency_lang"},
			{"HBT", "Headway Bay Transit", "https://headway-bay.example/", timezone, "en"},
		}},
		{"feed_info.txt", [][]string{
			{"feed_publisher_name", "feed_publisher_url", "feed_lang", "feed_start_date", "feed_end_date", "feed_version"},
			{"Headway demo", "https://headway-bay.example/", "en", "20240101", "20991231", "1"},
		}},
		{"calendar.txt", [][]string{
			{"service_id", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "start_date", "end_date"},
			{serviceID, "1", "1", "1", "1", "1", "1", "1", "20240101", "20991231"},
		}},
		{"stops.txt", append([][]string{{"stop_id", "stop_code", "stop_name", "stop_lat", "stop_lon", "location_type"}}, f.stops...)},
		{"routes.txt", append([][]string{{"route_id", "agency_id", "route_short_name", "route_long_name", "route_type", "route_color", "route_text_color"}}, f.routes...)},
		{"trips.txt", append([][]string{{"route_id", "service_id", "trip_id", "trip_headsign", "direction_id", "block_id", "shape_id"}}, f.trips...)},
		{"stop_times.txt", append([][]string{{"trip_id", "arrival_time", "departure_time", "stop_id", "stop_sequence", "shape_dist_traveled"}}, f.stopTimes...)},
		{"shapes.txt", append([][]string{{"shape_id", "shape_pt_lat", "shape_pt_lon", "shape_pt_sequence", "shape_dist_traveled"}}, f.shapes...)},
	}
	for _, file := range files {
		var buf bytes.Buffer
		w := csv.NewWriter(&buf)
		if err := w.WriteAll(file.rows); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(out, file.name), buf.Bytes(), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// toPoint converts metres from centre to a position.
func toPoint(p xy) geo.Point {
	const m = geo.EarthRadius * math.Pi / 180 // metres per degree of latitude
	return geo.Point{Lat: centre.Lat + p.y/m, Lon: centre.Lon + p.x/(m*math.Cos(centre.Lat*math.Pi/180))}
}

// street draws a curvy street through the waypoints: a Catmull-Rom spline
// (which passes through every waypoint) sampled about every 30 m, with a
// gentle sideways wander so that no stretch is ruler-straight. It returns the
// vertices and the index of each waypoint among them.
func street(wps []xy) ([]xy, []int) {
	pts := []xy{wps[0]}
	idx := []int{0}
	at := func(i int) xy { return wps[max(0, min(len(wps)-1, i))] }
	for i := 0; i+1 < len(wps); i++ {
		p0, p1, p2, p3 := at(i-1), at(i), at(i+1), at(i+2)
		n := int(math.Ceil(math.Hypot(p2.x-p1.x, p2.y-p1.y) / 30))
		dx, dy := p2.x-p1.x, p2.y-p1.y
		l := math.Hypot(dx, dy)
		nx, ny := -dy/l, dx/l // unit normal
		for k := 1; k <= n; k++ {
			t := float64(k) / float64(n)
			t2, t3 := t*t, t*t*t
			c := func(a, b, c, d float64) float64 {
				return 0.5 * (2*b + (-a+c)*t + (2*a-5*b+4*c-d)*t2 + (-a+3*b-3*c+d)*t3)
			}
			wander := 25 * math.Sin(math.Pi*t) * math.Sin(float64(3*i+2)*t)
			pts = append(pts, xy{c(p0.x, p1.x, p2.x, p3.x) + wander*nx, c(p0.y, p1.y, p2.y, p3.y) + wander*ny})
		}
		idx = append(idx, len(pts)-1)
	}
	return pts, idx
}

// placedStop is a stop at a distance along the direction 0 street.
type placedStop struct {
	stopName
	dist     float64
	terminal bool // shared by both directions, on the centreline
}

func (f *feed) addRoute(r route) error {
	local, wpIdx := street(r.waypoints)
	pts := make([]geo.Point, len(local))
	cenWP := -1
	for i, p := range local {
		pts[i] = toPoint(p)
	}
	for i, w := range r.waypoints {
		if w == (xy{}) {
			cenWP = i
		}
	}
	if cenWP < 0 {
		return fmt.Errorf("no waypoint at Central Station")
	}
	pl, err := geo.NewPolyline(pts)
	if err != nil {
		return err
	}
	cenDist := pl.VertexDist(wpIdx[cenWP])
	stops := []placedStop{{stopName: r.first, terminal: true}}
	halves := []struct {
		from, to float64
		names    []stopName
		end      stopName
	}{{0, cenDist, r.before, central}, {cenDist, pl.Length(), r.after, r.last}}
	for _, h := range halves {
		span := h.to - h.from
		if span <= 0 {
			continue
		}
		n := int(math.Round(span / 450))
		gap := span / float64(n)
		if gap < minSpacing || gap > maxSpacing {
			return fmt.Errorf("stop spacing %.0f m out of range", gap)
		}
		if n-1 > len(h.names) {
			return fmt.Errorf("need %d stop names, have %d", n-1, len(h.names))
		}
		for k := 1; k < n; k++ {
			stops = append(stops, placedStop{stopName: h.names[k-1], dist: h.from + float64(k)*gap})
		}
		stops = append(stops, placedStop{stopName: h.end, dist: h.to, terminal: true})
	}
	if len(stops) < 8 || len(stops) > 14 {
		return fmt.Errorf("%d stops, want 8 to 14", len(stops))
	}
	f.routes = append(f.routes, []string{r.id, "HBT", r.short, r.long, "3", r.color, r.text})

	length := pl.Length()
	var runTimes [2]int
	var dirStops [2][]string
	var dirDists [2][]float64
	for dir := 0; dir < 2; dir++ {
		shapeID := fmt.Sprintf("%s-%d", r.id, dir)
		for i := range pts {
			j, d := i, pl.VertexDist(i)
			if dir == 1 {
				j, d = len(pts)-1-i, length-pl.VertexDist(len(pts)-1-i)
			}
			f.shapes = append(f.shapes, []string{shapeID, coord(pts[j].Lat), coord(pts[j].Lon), strconv.Itoa(i + 1), metres(d)})
		}
		for i := range stops {
			s := stops[i]
			d := s.dist
			if dir == 1 {
				s = stops[len(stops)-1-i]
				d = length - s.dist
			}
			id := s.code
			p, bearing := pl.At(s.dist)
			if !s.terminal {
				// Kerbside: right of the direction of travel, each
				// direction with its own pole.
				id = fmt.Sprintf("%s%d", s.code, dir+1)
				side := bearing + 90
				if dir == 1 {
					side = bearing - 90
				}
				p = geo.Offset(p, side, sideOffset)
			}
			if !f.seenStop[id] {
				f.seenStop[id] = true
				code := strconv.Itoa(1000 + len(f.stops) + 1)
				f.stops = append(f.stops, []string{id, code, s.name, coord(p.Lat), coord(p.Lon), "0"})
			}
			dirStops[dir] = append(dirStops[dir], id)
			dirDists[dir] = append(dirDists[dir], d)
		}
		runTimes[dir] = schedule(dirDists[dir], nil)
	}
	// A bus runs out and back: the direction 1 trip a bus makes leaves
	// the first 10-minute slot after its direction 0 trip arrives and lays
	// over; a block is one bus's day.
	turn := [2]int{ceilTo(runTimes[0]+layover, headway), ceilTo(runTimes[1]+layover, headway)}
	buses := (turn[0] + turn[1]) / headway
	for dir := 0; dir < 2; dir++ {
		headsign := stops[len(stops)-1].name
		if dir == 1 {
			headsign = stops[0].name
		}
		for start := 0; start < 24*3600; start += headway {
			tripID := fmt.Sprintf("%s-%d-%s", r.id, dir, hhmm(start))
			slot := start / headway
			if dir == 1 {
				slot = (start - turn[0]) / headway
				if start < turn[0] {
					slot = (start - turn[0] + 24*3600) / headway
				}
			}
			block := fmt.Sprintf("%s-bus%02d", r.id, slot%buses+1)
			f.trips = append(f.trips, []string{r.id, serviceID, tripID, headsign, strconv.Itoa(dir), block, fmt.Sprintf("%s-%d", r.id, dir)})
			schedule(dirDists[dir], func(i, arr, dep int) {
				f.stopTimes = append(f.stopTimes, []string{tripID, gtfsTime(start + arr), gtfsTime(start + dep), dirStops[dir][i], strconv.Itoa(i + 1), metres(dirDists[dir][i])})
			})
		}
	}
	return nil
}

// schedule times a trip over stops at dists, calling emit (if not nil) with
// each stop's arrival and departure offset, and returns the run time.
func schedule(dists []float64, emit func(i, arr, dep int)) int {
	t := 0.0
	for i := range dists {
		arr := int(math.Round(t))
		dep := arr
		if i > 0 && i < len(dists)-1 {
			dep = arr + 20 + (i*7)%11 // dwell 20-30 s
		}
		if emit != nil {
			emit(i, arr, dep)
		}
		if i+1 < len(dists) {
			t = float64(dep) + (dists[i+1]-dists[i])/cruise
		}
	}
	return int(math.Round(t))
}

func ceilTo(x, step int) int { return (x + step - 1) / step * step }

func hhmm(s int) string       { return fmt.Sprintf("%02d%02d", s/3600, s/60%60) }
func gtfsTime(s int) string   { return fmt.Sprintf("%02d:%02d:%02d", s/3600, s/60%60, s%60) }
func coord(x float64) string  { return strconv.FormatFloat(x, 'f', 6, 64) }
func metres(d float64) string { return strconv.FormatFloat(d, 'f', 1, 64) }
