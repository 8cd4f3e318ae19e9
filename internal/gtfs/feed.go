package gtfs

import (
	"archive/zip"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	// Signs and hubs run on small Linux images that may lack a zoneinfo
	// database; a feed's agency_timezone must resolve regardless.
	_ "time/tzdata"

	"github.com/headway-transit/headway/internal/geo"
)

// Feed is a loaded, checked GTFS schedule.
type Feed struct {
	Agencies []Agency
	Location *time.Location // agency_timezone, which all agencies share
	Stops    map[string]*Stop
	Routes   map[string]*Route
	Trips    map[string]*Trip
	Shapes   map[string]*Shape
	Services map[string]*Service
	// Templates are the trips of frequencies.txt, by trip_id. They are not
	// in Trips: their runs are (see Trip.Template).
	Templates map[string]*Trip
	Warnings  []string // problems worked around, each naming file:line

	calls map[string][]Call
}

// Agency is a row of agency.txt.
type Agency struct{ ID, Name, URL, Timezone string }

// Stop is a row of stops.txt.
type Stop struct {
	ID, Code, Name string
	Lat, Lon       float64
	ParentStation  string
	LocationType   int // 0 stop, 1 station, 2 entrance, 3 generic node, 4 boarding area
}

// Point returns the stop's position.
func (s *Stop) Point() geo.Point { return geo.Point{Lat: s.Lat, Lon: s.Lon} }

// Route is a row of routes.txt.
type Route struct {
	ID, AgencyID, ShortName, LongName string
	Type                              int
	Color, TextColor                  string
}

// Trip is a row of trips.txt with its stop times and path.
type Trip struct {
	ID, RouteID, ServiceID, Headsign, ShortName, BlockID, ShapeID string
	DirectionID                                                   int
	Route                                                         *Route
	StopTimes                                                     []StopTime // sorted by Sequence
	// Path is the trip's shape, or straight lines between its stops when
	// it has none. Trips with the same shape share one Path.
	Path *geo.Polyline

	// A trip of frequencies.txt is a template, kept in Feed.Templates, with
	// its Frequencies and Runs. Each run is a trip of its own in
	// Feed.Trips, with ID "<trip_id>@HH:MM:SS" (its first departure, see
	// RunID), the template's stop times shifted to start then, Template
	// pointing back and Frequency the window it runs in. Scheduled trips
	// have none of these.
	Frequencies []Frequency
	Runs        []*Trip // by first departure
	Template    *Trip
	Frequency   *Frequency
}

// StopTime is a row of stop_times.txt, completed: times of non-timepoint
// stops are interpolated, and Dist places the stop along Trip.Path.
type StopTime struct {
	StopID   string
	Stop     *Stop
	Sequence int
	// Arrival and Departure are seconds since the start of the service day
	// (see Feed.ServiceDayStart); they may exceed 24 hours.
	Arrival, Departure int
	Headsign           string
	// Dist is metres along Trip.Path, non-decreasing along the trip.
	Dist float64
	// Timepoint is false when the feed gave no times for this stop and
	// Arrival and Departure were interpolated.
	Timepoint bool
}

// Shape is a trip shape from shapes.txt.
type Shape struct {
	ID   string
	Path *geo.Polyline
}

// Frequency is a row of frequencies.txt: the trip runs every HeadwaySecs
// from Start until before End (seconds since the start of the service day),
// its stop times serving as a template relative to its first departure.
// Without ExactTimes the runs' times are nominal: the operator keeps the
// headway, not the clock.
type Frequency struct {
	Start, End  int
	HeadwaySecs int
	ExactTimes  bool
}

// Call is one trip's call at a stop: Trip.StopTimes[Index].
type Call struct {
	Trip  *Trip
	Index int
}

// Calls returns the trips calling at stopID, ordered by departure time
// within the service day. The caller must not modify the slice.
func (f *Feed) Calls(stopID string) []Call { return f.calls[stopID] }

// Options change how a feed loads. The zero value is what Load uses.
type Options struct {
	// Progress, when set, is called as files are read: after every
	// million rows of a large file and once when a file is done.
	Progress func(Progress)
}

// Progress reports how far reading one file of a feed has got.
type Progress struct {
	File    string
	Rows    int           // rows read so far
	Elapsed time.Duration // since the file was opened
	Done    bool          // the whole file is read
}

// Load reads the GTFS feed at path, a .zip file or a directory.
func Load(path string) (*Feed, error) {
	return LoadWith(context.Background(), path, Options{})
}

// LoadWith is Load with options. It stops with ctx's error, between files,
// when ctx is done.
func LoadWith(ctx context.Context, path string, o Options) (*Feed, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("load gtfs: %w", err)
	}
	if fi.IsDir() {
		if err := zipInstead(path); err != nil {
			return nil, err
		}
		f, err := loadFS(ctx, os.DirFS(path), o)
		if err != nil {
			return nil, fmt.Errorf("load gtfs %s: %w", path, err)
		}
		return f, nil
	}
	zr, err := zip.OpenReader(path)
	if err != nil {
		return nil, fmt.Errorf("load gtfs %s: %w (want a .zip file or a directory)", path, err)
	}
	defer zr.Close()
	f, err := loadFS(ctx, zr, o)
	if err != nil {
		return nil, fmt.Errorf("load gtfs %s: %w", path, err)
	}
	return f, nil
}

// zipInstead reports a folder that holds no feed but a zipped one, as a
// download unpacked one level short leaves it: a missing agency.txt would
// not tell the user what to do.
func zipInstead(dir string) error {
	fsys := os.DirFS(dir)
	if root, err := feedRoot(fsys); err != nil {
		return nil
	} else if _, err := fs.Stat(root, "agency.txt"); err == nil {
		return nil
	}
	zips, err := fs.Glob(fsys, "*.zip")
	switch {
	case err != nil || len(zips) == 0:
		return nil
	case len(zips) == 1:
		return fmt.Errorf("load gtfs %s: no agency.txt here, but %s is: point gtfs: at the zip, %s", dir, zips[0], filepath.Join(dir, zips[0]))
	}
	return fmt.Errorf("load gtfs %s: no agency.txt here, but %s are: point gtfs: at the feed's zip", dir, strings.Join(zips, ", "))
}

// LoadFS reads a GTFS feed whose files are at the root of fsys, or in the
// one folder that holds agency.txt when the root does not (as some zipped
// feeds are packed).
func LoadFS(fsys fs.FS) (*Feed, error) {
	return loadFS(context.Background(), fsys, Options{})
}

func loadFS(ctx context.Context, fsys fs.FS, o Options) (*Feed, error) {
	fsys, err := feedRoot(fsys)
	if err != nil {
		return nil, err
	}
	l := &loader{fsys: fsys, feed: &Feed{}, progress: o.Progress}
	steps := []func() error{
		l.loadAgencies, l.loadStops, l.loadRoutes, l.loadServices, l.loadShapes,
		l.loadTrips, l.loadStopTimes, l.loadFrequencies, l.expandFrequencies,
	}
	for _, step := range steps {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if err := step(); err != nil {
			l.add(err)
		}
		// Later files refer to earlier ones: checking them against a
		// broken table would only repeat its errors.
		if l.failed() {
			return nil, l.err()
		}
	}
	l.buildCalls()
	l.feed.Warnings = l.allWarnings()
	return l.feed, nil
}

func feedRoot(fsys fs.FS) (fs.FS, error) {
	if _, err := fs.Stat(fsys, "agency.txt"); err == nil {
		return fsys, nil
	}
	var dirs []string
	_ = fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if d.IsDir() && p != "." && path.Base(p) == "__MACOSX" {
			return fs.SkipDir
		}
		if !d.IsDir() && path.Base(p) == "agency.txt" {
			dirs = append(dirs, path.Dir(p))
		}
		return nil
	})
	if len(dirs) != 1 {
		// Report the file the caller will look for first.
		return fsys, nil
	}
	return fs.Sub(fsys, dirs[0])
}

type loader struct {
	fsys fs.FS
	feed *Feed
	problems
	// shapeDistScale is metres per unit of shapes.txt's shape_dist_traveled,
	// per shape, when the shape has it.
	shapeDistScale map[string]float64
	tripLines      map[string]int // trips.txt line of each trip
	progress       func(Progress)
}

func (l *loader) err() error {
	errs := l.errs
	if l.moreErrs > 0 {
		errs = append(errs[:len(errs):len(errs)], fmt.Errorf("... and %d more errors", l.moreErrs))
	}
	return &FeedError{Errors: errs, Warnings: l.allWarnings()}
}

func (l *loader) allWarnings() []string {
	ws := l.warnings
	if l.moreWarns > 0 {
		ws = append(ws[:len(ws):len(ws)], fmt.Sprintf("... and %d more warnings", l.moreWarns))
	}
	return ws
}

// open opens a required file.
func (l *loader) open(name string, required ...string) (*table, error) {
	t, err := l.openTable(name, required...)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, &ParseError{File: name, Err: errors.New("missing: a GTFS feed must have this file")}
	}
	return t, err
}

// each calls row for every row of t, then closes it.
func each(t *table, row func()) error {
	defer t.close()
	for {
		ok, err := t.next()
		if err != nil || !ok {
			return err
		}
		row()
	}
}

// optInt parses an optional integer column, defaulting to def.
func (l *loader) optInt(t *table, col string, def int) int {
	v := t.get(col)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		l.add(t.fieldError(col, v, "want an integer"))
		return def
	}
	return n
}

func (l *loader) loadAgencies() error {
	t, err := l.open("agency.txt", "agency_name", "agency_timezone")
	if err != nil {
		return err
	}
	var first int
	err = each(t, func() {
		a := Agency{ID: t.id("agency_id"), Name: t.id("agency_name"), URL: t.id("agency_url"), Timezone: t.id("agency_timezone")}
		if l.feed.Location == nil {
			loc, err := time.LoadLocation(a.Timezone)
			if err != nil || a.Timezone == "" {
				l.add(t.fieldError("agency_timezone", a.Timezone, "not a time zone name (want e.g. Europe/Rome)"))
				return
			}
			l.feed.Location, first = loc, t.line
		} else if a.Timezone != l.feed.Agencies[0].Timezone {
			l.add(t.fieldError("agency_timezone", a.Timezone, "differs from %s on line %d: all agencies of a feed must share one time zone", l.feed.Agencies[0].Timezone, first))
		}
		l.feed.Agencies = append(l.feed.Agencies, a)
	})
	if err == nil && len(l.feed.Agencies) == 0 && !l.failed() {
		err = &ParseError{File: "agency.txt", Err: errors.New("no agencies")}
	}
	return err
}

func (l *loader) loadStops() error {
	t, err := l.open("stops.txt", "stop_id")
	if err != nil {
		return err
	}
	l.feed.Stops = map[string]*Stop{}
	lines := map[string]int{}
	err = each(t, func() {
		s := &Stop{ID: t.id("stop_id"), Code: t.id("stop_code"), Name: t.id("stop_name"), ParentStation: t.id("parent_station")}
		if s.ID == "" {
			l.add(t.fieldError("stop_id", "", "empty"))
			return
		}
		if prev, dup := lines[s.ID]; dup {
			l.add(t.fieldError("stop_id", s.ID, "already defined on line %d", prev))
			return
		}
		s.LocationType = l.optInt(t, "location_type", 0)
		// Generic nodes and boarding areas may leave out their position.
		needPos := s.LocationType <= 2
		for _, c := range []struct {
			col      string
			dst      *float64
			min, max float64
		}{{"stop_lat", &s.Lat, -90, 90}, {"stop_lon", &s.Lon, -180, 180}} {
			v := t.get(c.col)
			if v == "" && !needPos {
				continue
			}
			x, err := strconv.ParseFloat(v, 64)
			if err != nil || x < c.min || x > c.max {
				l.add(t.fieldError(c.col, v, "want degrees between %v and %v", c.min, c.max))
			}
			*c.dst = x
		}
		lines[s.ID] = t.line
		l.feed.Stops[s.ID] = s
	})
	for _, s := range l.feed.Stops {
		if s.ParentStation != "" && l.feed.Stops[s.ParentStation] == nil {
			l.warnf("stops.txt", lines[s.ID], "parent_station %q of stop %s is not in stops.txt", s.ParentStation, s.ID)
		}
	}
	return err
}

func (l *loader) loadRoutes() error {
	t, err := l.open("routes.txt", "route_id", "route_type")
	if err != nil {
		return err
	}
	l.feed.Routes = map[string]*Route{}
	agencies := map[string]bool{}
	for _, a := range l.feed.Agencies {
		agencies[a.ID] = true
	}
	return each(t, func() {
		r := &Route{
			ID: t.id("route_id"), AgencyID: t.id("agency_id"),
			ShortName: t.id("route_short_name"), LongName: t.id("route_long_name"),
			Color: t.id("route_color"), TextColor: t.id("route_text_color"),
		}
		if r.ID == "" {
			l.add(t.fieldError("route_id", "", "empty"))
			return
		}
		if _, dup := l.feed.Routes[r.ID]; dup {
			l.add(t.fieldError("route_id", r.ID, "defined twice"))
			return
		}
		if v := t.get("route_type"); v == "" {
			l.add(t.fieldError("route_type", v, "empty"))
		} else {
			r.Type = l.optInt(t, "route_type", 3)
		}
		if r.AgencyID != "" && !agencies[r.AgencyID] {
			l.warnf(t.file, t.line, "agency_id %q is not in agency.txt", r.AgencyID)
		}
		if r.ShortName == "" && r.LongName == "" {
			l.warnf(t.file, t.line, "route %s has neither route_short_name nor route_long_name", r.ID)
		}
		l.feed.Routes[r.ID] = r
	})
}

func (l *loader) loadShapes() error {
	l.feed.Shapes = map[string]*Shape{}
	l.shapeDistScale = map[string]float64{}
	t, err := l.openTable("shapes.txt", "shape_id", "shape_pt_lat", "shape_pt_lon", "shape_pt_sequence")
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	type vertex struct {
		seq  int
		pt   geo.Point
		dist float64 // NaN when absent
	}
	shapes := map[string][]vertex{}
	lines := map[string]int{}
	err = each(t, func() {
		id := t.get("shape_id")
		if id == "" {
			l.add(t.fieldError("shape_id", "", "empty"))
			return
		}
		var v vertex
		var err error
		if v.pt.Lat, err = strconv.ParseFloat(t.get("shape_pt_lat"), 64); err != nil || v.pt.Lat < -90 || v.pt.Lat > 90 {
			l.add(t.fieldError("shape_pt_lat", t.get("shape_pt_lat"), "want degrees between -90 and 90"))
			return
		}
		if v.pt.Lon, err = strconv.ParseFloat(t.get("shape_pt_lon"), 64); err != nil || v.pt.Lon < -180 || v.pt.Lon > 180 {
			l.add(t.fieldError("shape_pt_lon", t.get("shape_pt_lon"), "want degrees between -180 and 180"))
			return
		}
		if v.seq, err = strconv.Atoi(t.get("shape_pt_sequence")); err != nil || v.seq < 0 {
			l.add(t.fieldError("shape_pt_sequence", t.get("shape_pt_sequence"), "want a non-negative integer"))
			return
		}
		v.dist = nan
		if s := t.get("shape_dist_traveled"); s != "" {
			if v.dist, err = strconv.ParseFloat(s, 64); err != nil || v.dist < 0 {
				l.warnf(t.file, t.line, "shape_dist_traveled %q: want a non-negative number; ignored", s)
				v.dist = nan
			}
		}
		if _, ok := lines[id]; !ok {
			id = strings.Clone(id)
			lines[id] = t.line
		}
		shapes[id] = append(shapes[id], v)
	})
	if err != nil {
		return err
	}
	for id, vs := range shapes {
		sort.SliceStable(vs, func(i, j int) bool { return vs[i].seq < vs[j].seq })
		pts := make([]geo.Point, 0, len(vs))
		conflicts := 0
		for i, v := range vs {
			if i > 0 && v.seq == vs[i-1].seq {
				// Some extracts repeat whole shapes; only repeats that
				// disagree are worth a word.
				if v.pt != vs[i-1].pt {
					conflicts++
				}
				continue
			}
			pts = append(pts, v.pt)
		}
		if conflicts > 0 {
			l.warnf("shapes.txt", lines[id], "shape %s gives %d shape_pt_sequence values twice with different points; using the first", id, conflicts)
		}
		if len(pts) == 1 {
			// A one-point shape is no path; trips using it fall back to
			// straight lines between their stops.
			l.warnf("shapes.txt", lines[id], "shape %s has a single point; trips using it get straight lines between stops", id)
			pts = nil
		}
		var pl *geo.Polyline
		if pts != nil {
			pl, _ = geo.NewPolyline(pts)
		}
		l.feed.Shapes[id] = &Shape{ID: id, Path: pl}
		// Units of shape_dist_traveled vary by feed (metres, km, miles,
		// feet); the measured length tells which.
		first, last := vs[0].dist, vs[len(vs)-1].dist
		if pl != nil && !isNaN(first) && !isNaN(last) && last > first {
			if s, ok := unitScale(pl.Length() / (last - first)); ok {
				l.shapeDistScale[id] = s
			}
		}
	}
	return nil
}

func (l *loader) loadTrips() error {
	t, err := l.open("trips.txt", "route_id", "service_id", "trip_id")
	if err != nil {
		return err
	}
	l.feed.Trips = map[string]*Trip{}
	l.tripLines = map[string]int{}
	return each(t, func() {
		tr := &Trip{
			ID: t.id("trip_id"), RouteID: t.get("route_id"), ServiceID: t.get("service_id"),
			Headsign: t.id("trip_headsign"), ShortName: t.id("trip_short_name"),
			BlockID: t.id("block_id"), ShapeID: t.get("shape_id"),
		}
		if tr.ID == "" {
			l.add(t.fieldError("trip_id", "", "empty"))
			return
		}
		if prev, dup := l.tripLines[tr.ID]; dup {
			l.add(t.fieldError("trip_id", tr.ID, "already defined on line %d", prev))
			return
		}
		if tr.Route = l.feed.Routes[tr.RouteID]; tr.Route == nil {
			l.add(t.fieldError("route_id", tr.RouteID, "not in routes.txt"))
			return
		}
		tr.RouteID = tr.Route.ID
		if s := l.feed.Services[tr.ServiceID]; s == nil {
			l.add(t.fieldError("service_id", tr.ServiceID, "not in calendar.txt or calendar_dates.txt"))
			return
		} else {
			tr.ServiceID = s.ID
		}
		if tr.ShapeID != "" {
			s := l.feed.Shapes[tr.ShapeID]
			if s == nil {
				l.add(t.fieldError("shape_id", tr.ShapeID, "not in shapes.txt"))
				return
			}
			tr.ShapeID = s.ID
		}
		switch v := t.get("direction_id"); v {
		case "", "0":
		case "1":
			tr.DirectionID = 1
		default:
			l.add(t.fieldError("direction_id", v, "want 0 or 1"))
		}
		l.tripLines[tr.ID] = t.line
		l.feed.Trips[tr.ID] = tr
	})
}

func (l *loader) buildCalls() {
	calls := map[string][]Call{}
	for _, tr := range l.feed.Trips {
		for i := range tr.StopTimes {
			id := tr.StopTimes[i].StopID
			calls[id] = append(calls[id], Call{Trip: tr, Index: i})
		}
	}
	for _, cs := range calls {
		sort.Slice(cs, func(i, j int) bool {
			a, b := cs[i].Trip.StopTimes[cs[i].Index].Departure, cs[j].Trip.StopTimes[cs[j].Index].Departure
			if a != b {
				return a < b
			}
			if cs[i].Trip.ID != cs[j].Trip.ID {
				return cs[i].Trip.ID < cs[j].Trip.ID
			}
			return cs[i].Index < cs[j].Index
		})
	}
	l.feed.calls = calls
}
