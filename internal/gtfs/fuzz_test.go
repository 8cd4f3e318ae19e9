package gtfs

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"testing/fstest"
)

// FuzzStopTimes loads a tiny feed around fuzzed stop_times.txt contents: any
// input must give a feed or an error, never a panic.
func FuzzStopTimes(f *testing.F) {
	f.Add([]byte("trip_id,arrival_time,departure_time,stop_id,stop_sequence,shape_dist_traveled\nT1,08:00:00,08:00:00,A,1,0\nT1,,,B,2,\nT1,08:10:00,08:11:00,C,3,2.5\n"))
	f.Add([]byte("\ufefftrip_id,stop_sequence,stop_id,arrival_time,departure_time\nT1,1,A,25:00:00,25:00:00\nT1,0,C,24:00:00,24:00:00\n"))
	f.Add([]byte("trip_id,arrival_time,departure_time,stop_id,stop_sequence\nT1,8:00:00,8:00:00,A,1\nT1,7:00:00,7:00:00,B,1\n\"T1,x"))
	f.Add([]byte("trip_id,arrival_time,departure_time,stop_id,stop_sequence,shape_dist_traveled\nT1,0:00:00,,A,1,1e308\nT1,,168:00:00,A,2,NaN\nT1,,,B,3,-1\nT1,,168:00:00,C,99999999999999999999,\n"))
	f.Fuzz(func(t *testing.T, stopTimes []byte) {
		fsys := fstest.MapFS{
			"agency.txt":     {Data: []byte("agency_name,agency_timezone\nFuzz,Europe/Rome\n")},
			"stops.txt":      {Data: []byte("stop_id,stop_lat,stop_lon\nA,44.4,8.9\nB,44.41,8.9\nC,44.41,8.91\n")},
			"routes.txt":     {Data: []byte("route_id,route_type\nR,3\n")},
			"calendar.txt":   {Data: []byte("service_id,monday,tuesday,wednesday,thursday,friday,saturday,sunday,start_date,end_date\nS,1,1,1,1,1,1,1,20240101,20241231\n")},
			"trips.txt":      {Data: []byte("route_id,service_id,trip_id,shape_id\nR,S,T1,SH\nR,S,T2,\n")},
			"shapes.txt":     {Data: []byte("shape_id,shape_pt_lat,shape_pt_lon,shape_pt_sequence,shape_dist_traveled\nSH,44.4,8.9,1,0\nSH,44.41,8.9,2,1.1\nSH,44.41,8.91,3,1.9\n")},
			"stop_times.txt": {Data: stopTimes},
		}
		feed, err := LoadFS(fsys)
		if err != nil {
			return
		}
		for _, tr := range feed.Trips {
			checkTrip(t, tr)
		}
	})
}

// feedFiles are the files FuzzFeed varies, in the order of its arguments.
var feedFiles = []string{"agency.txt", "stops.txt", "routes.txt", "calendar.txt", "calendar_dates.txt", "trips.txt", "stop_times.txt", "frequencies.txt", "shapes.txt"}

// FuzzFeed loads a whole small feed, every file fuzzed: any input must give
// a feed keeping Load's promises or an error, never a panic or a hang.
func FuzzFeed(f *testing.F) {
	good := make([][]byte, len(feedFiles))
	for i, name := range feedFiles {
		b, err := os.ReadFile(filepath.Join("testdata", "good", name))
		if err != nil {
			f.Fatal(err)
		}
		good[i] = b
	}
	add := func(change func(files [][]byte)) {
		files := make([][]byte, len(good))
		for i := range good {
			files[i] = slices.Clone(good[i])
		}
		change(files)
		f.Add(files[0], files[1], files[2], files[3], files[4], files[5], files[6], files[7], files[8])
	}
	add(func([][]byte) {})
	add(func(fs [][]byte) { // CR LF line ends in some files, a BOM in another
		fs[1] = bytes.ReplaceAll(fs[1], []byte("\n"), []byte("\r\n"))
		fs[6] = bytes.ReplaceAll(fs[6], []byte("\n"), []byte("\r\r\n"))
		fs[2] = append([]byte("\ufeff"), fs[2]...)
	})
	add(func(fs [][]byte) { // UTF-16, invalid UTF-8, NUL, short and long rows
		fs[0] = append([]byte{0xFE, 0xFF}, fs[0]...)
		fs[1] = append(fs[1], "X,\xec\x9c,,,\x00\n"...)
		fs[5] = append(fs[5], "R1,WK,T9\nR1,WK,T8,,,,,,x\n"...)
	})
	add(func(fs [][]byte) { // frequencies, tiny headways and overlaps
		fs[7] = []byte("trip_id,start_time,end_time,headway_secs,exact_times\nT3,0:00:00,167:00:00,1,1\nT1,6:00:00,7:00:00,60,0\nT1,6:30:00,8:00:00,60,0\n")
	})
	add(func(fs [][]byte) { // no shapes, only calendar_dates
		fs[8], fs[3] = nil, nil
	})
	f.Fuzz(func(t *testing.T, agency, stops, routes, calendar, calendarDates, trips, stopTimes, frequencies, shapes []byte) {
		fsys := fstest.MapFS{}
		for i, b := range [][]byte{agency, stops, routes, calendar, calendarDates, trips, stopTimes, frequencies, shapes} {
			if b != nil {
				fsys[feedFiles[i]] = &fstest.MapFile{Data: b}
			}
		}
		feed, err := LoadFS(fsys)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error")
			}
			return
		}
		for _, tr := range feed.Trips {
			checkTrip(t, tr)
		}
		for _, c := range feed.calls {
			for _, call := range c {
				if feed.Trips[call.Trip.ID] != call.Trip {
					t.Fatalf("call of trip %s not in Trips", call.Trip.ID)
				}
			}
		}
	})
}
