// Package testfeed builds small GTFS feeds in memory for the hub's unit
// tests: a straight east-west line with stops every kilometre, so expected
// distances and times can be worked out by hand.
package testfeed

import (
	"fmt"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/headway-transit/headway/internal/geo"
	"github.com/headway-transit/headway/internal/gtfs"
)

// Origin is stop S0; stop Si lies i km due east of it.
var Origin = geo.Point{Lat: 45.0, Lon: 9.0}

// Stops is the number of stops on the line.
const Stops = 5

// StopPoint returns the position of stop i.
func StopPoint(i int) geo.Point { return geo.Offset(Origin, 90, float64(i)*1000) }

// Line is a one-route feed in UTC: trip "E0800" eastbound leaves S0 at 08:00
// and reaches each next stop two minutes later (dwelling 20 s); a trip leaves
// every 10 minutes from 06:00 to 21:50 ("E0600" … "E2150"), every day; and
// westbound trips "W…" run the reverse on the same timetable. Block
// "B0800" is E0800 then W0810 (one bus out and back).
func Line(tb testing.TB) *gtfs.Feed {
	tb.Helper()
	var stops, shapes, trips, times strings.Builder
	stops.WriteString("stop_id,stop_name,stop_lat,stop_lon\n")
	for i := 0; i < Stops; i++ {
		p := StopPoint(i)
		fmt.Fprintf(&stops, "S%d,Stop %d,%.7f,%.7f\n", i, i, p.Lat, p.Lon)
	}
	shapes.WriteString("shape_id,shape_pt_lat,shape_pt_lon,shape_pt_sequence\n")
	for i := 0; i <= (Stops-1)*4; i++ {
		p := geo.Offset(Origin, 90, float64(i)*250)
		fmt.Fprintf(&shapes, "east,%.7f,%.7f,%d\n", p.Lat, p.Lon, i)
		q := geo.Offset(Origin, 90, float64((Stops-1)*4-i)*250)
		fmt.Fprintf(&shapes, "west,%.7f,%.7f,%d\n", q.Lat, q.Lon, i)
	}
	trips.WriteString("route_id,service_id,trip_id,trip_headsign,direction_id,shape_id,block_id\n")
	times.WriteString("trip_id,arrival_time,departure_time,stop_id,stop_sequence\n")
	for start := 6 * 60; start < 22*60; start += 10 {
		for _, dir := range []string{"E", "W"} {
			id := fmt.Sprintf("%s%02d%02d", dir, start/60, start%60)
			head, shape := "East End", "east"
			if dir == "W" {
				head, shape = "West End", "west"
			}
			// A bus works E at :00 then W at :10 from the far end: block
			// "B" + the eastbound start.
			blockStart := start
			if dir == "W" {
				blockStart = start - 10
			}
			block := fmt.Sprintf("B%02d%02d", blockStart/60, blockStart%60)
			fmt.Fprintf(&trips, "R1,daily,%s,%s,%d,%s,%s\n", id, head, map[string]int{"E": 0, "W": 1}[dir], shape, block)
			for i := 0; i < Stops; i++ {
				stop := i
				if dir == "W" {
					stop = Stops - 1 - i
				}
				arr := start*60 + i*120
				dep := arr + 20
				if i == 0 {
					arr = start * 60
					dep = arr
				}
				fmt.Fprintf(&times, "%s,%s,%s,S%d,%d\n", id, gtfs.FormatTime(arr), gtfs.FormatTime(dep), stop, i+1)
			}
		}
	}
	fsys := fstest.MapFS{
		"agency.txt":     {Data: []byte("agency_id,agency_name,agency_url,agency_timezone\nA,Test Transit,https://example.org,UTC\n")},
		"routes.txt":     {Data: []byte("route_id,agency_id,route_short_name,route_long_name,route_type\nR1,A,1,Line One,3\n")},
		"calendar.txt":   {Data: []byte("service_id,monday,tuesday,wednesday,thursday,friday,saturday,sunday,start_date,end_date\ndaily,1,1,1,1,1,1,1,20200101,20991231\n")},
		"stops.txt":      {Data: []byte(stops.String())},
		"shapes.txt":     {Data: []byte(shapes.String())},
		"trips.txt":      {Data: []byte(trips.String())},
		"stop_times.txt": {Data: []byte(times.String())},
	}
	f, err := gtfs.LoadFS(fsys)
	if err != nil {
		tb.Fatalf("test feed: %v", err)
	}
	return f
}

// Demo is the repository's demo schedule (configs/demo-feed), for tests
// of hub/internal/<package>.
func Demo(tb testing.TB) *gtfs.Feed {
	tb.Helper()
	f, err := gtfs.Load("../../../configs/demo-feed")
	if err != nil {
		tb.Fatal(err)
	}
	return f
}
