package gtfs

import (
	"strings"
	"testing"
	"testing/fstest"
)

// frequencyFeed is a two-stop feed whose trip T runs by frequencies.txt.
func frequencyFeed(frequencies string) fstest.MapFS {
	return fstest.MapFS{
		"agency.txt":      {Data: []byte("agency_name,agency_timezone\nA,Europe/Rome\n")},
		"stops.txt":       {Data: []byte("stop_id,stop_lat,stop_lon\nS1,44.4,8.9\nS2,44.41,8.9\n")},
		"routes.txt":      {Data: []byte("route_id,route_type,route_short_name\nR,3,1\n")},
		"calendar.txt":    {Data: []byte("service_id,monday,tuesday,wednesday,thursday,friday,saturday,sunday,start_date,end_date\nW,1,1,1,1,1,1,1,20260101,20261231\n")},
		"trips.txt":       {Data: []byte("route_id,service_id,trip_id\nR,W,T\nR,W,U\n")},
		"stop_times.txt":  {Data: []byte("trip_id,arrival_time,departure_time,stop_id,stop_sequence\nT,0:00:00,0:01:00,S1,1\nT,0:10:00,0:10:00,S2,2\nU,7:00:00,7:00:00,S1,1\nU,7:10:00,7:10:00,S2,2\n")},
		"frequencies.txt": {Data: []byte(frequencies)},
	}
}

func TestFrequencies(t *testing.T) {
	f, err := LoadFS(frequencyFeed("trip_id,start_time,end_time,headway_secs,exact_times\nT,23:30:00,24:30:00,1200,0\nT,6:00:00,6:30:00,900,1\n"))
	if err != nil {
		t.Fatal(err)
	}
	tmpl := f.Templates["T"]
	var ids []string
	for _, r := range tmpl.Runs {
		ids = append(ids, r.ID)
	}
	// Windows in time order; end_time itself starts no run; past midnight.
	want := "T@06:00:00 T@06:15:00 T@23:30:00 T@23:50:00 T@24:10:00"
	if got := strings.Join(ids, " "); got != want {
		t.Fatalf("runs %s, want %s", got, want)
	}
	r := f.Trips["T@24:10:00"]
	if r == nil || r.Frequency.ExactTimes || r.Frequency.HeadwaySecs != 1200 || r.StopTimes[0].Arrival != 24*3600+9*60 || r.StopTimes[0].Departure != 24*3600+10*60 || r.StopTimes[1].Arrival != 24*3600+19*60 {
		t.Fatalf("run T@24:10:00 = %+v", r)
	}
	if f.Trips["U"] == nil || f.Trips["U"].Template != nil || len(f.Trips) != 6 {
		t.Errorf("%d trips, U = %+v", len(f.Trips), f.Trips["U"])
	}
	if calls := f.Calls("S1"); len(calls) != 6 || calls[0].Trip.ID != "T@06:00:00" || calls[2].Trip.ID != "U" {
		t.Errorf("Calls(S1) = %v", calls)
	}
	// A run starting at 00:00:00 after a dwell at its first stop.
	f, err = LoadFS(frequencyFeed("trip_id,start_time,end_time,headway_secs\nT,0:00:00,0:10:00,600\n"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tr := range f.Trips {
		checkTrip(t, tr)
	}
}

func TestFrequencyErrors(t *testing.T) {
	tests := []struct{ name, frequencies, want string }{
		{"overlap", "trip_id,start_time,end_time,headway_secs\nT,6:00:00,8:00:00,600\nT,7:00:00,9:00:00,600\n",
			`frequencies.txt:3: start_time "07:00:00": trip T already runs until 08:00:00 (line 2); a trip's frequencies must not overlap`},
		{"too many runs", "trip_id,start_time,end_time,headway_secs\nT,0:00:00,48:00:00,1\n",
			`frequencies.txt:2: headway_secs "1": trip T would run more than 10080 times a day`},
		{"unknown trip", "trip_id,start_time,end_time,headway_secs\nX,6:00:00,8:00:00,600\n",
			`frequencies.txt:2: trip_id "X": not in trips.txt`},
		{"bad headway", "trip_id,start_time,end_time,headway_secs\nT,6:00:00,8:00:00,0\n",
			`frequencies.txt:2: headway_secs "0": want a positive number of seconds`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := LoadFS(frequencyFeed(tc.frequencies))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
}
