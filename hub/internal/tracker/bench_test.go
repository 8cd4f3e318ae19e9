package tracker_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/headway-transit/headway/hub/internal/testfeed"
	"github.com/headway-transit/headway/hub/internal/tracker"
	"github.com/headway-transit/headway/internal/geo"
	"github.com/headway-transit/headway/internal/wire"
)

// BenchmarkInferredFleet measures a fix of a bus whose trip the hub infers,
// in a fleet far denser than any real one: n buses on the one test line
// (10-minute headways, so dozens compete for each block), each reporting
// once a second and driving at 8 m/s.
//
//	go test -run '^$' -bench InferredFleet ./hub/internal/tracker
func BenchmarkInferredFleet(b *testing.B) {
	feed := testfeed.Line(b)
	for _, n := range []int{10, 200} {
		b.Run(fmt.Sprint(n, "-buses"), func(b *testing.B) {
			tr := tracker.New(feed, tracker.Config{MaxOffRoute: 100, MaxFuture: time.Minute})
			start := time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC)
			fixes := 0
			for b.Loop() {
				i := fixes % n
				sec := fixes / n
				at := start.Add(time.Duration(sec) * time.Second)
				d := float64(i*4000/n) + 8*float64(sec)
				for d > 4000 {
					d -= 4000
				}
				p := geo.Offset(testfeed.Origin, 90, d)
				pos := wire.Position{V: 1, Vehicle: fmt.Sprint("bus-", i), Seq: uint64(sec + 1), Time: at, Lat: p.Lat, Lon: p.Lon, Mode: 3,
					Speed: wire.Float(8), Track: wire.Float(90)}
				if _, err := tr.Update(pos, at); err != nil {
					b.Fatal(err)
				}
				fixes++
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(fixes), "ns/fix")
			b.ReportMetric(0, "ns/op")
		})
	}
}
