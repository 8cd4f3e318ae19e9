package tracker

import (
	"math"
	"sort"

	"github.com/headway-transit/headway/internal/geo"
)

// pathGrid indexes a path's segments by the cells they cross, so a fix is
// projected only onto the few segments near it. A fix is looked up in its
// cell and the eight around it, so every segment within a cell's side
// (side metres, less the 50 m the segments are sampled at) is found.
type pathGrid struct {
	cosLat, side float64 // side: of a cell, in degrees of latitude
	cells        map[[2]int32][]int32
}

func newPathGrid(pl *geo.Polyline, side float64) *pathGrid {
	pts := pl.Points()
	g := &pathGrid{side: side / 111e3, cells: map[[2]int32][]int32{}}
	if len(pts) > 0 {
		g.cosLat = math.Max(0.01, math.Cos(pts[0].Lat*math.Pi/180))
	}
	for i := 0; i+1 < len(pts); i++ {
		a, b := pts[i], pts[i+1]
		n := int(geo.Distance(a, b)/50) + 1
		for k := 0; k <= n; k++ {
			f := float64(k) / float64(n)
			c := g.cell(geo.Point{Lat: a.Lat + f*(b.Lat-a.Lat), Lon: a.Lon + f*(b.Lon-a.Lon)})
			if s := g.cells[c]; len(s) == 0 || s[len(s)-1] != int32(i) {
				g.cells[c] = append(s, int32(i))
			}
		}
	}
	return g
}

func (g *pathGrid) cell(p geo.Point) [2]int32 {
	return [2]int32{int32(math.Floor(p.Lat / g.side)), int32(math.Floor(p.Lon * g.cosLat / g.side))}
}

// near lists, in order, the segments that may lie within a cell's side of p.
func (g *pathGrid) near(p geo.Point, buf []int32) []int32 {
	c := g.cell(p)
	buf = buf[:0]
	for dy := int32(-1); dy <= 1; dy++ {
		for dx := int32(-1); dx <= 1; dx++ {
			buf = append(buf, g.cells[[2]int32{c[0] + dy, c[1] + dx}]...)
		}
	}
	sort.Slice(buf, func(i, j int) bool { return buf[i] < buf[j] })
	return buf
}

// projectNear is pl.Project(p, 0, pl.Length()) when the nearest point of pl
// lies within g's cell side (less 50 m) of p (otherwise ok is false), at the cost of the few
// segments near p.
func projectNear(pl *geo.Polyline, g *pathGrid, p geo.Point) (geo.Projection, bool) {
	segs := g.near(p, nil)
	best := geo.Projection{Offset: math.Inf(1)}
	for i := 0; i < len(segs); {
		j := i
		for j+1 < len(segs) && segs[j+1] <= segs[j]+1 {
			j++
		}
		pr := pl.Project(p, pl.VertexDist(int(segs[i])), pl.VertexDist(int(segs[j])+1))
		if pr.Offset < best.Offset {
			best = pr
		}
		i = j + 1
	}
	return best, !math.IsInf(best.Offset, 1)
}
