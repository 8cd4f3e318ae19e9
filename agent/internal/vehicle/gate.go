package vehicle

import (
	"math"
	"time"

	"github.com/headway-transit/headway/drivers/nmea"
	"github.com/headway-transit/headway/internal/geo"
)

// gate returns why f is not good enough to publish, or "". It also
// throttles to the publish interval and minimum distance.
func (a *Agent) gate(f nmea.Fix, now time.Time) string {
	q := a.cfg.Quality
	switch {
	case f.Time.IsZero():
		return "no_time"
	case !f.HasPosition():
		return "no_fix"
	case f.Status == nmea.StatusSimulated:
		return "simulated" // a receiver in demo mode: never a bus's position
	case !f.Status.Measured() && f.Status != nmea.StatusUnknown:
		return "estimated" // dead reckoning or a manual position, not a measurement
	case int(f.Mode) < q.MinMode:
		return "low_mode"
	case !math.IsNaN(f.HDOP) && f.HDOP > q.MaxHDOP:
		return "high_hdop"
	case !math.IsNaN(f.Speed) && f.Speed > q.MaxSpeed:
		return "too_fast"
	case q.MaxAge > 0 && (f.Time.Before(now.Add(-q.MaxAge.D())) || f.Time.After(now.Add(q.MaxAge.D()))):
		return "stale"
	}
	if a.last == nil {
		return ""
	}
	dt := f.Time.Sub(a.last.Time)
	if dt < 0 {
		// GPS time went backwards: the fix sent last was wrong (a bad date
		// at cold start, say; the hub rejects those). Throttling against it
		// would silence the bus until its time came round.
		a.log.Warn("fix time went backwards", "from", a.last.Time, "to", f.Time)
		a.last = nil
		return ""
	}
	if dt < a.cfg.Publish.Interval.D() {
		return "throttled"
	}
	d := geo.Distance(geo.Point{Lat: a.last.Lat, Lon: a.last.Lon}, geo.Point{Lat: f.Lat, Lon: f.Lon})
	// A jump: further than the bus could have gone, with a second's grace
	// for a fix that lags.
	if d > q.MaxJump && d > q.MaxSpeed*(dt.Seconds()+1) {
		return "jump"
	}
	if a.cfg.Publish.MinDistance > 0 && dt < 30*time.Second && d < a.cfg.Publish.MinDistance {
		return "throttled"
	}
	return ""
}
