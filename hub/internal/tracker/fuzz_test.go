package tracker_test

import (
	"encoding/binary"
	"math"
	"testing"
	"time"

	"github.com/headway-transit/headway/hub/internal/testfeed"
	"github.com/headway-transit/headway/hub/internal/tracker"
	"github.com/headway-transit/headway/internal/geo"
	"github.com/headway-transit/headway/internal/gtfs"
	"github.com/headway-transit/headway/internal/wire"
)

// FuzzUpdate drives a few vehicles with arbitrary fixes around the test
// line, at arbitrary times, speeds and headings, through trip inference and
// the joint assignment of blocks: nothing may panic, and a vehicle on a trip
// is somewhere along it.
func FuzzUpdate(f *testing.F) {
	f.Add([]byte{0, 10, 0, 90, 8, 1, 20, 1, 90, 8, 2, 200, 2, 180, 0, 0, 30, 3, 90, 9})
	f.Add([]byte{3, 255, 255, 255, 255, 3, 0, 0, 0, 0, 1, 128, 7, 45, 200})
	feed := testfeed.Line(f)
	f.Fuzz(func(t *testing.T, data []byte) { drivePositions(t, feed, data) })
}

// drivePositions applies the fixes coded in data, five bytes a fix.
func drivePositions(t testing.TB, feed *gtfs.Feed, data []byte) {
	tr := tracker.New(feed, tracker.Config{MaxOffRoute: 100, MaxFuture: time.Minute})
	at := time.Date(2026, 11, 27, 7, 55, 0, 0, time.UTC)
	seq := map[string]uint64{}
	for len(data) >= 5 {
		rec := data[:5]
		data = data[5:]
		vehicle := string(rune('a' + rec[0]%4))
		// Along the line and up to ~250 m off it, with time moving on by up
		// to a minute a fix.
		along := float64(binary.BigEndian.Uint16(rec[1:3])%4400) - 200
		p := geo.Offset(testfeed.Origin, 90, along)
		p = geo.Offset(p, 0, float64(int8(rec[3]))*2)
		at = at.Add(time.Duration(rec[4]%61) * time.Second)
		seq[vehicle]++
		pos := wire.Position{V: 1, Vehicle: vehicle, Seq: seq[vehicle], Time: at, Lat: p.Lat, Lon: p.Lon, Mode: 3}
		if rec[4]%3 != 0 {
			pos.Speed, pos.Track = wire.Float(float64(rec[4]%20)), wire.Float(float64(rec[3])*360/256)
		}
		_, _ = tr.Update(pos, at)
		v := tr.Vehicle(vehicle)
		if v != nil && v.Trip != nil && (math.IsNaN(v.Dist) || v.Dist < 0 || v.Dist > v.Trip.Path.Length()+1) {
			t.Fatalf("%s on %s at %.1f m of %.1f", vehicle, v.Trip.ID, v.Dist, v.Trip.Path.Length())
		}
	}
}
