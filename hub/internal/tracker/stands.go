package tracker

import (
	"time"

	"github.com/headway-transit/headway/internal/geo"
	"github.com/headway-transit/headway/internal/wire"
)

// standing is the speed, in m/s, below which a vehicle is standing still.
const standing = 1.0

// stand follows the vehicle standing still and moving off, by the speed it
// reports or, without one, by how far it went since its last fix.
func stand(v *Vehicle, prev, p wire.Position) {
	v.StoodFor = 0
	var still bool
	switch {
	case p.Speed != nil:
		still = *p.Speed < standing
	case !prev.Time.IsZero():
		moved := geo.Distance(geo.Point{Lat: prev.Lat, Lon: prev.Lon}, geo.Point{Lat: p.Lat, Lon: p.Lon})
		still = moved < standing*p.Time.Sub(prev.Time).Seconds()
	default:
		return
	}
	switch {
	case still && v.StandingSince.IsZero():
		v.StandingSince = p.Time
	case !still && !v.StandingSince.IsZero():
		v.StoodFor = p.Time.Sub(v.StandingSince)
		v.StandingSince = time.Time{}
	}
}
