package tracker

import (
	"math"

	"github.com/headway-transit/headway/internal/geo"
)

type bbox struct{ minLat, maxLat, minLon, maxLon float64 }

func (b bbox) contains(p geo.Point) bool {
	return p.Lat >= b.minLat && p.Lat <= b.maxLat && p.Lon >= b.minLon && p.Lon <= b.maxLon
}

// serviceMargin widens the feed's bounding box to tolerate depots and detours.
const serviceMargin = 0.3 // degrees, about 30 km

// boundsOf is the box around path, widened by margin metres.
func boundsOf(path *geo.Polyline, margin float64) bbox {
	b := bbox{math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)}
	for _, p := range path.Points() {
		b.minLat, b.maxLat = math.Min(b.minLat, p.Lat), math.Max(b.maxLat, p.Lat)
		b.minLon, b.maxLon = math.Min(b.minLon, p.Lon), math.Max(b.maxLon, p.Lon)
	}
	dLat := margin / 111e3
	dLon := dLat / math.Max(0.01, math.Cos(b.maxLat*math.Pi/180))
	b.minLat, b.maxLat = b.minLat-dLat, b.maxLat+dLat
	b.minLon, b.maxLon = b.minLon-dLon, b.maxLon+dLon
	return b
}
