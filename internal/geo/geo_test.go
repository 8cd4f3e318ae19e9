package geo

import (
	"math"
	"testing"
)

func TestDistanceBearing(t *testing.T) {
	tests := []struct {
		name    string
		a, b    Point
		dist    float64 // metres
		bearing float64
	}{
		{"one degree of latitude", Point{0, 0}, Point{1, 0}, 111195, 0},
		{"one degree of longitude at the equator", Point{0, 0}, Point{0, 1}, 111195, 90},
		{"south", Point{10, 10}, Point{9, 10}, 111195, 180},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if d := Distance(tc.a, tc.b); math.Abs(d-tc.dist) > 1 {
				t.Errorf("Distance = %.1f, want %.1f", d, tc.dist)
			}
			if b := Bearing(tc.a, tc.b); AngleDiff(b, tc.bearing) > 0.01 {
				t.Errorf("Bearing = %.3f, want %.3f", b, tc.bearing)
			}
		})
	}
}

func TestOffsetRoundTrip(t *testing.T) {
	p := Point{-16.92, 145.77}
	for _, b := range []float64{0, 45, 135, 270, 359} {
		q := Offset(p, b, 500)
		if d := Distance(p, q); math.Abs(d-500) > 0.01 {
			t.Errorf("bearing %v: distance %v, want 500", b, d)
		}
		if got := Bearing(p, q); AngleDiff(got, b) > 0.01 {
			t.Errorf("bearing %v: came back as %v", b, got)
		}
	}
}

func TestPolylineProjectAndAt(t *testing.T) {
	a := Point{52.0, 4.0}
	b := Offset(a, 90, 1000)
	c := Offset(b, 0, 1000)
	pl, err := NewPolyline([]Point{a, b, c})
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(pl.Length()-2000) > 0.5 {
		t.Fatalf("Length = %v, want 2000", pl.Length())
	}
	// 20 m north of the first segment, 300 m along.
	p := Offset(Offset(a, 90, 300), 0, 20)
	pr := pl.Project(p, 0, pl.Length())
	if math.Abs(pr.Dist-300) > 1 || math.Abs(pr.Offset-20) > 1 {
		t.Errorf("Project = %+v, want dist 300 offset 20", pr)
	}
	if AngleDiff(pr.Bearing, 90) > 0.5 {
		t.Errorf("bearing %v, want 90", pr.Bearing)
	}
	// Restricted to the second segment (due north from b), the point 20 m north
	// of the first segment projects 20 m up it.
	pr = pl.Project(p, 1000, 2000)
	if math.Abs(pr.Dist-1020) > 1 {
		t.Errorf("windowed Project dist = %v, want 1020", pr.Dist)
	}
	q, br := pl.At(1500)
	if d := Distance(q, Offset(b, 0, 500)); d > 1 {
		t.Errorf("At(1500) is %v m off", d)
	}
	if AngleDiff(br, 0) > 0.5 {
		t.Errorf("At(1500) bearing %v, want 0", br)
	}
	if q, _ := pl.At(-5); q != a {
		t.Errorf("At(-5) = %v, want the start", q)
	}
}

func TestNewPolylineNeedsTwoPoints(t *testing.T) {
	if _, err := NewPolyline([]Point{{1, 1}}); err == nil {
		t.Fatal("want an error for one point")
	}
}
