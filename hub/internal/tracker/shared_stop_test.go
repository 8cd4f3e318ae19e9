package tracker

import (
	"testing"
	"time"

	"github.com/headway-transit/headway/internal/gtfs"
	"github.com/headway-transit/headway/internal/wire"
)

// TestDwellAtAnotherRoutesTerminal: in the demo feed route 1 passes Central
// Station, where route 3's trips start. A route 1 bus dwelling there looks,
// standing, like a route 3 bus waiting for its departure; when it drives
// off along route 1, it is on route 1, not a route 3 bus wandering around
// its terminal until its time (the hub held it there for three minutes).
func TestDwellAtAnotherRoutesTerminal(t *testing.T) {
	feed, err := gtfs.Load("../../../configs/demo-feed")
	if err != nil {
		t.Fatal(err)
	}
	trip := feed.Trips["1-0-0620"]
	if trip == nil || feed.Trips["3-1-0630"].StopTimes[0].StopID != "CEN" {
		t.Fatal("the demo feed changed: route 1's 1-0-0620 and route 3's 3-1-0630 from CEN are needed")
	}
	var at float64 // CEN's place along the route 1 trip
	for _, st := range trip.StopTimes {
		if st.StopID == "CEN" {
			at = st.Dist
		}
	}
	rome, _ := time.LoadLocation("Europe/Rome")
	now := time.Date(2026, 12, 6, 6, 27, 16, 0, rome) // 3-1-0630 leaves CEN at 06:30
	tr := New(feed, Config{MaxOffRoute: 150, MaxFuture: time.Minute})
	seq := uint64(0)
	fix := func(d, speed float64) *Vehicle {
		seq++
		p, bearing := trip.Path.At(d)
		if speed < 1 {
			bearing = 33 // standing: the receiver's last course
		}
		pos := wire.Position{V: 1, Vehicle: "bus-1", Seq: seq, Time: now, Lat: p.Lat, Lon: p.Lon, Mode: 3,
			Speed: wire.Float(speed), Track: wire.Float(bearing)}
		if _, err := tr.Update(pos, now); err != nil {
			t.Fatal(err)
		}
		now = now.Add(time.Second)
		return tr.Vehicle("bus-1")
	}
	for range 20 {
		fix(at, 0)
	}
	d := at
	for i := range 40 {
		d += 10
		v := fix(d, 10)
		if i >= 5 && (v.Trip == nil || v.Trip.RouteID != "1") {
			id := ""
			if v.Trip != nil {
				id = v.Trip.ID
			}
			t.Fatalf("%d s and %.0f m after leaving Central Station along route 1, the bus is on %q at %.0f m", i+1, d-at, id, v.Dist)
		}
	}
}
