package gtfs

import (
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/headway-transit/headway/internal/geo"
)

var nan = math.NaN()

func isNaN(x float64) bool { return x != x }

// rawStopTime is a row of stop_times.txt before its trip is completed.
type rawStopTime struct {
	stop      *Stop
	seq       int
	arr, dep  int // -1 when absent
	headsign  string
	dist      float64 // shape_dist_traveled as given; NaN when absent
	timepoint bool
	line      int
}

func (l *loader) loadStopTimes() error {
	t, err := l.open("stop_times.txt", "trip_id", "stop_id", "stop_sequence", "arrival_time", "departure_time")
	if err != nil {
		return err
	}
	byTrip := map[*Trip][]rawStopTime{}
	aliases := map[string]*Trip{} // unknown trip_id -> trip it was repaired to
	aliasLine := 0
	err = each(t, func() {
		id := t.get("trip_id")
		tr := l.feed.Trips[id]
		if tr == nil {
			tr = aliases[id]
		}
		if tr == nil {
			if tr = suffixedTrip(l.feed.Trips, id); tr != nil {
				aliases[strings.Clone(id)] = tr
				if aliasLine == 0 {
					aliasLine = t.line
				}
			}
		}
		if tr == nil {
			l.add(t.fieldError("trip_id", id, "not in trips.txt"))
			return
		}
		r := rawStopTime{arr: -1, dep: -1, dist: nan, line: t.line, headsign: t.id("stop_headsign")}
		if r.stop = l.feed.Stops[t.get("stop_id")]; r.stop == nil {
			l.add(t.fieldError("stop_id", t.get("stop_id"), "not in stops.txt"))
			return
		}
		var err error
		if v := t.get("stop_sequence"); v == "" {
			l.add(t.fieldError("stop_sequence", v, "empty"))
			return
		} else if r.seq, err = strconv.Atoi(v); err != nil || r.seq < 0 {
			l.add(t.fieldError("stop_sequence", v, "want a non-negative integer"))
			return
		}
		for _, c := range []struct {
			col string
			dst *int
		}{{"arrival_time", &r.arr}, {"departure_time", &r.dep}} {
			if v := t.get(c.col); v != "" {
				if *c.dst, err = ParseTime(v); err != nil {
					l.add(t.fieldError(c.col, v, "%v", err))
					return
				}
			}
		}
		if (r.arr < 0) != (r.dep < 0) {
			// The canonical validator's stop_time_with_only_arrival_or_
			// departure_time: one time alone is a truncated row more often
			// than a deliberate zero dwell.
			missing, given := "departure_time", "arrival_time"
			if r.arr < 0 {
				missing, given = given, missing
			}
			l.add(t.fieldError(missing, "", "empty while %s is %s: give both times, or neither to have the time interpolated", given, t.get(given)))
			return
		}
		r.timepoint = r.arr >= 0
		if t.get("timepoint") == "0" {
			r.timepoint = false
		}
		if v := t.get("shape_dist_traveled"); v != "" {
			if r.dist, err = strconv.ParseFloat(v, 64); err != nil || r.dist < 0 || math.IsInf(r.dist, 0) {
				l.warnf(t.file, t.line, "shape_dist_traveled %q: want a non-negative number; ignored", v)
				r.dist = nan
			}
		}
		byTrip[tr] = append(byTrip[tr], r)
	})
	if err != nil {
		return err
	}
	if len(aliases) > 0 {
		l.warnf(t.file, aliasLine, "%d trip_ids are not in trips.txt but are a trip_id there followed by -service_id; taken as that trip", len(aliases))
	}
	if l.failed() {
		return nil
	}
	ids := make([]string, 0, len(l.feed.Trips))
	for id := range l.feed.Trips {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	b := &pathBuilder{l: l, straight: map[string]*straightPath{}, projected: map[string][]float64{}}
	for _, id := range ids {
		tr := l.feed.Trips[id]
		rs := byTrip[tr]
		if len(rs) < 2 {
			l.errorf("trips.txt", l.tripLines[id], "trip %s has %d stop times in stop_times.txt, want at least 2", id, len(rs))
			continue
		}
		l.completeTrip(b, tr, rs)
	}
	return nil
}

// suffixedTrip finds the trip an unknown stop_times trip_id means when it is
// a trips.txt trip_id followed by "-" and that trip's service_id, as in some
// Metro Transit (Minneapolis) extracts whose realtime feeds use the short id.
func suffixedTrip(trips map[string]*Trip, id string) *Trip {
	for i := strings.IndexByte(id, '-'); i > 0; {
		if tr := trips[id[:i]]; tr != nil && id[i+1:] == tr.ServiceID {
			return tr
		}
		j := strings.IndexByte(id[i+1:], '-')
		if j < 0 {
			break
		}
		i += j + 1
	}
	return nil
}

// completeTrip sorts, checks and completes tr's stop times.
func (l *loader) completeTrip(b *pathBuilder, tr *Trip, rs []rawStopTime) {
	const file = "stop_times.txt"
	sort.SliceStable(rs, func(i, j int) bool { return rs[i].seq < rs[j].seq })
	for i := 1; i < len(rs); i++ {
		if rs[i].seq == rs[i-1].seq {
			l.errorf(file, rs[i].line, "stop_sequence %q: trip %s already has it on line %d; sequences must increase along a trip", strconv.Itoa(rs[i].seq), tr.ID, rs[i-1].line)
			return
		}
	}
	for _, i := range []int{0, len(rs) - 1} {
		if rs[i].arr < 0 && rs[i].dep < 0 {
			l.errorf(file, rs[i].line, "arrival_time \"\": the first and last stop of a trip (%s) need times", tr.ID)
			return
		}
	}
	last, lastLine := -1, 0
	for i := range rs {
		r := &rs[i]
		if r.arr < 0 && r.dep < 0 {
			continue
		}
		if r.arr < 0 {
			r.arr = r.dep
		}
		if r.dep < 0 {
			r.dep = r.arr
		}
		if r.dep < r.arr {
			l.errorf(file, r.line, "departure_time %q: before arrival_time %s", FormatTime(r.dep), FormatTime(r.arr))
			return
		}
		if r.arr < last {
			l.errorf(file, r.line, "arrival_time %q: before the departure %s on line %d; times must not decrease along trip %s", FormatTime(r.arr), FormatTime(last), lastLine, tr.ID)
			return
		}
		last, lastLine = r.dep, r.line
	}

	tr.StopTimes = make([]StopTime, len(rs))
	for i, r := range rs {
		tr.StopTimes[i] = StopTime{
			StopID: r.stop.ID, Stop: r.stop, Sequence: r.seq,
			Arrival: r.arr, Departure: r.dep, Headsign: r.headsign, Timepoint: r.timepoint,
		}
	}
	b.place(tr, rs)
	interpolate(tr.StopTimes)
}

// interpolate fills in the times of stops without them (Arrival -1) in
// proportion to distance between the timed stops around them.
func interpolate(sts []StopTime) {
	prev := 0
	for j := 1; j < len(sts); j++ {
		if sts[j].Arrival < 0 {
			continue
		}
		if j > prev+1 {
			t0, t1 := sts[prev].Departure, sts[j].Arrival
			d0, span := sts[prev].Dist, sts[j].Dist-sts[prev].Dist
			for k := prev + 1; k < j; k++ {
				f := float64(k-prev) / float64(j-prev)
				if span > 0 {
					f = (sts[k].Dist - d0) / span
				}
				f = math.Max(0, math.Min(1, f))
				at := t0 + int(math.Round(f*float64(t1-t0)))
				sts[k].Arrival, sts[k].Departure = at, at
			}
		}
		prev = j
	}
}

// pathBuilder gives trips their paths and places stops along them, sharing
// the work between trips with the same shape and stops.
type pathBuilder struct {
	l         *loader
	straight  map[string]*straightPath // by stop pattern
	projected map[string][]float64     // by shape and stop pattern
	badScale  map[string]bool          // shapes warned about
}

type straightPath struct {
	path  *geo.Polyline
	dists []float64
}

func patternKey(prefix string, rs []rawStopTime) string {
	var sb strings.Builder
	sb.WriteString(prefix)
	for _, r := range rs {
		sb.WriteByte(0)
		sb.WriteString(r.stop.ID)
	}
	return sb.String()
}

// place sets tr.Path and the Dist of every stop time.
func (b *pathBuilder) place(tr *Trip, rs []rawStopTime) {
	var shape *Shape
	if tr.ShapeID != "" {
		shape = b.l.feed.Shapes[tr.ShapeID]
	}
	if shape == nil || shape.Path == nil {
		key := patternKey("", rs)
		sp := b.straight[key]
		if sp == nil {
			pts := make([]geo.Point, len(rs))
			for i, r := range rs {
				pts[i] = r.stop.Point()
			}
			pl, _ := geo.NewPolyline(pts) // len(rs) >= 2
			sp = &straightPath{path: pl, dists: make([]float64, len(rs))}
			for i := range rs {
				sp.dists[i] = pl.VertexDist(i)
			}
			b.straight[key] = sp
		}
		tr.Path = sp.path
		for i := range tr.StopTimes {
			tr.StopTimes[i].Dist = sp.dists[i]
		}
		return
	}
	tr.Path = shape.Path
	key := patternKey(shape.ID, rs)
	geoDist := b.projected[key]
	if geoDist == nil {
		geoDist = b.project(shape, rs)
		b.projected[key] = geoDist
	}
	dists := geoDist
	if scale, ok := b.scale(shape, rs, geoDist); ok {
		dists = make([]float64, len(rs))
		for i, r := range rs {
			if isNaN(r.dist) {
				dists[i] = geoDist[i]
			} else {
				dists[i] = r.dist * scale
			}
		}
	}
	length, prev := shape.Path.Length(), 0.0
	for i := range tr.StopTimes {
		d := math.Max(prev, math.Min(length, dists[i]))
		tr.StopTimes[i].Dist = d
		prev = d
	}
}

// scale returns metres per unit of the trip's shape_dist_traveled values,
// or false when the trip has too few of them to use.
func (b *pathBuilder) scale(shape *Shape, rs []rawStopTime, geoDist []float64) (float64, bool) {
	first, last := -1, -1
	for i, r := range rs {
		if !isNaN(r.dist) {
			if first < 0 {
				first = i
			}
			last = i
		}
	}
	if first < 0 || first == last {
		return 0, false
	}
	if s, ok := b.l.shapeDistScale[shape.ID]; ok {
		return s, true
	}
	span := rs[last].dist - rs[first].dist
	measured := geoDist[last] - geoDist[first]
	if span <= 0 || measured <= 0 {
		return 0, false
	}
	s, snapped := unitScale(measured / span)
	if !snapped && !b.badScale[shape.ID] {
		if b.badScale == nil {
			b.badScale = map[string]bool{}
		}
		b.badScale[shape.ID] = true
		b.l.warnf("stop_times.txt", rs[last].line, "shape_dist_traveled along shape %s is in no unit I know (%.4g metres per unit); scaled to the measured shape", shape.ID, s)
	}
	return s, true
}

// Units in which feeds give shape_dist_traveled, in metres.
var distUnits = []float64{1, 1000, 0.3048, 1609.344}

// unitScale snaps a measured ratio of metres per unit to the unit it is
// near; shapes are drawn more or less finely than the distances were
// measured, so a few percent either way is the same unit.
func unitScale(ratio float64) (scale float64, snapped bool) {
	for _, u := range distUnits {
		if r := ratio / u; r > 0.8 && r < 1.25 {
			return u, true
		}
	}
	return ratio, false
}

// maxStopOffset is how far from its path a stop may lie before the load
// warns: past it, the stop or the shape is likely wrong.
const maxStopOffset = 100

// project places the stops along shape in order, each at or after the
// previous. It first looks just ahead of the previous stop, so that a shape
// passing a stop twice (a loop, an out-and-back) places it on the pass the
// trip is making, and searches the rest of the shape only when nothing near
// turns up.
//
// A stop farther than maxStopOffset from the shape has no trustworthy place
// on it: a shape that starts at the second stop, or skips a detour, would
// otherwise drag that stop (and, by the ordering, every stop after it) to
// the wrong part of the shape. Such stops are placed between their placed
// neighbours in proportion to straight-line distance, a first stop at the
// shape's start and a last one at its end.
func (b *pathBuilder) project(shape *Shape, rs []rawStopTime) []float64 {
	pl := shape.Path
	length := pl.Length()
	out := make([]float64, len(rs))
	placed := make([]bool, len(rs))
	prev, prevStop := 0.0, -1
	for i, r := range rs {
		p := r.stop.Point()
		ahead := 200.0
		if prevStop >= 0 {
			ahead += 3 * geo.Distance(rs[prevStop].stop.Point(), p)
		}
		lim := math.Min(length, prev+ahead)
		pr := pl.Project(p, prev, lim)
		if pr.Offset > 50 && lim < length {
			if all := pl.Project(p, prev, length); all.Offset+10 < pr.Offset {
				pr = all
			}
		}
		if pr.Offset > maxStopOffset {
			b.l.warnf("stop_times.txt", r.line, "stop %s is %.0f m from shape %s; placed between its neighbours", r.stop.ID, pr.Offset, shape.ID)
			continue
		}
		out[i], placed[i] = pr.Dist, true
		prev, prevStop = pr.Dist, i
	}
	for i := 0; i < len(rs); {
		if placed[i] {
			i++
			continue
		}
		j := i // rs[i:j] are unplaced
		for j < len(rs) && !placed[j] {
			j++
		}
		d0, d1 := 0.0, length
		if i > 0 {
			d0 = out[i-1]
		}
		if j < len(rs) {
			d1 = out[j]
		}
		// Straight-line distances along the unplaced run, from the
		// placed stop before it (or the first unplaced stop) to the
		// one after it (or the last unplaced stop).
		from, to := max(i-1, 0), min(j, len(rs)-1)
		cum := make([]float64, to-from+1)
		for k := from + 1; k <= to; k++ {
			cum[k-from] = cum[k-from-1] + geo.Distance(rs[k-1].stop.Point(), rs[k].stop.Point())
		}
		total := cum[len(cum)-1]
		for k := i; k < j; k++ {
			f := 0.5
			if total > 0 {
				f = cum[k-from] / total
			}
			if i == 0 && k == 0 {
				f = 0 // a first stop off the shape: the shape starts after it
			}
			if j == len(rs) && k == len(rs)-1 {
				f = 1
			}
			out[k] = d0 + f*(d1-d0)
		}
		i = j
	}
	return out
}
