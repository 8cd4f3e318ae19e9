package gtfs

import (
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
