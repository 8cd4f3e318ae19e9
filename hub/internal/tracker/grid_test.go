package tracker

import (
	"math"
	"math/rand"
	"testing"

	"github.com/headway-transit/headway/internal/geo"
)

// TestProjectNear: projecting onto the segments near a point finds what
// projecting onto the whole path finds, whenever the path passes within
// reach; a loop passing the same street twice included.
func TestProjectNear(t *testing.T) {
	o := geo.Point{Lat: 45, Lon: 9}
	var pts []geo.Point
	// East 3 km, north 40 m, back west 3 km (the same street twice), then
	// a long straight segment north-east.
	for i := 0; i <= 30; i++ {
		pts = append(pts, geo.Offset(o, 90, float64(i)*100))
	}
	back := geo.Offset(pts[len(pts)-1], 0, 40)
	for i := 0; i <= 30; i++ {
		pts = append(pts, geo.Offset(back, 270, float64(i)*100))
	}
	pts = append(pts, geo.Offset(pts[len(pts)-1], 45, 5000))
	pl, err := geo.NewPolyline(pts)
	if err != nil {
		t.Fatal(err)
	}
	const reach = 150
	g := newPathGrid(pl, reach+60)
	r := rand.New(rand.NewSource(1))
	checked := 0
	for i := 0; i < 5000; i++ {
		on, _ := pl.At(r.Float64() * pl.Length())
		p := geo.Offset(on, r.Float64()*360, r.Float64()*250)
		full := pl.Project(p, 0, pl.Length())
		near, ok := projectNear(pl, g, p)
		if full.Offset > reach {
			continue
		}
		checked++
		if !ok || math.Abs(near.Offset-full.Offset) > 0.01 || math.Abs(near.Dist-full.Dist) > 0.01 {
			t.Fatalf("%v: near %+v (%v), full %+v", p, near, ok, full)
		}
	}
	if checked < 2000 {
		t.Fatalf("only %d points within reach", checked)
	}
}
