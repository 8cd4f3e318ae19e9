package geo

import "math"

// EarthRadius is the mean Earth radius in metres.
const EarthRadius = 6371008.8

// Point is a WGS 84 position in degrees.
type Point struct {
	Lat, Lon float64
}

func rad(d float64) float64 { return d * math.Pi / 180 }
func deg(r float64) float64 { return r * 180 / math.Pi }

// Distance returns the great-circle distance between a and b in metres.
func Distance(a, b Point) float64 {
	φ1, φ2 := rad(a.Lat), rad(b.Lat)
	dφ := φ2 - φ1
	dλ := rad(b.Lon - a.Lon)
	h := math.Sin(dφ/2)*math.Sin(dφ/2) + math.Cos(φ1)*math.Cos(φ2)*math.Sin(dλ/2)*math.Sin(dλ/2)
	return 2 * EarthRadius * math.Asin(math.Min(1, math.Sqrt(h)))
}

// Bearing returns the initial bearing from a to b in degrees true, [0, 360).
func Bearing(a, b Point) float64 {
	φ1, φ2 := rad(a.Lat), rad(b.Lat)
	dλ := rad(b.Lon - a.Lon)
	y := math.Sin(dλ) * math.Cos(φ2)
	x := math.Cos(φ1)*math.Sin(φ2) - math.Sin(φ1)*math.Cos(φ2)*math.Cos(dλ)
	return math.Mod(deg(math.Atan2(y, x))+360, 360)
}

// Offset returns the point d metres from p along bearing b (degrees true).
func Offset(p Point, b, d float64) Point {
	δ := d / EarthRadius
	θ := rad(b)
	φ1, λ1 := rad(p.Lat), rad(p.Lon)
	φ2 := math.Asin(math.Sin(φ1)*math.Cos(δ) + math.Cos(φ1)*math.Sin(δ)*math.Cos(θ))
	λ2 := λ1 + math.Atan2(math.Sin(θ)*math.Sin(δ)*math.Cos(φ1), math.Cos(δ)-math.Sin(φ1)*math.Sin(φ2))
	return Point{Lat: deg(φ2), Lon: math.Mod(deg(λ2)+540, 360) - 180}
}

// AngleDiff returns the absolute difference of two bearings in degrees, [0, 180].
func AngleDiff(a, b float64) float64 {
	d := math.Mod(math.Abs(a-b), 360)
	if d > 180 {
		d = 360 - d
	}
	return d
}
