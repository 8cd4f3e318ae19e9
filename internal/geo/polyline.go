package geo

import (
	"errors"
	"math"
)

// Polyline is a path with the cumulative distance in metres at each vertex.
type Polyline struct {
	pts  []Point
	dist []float64
}

// NewPolyline measures pts. It needs at least two points.
func NewPolyline(pts []Point) (*Polyline, error) {
	if len(pts) < 2 {
		return nil, errors.New("polyline needs at least two points")
	}
	pl := &Polyline{pts: pts, dist: make([]float64, len(pts))}
	for i := 1; i < len(pts); i++ {
		pl.dist[i] = pl.dist[i-1] + Distance(pts[i-1], pts[i])
	}
	return pl, nil
}

// Length is the total length in metres.
func (pl *Polyline) Length() float64 { return pl.dist[len(pl.dist)-1] }

// Points returns the vertices; the caller must not modify them.
func (pl *Polyline) Points() []Point { return pl.pts }

// VertexDist returns the distance along the line of vertex i.
func (pl *Polyline) VertexDist(i int) float64 { return pl.dist[i] }

// segment returns the index i of the segment [i, i+1] containing distance d.
func (pl *Polyline) segment(d float64) int {
	lo, hi := 0, len(pl.dist)-2
	for lo < hi {
		mid := (lo + hi + 1) / 2
		if pl.dist[mid] <= d {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	return lo
}

// At returns the point d metres along the line (clamped to its ends) and the
// bearing of the line there.
func (pl *Polyline) At(d float64) (Point, float64) {
	d = math.Max(0, math.Min(d, pl.Length()))
	i := pl.segment(d)
	a, b := pl.pts[i], pl.pts[i+1]
	seg := pl.dist[i+1] - pl.dist[i]
	f := 0.0
	if seg > 0 {
		f = (d - pl.dist[i]) / seg
	}
	p := Point{Lat: a.Lat + f*(b.Lat-a.Lat), Lon: a.Lon + f*(b.Lon-a.Lon)}
	return p, Bearing(a, b)
}

// Projection is where a point falls on a polyline.
type Projection struct {
	Dist    float64 // metres along the line
	Offset  float64 // metres from the point to the line
	Bearing float64 // bearing of the line at Dist
}

// Project finds the nearest point of the line to p among positions between
// from and to metres along it (pass 0 and Length() for the whole line).
// Restricting the window is how callers keep direction continuity on shapes
// that pass the same street twice.
func (pl *Polyline) Project(p Point, from, to float64) Projection {
	best := Projection{Offset: math.Inf(1)}
	if to < from {
		from, to = to, from
	}
	i0, i1 := pl.segment(from), pl.segment(to)
	cosLat := math.Cos(rad(p.Lat))
	for i := i0; i <= i1; i++ {
		a, b := pl.pts[i], pl.pts[i+1]
		// Local planar coordinates in metres around p.
		ax, ay := (a.Lon-p.Lon)*cosLat, a.Lat-p.Lat
		bx, by := (b.Lon-p.Lon)*cosLat, b.Lat-p.Lat
		dx, dy := bx-ax, by-ay
		f := 0.0
		if l2 := dx*dx + dy*dy; l2 > 0 {
			f = -(ax*dx + ay*dy) / l2
		}
		f = math.Max(0, math.Min(1, f))
		d := pl.dist[i] + f*(pl.dist[i+1]-pl.dist[i])
		if d < from || d > to {
			d = math.Max(from, math.Min(to, d))
			f = 0
			if seg := pl.dist[i+1] - pl.dist[i]; seg > 0 {
				f = (d - pl.dist[i]) / seg
			}
		}
		x, y := ax+f*dx, ay+f*dy
		off := math.Hypot(x, y) * rad(1) * EarthRadius
		if off < best.Offset {
			best = Projection{Dist: d, Offset: off, Bearing: Bearing(a, b)}
		}
	}
	return best
}
