package gtfs

import (
	"math"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func loadCase(tb testing.TB, name string) (*Feed, error) {
	tb.Helper()
	return Load(filepath.Join("testdata", name))
}

func mustLoad(tb testing.TB, name string) *Feed {
	tb.Helper()
	f, err := loadCase(tb, name)
	if err != nil {
		tb.Fatalf("load %s: %v", name, err)
	}
	return f
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name string
		want string // a substring of the error
	}{
		{"missing_routes", "routes.txt: missing"},
		{"no_calendar", "calendar.txt: missing: a feed needs calendar.txt, calendar_dates.txt or both"},
		{"bad_time", `stop_times.txt:5: arrival_time "25:61:00": minutes out of range`},
		{"unknown_stop", `stop_times.txt:8: stop_id "X": not in stops.txt`},
		{"unknown_trip", `stop_times.txt:8: trip_id "T9": not in trips.txt`},
		{"duplicate_sequence", `stop_times.txt:7: stop_sequence "1": trip T2 already has it on line 6`},
		{"decreasing_time", `stop_times.txt:8: arrival_time "23:59:00": before the departure 24:00:00 on line 7`},
		{"unknown_route", `trips.txt:3: route_id "R9": not in routes.txt`},
		{"unknown_shape", `trips.txt:4: shape_id "S9": not in shapes.txt`},
		{"one_stop_time", "trips.txt:4: trip T3 has 1 stop times in stop_times.txt, want at least 2"},
		{"missing_column", "stop_times.txt:1: missing required column stop_sequence"},
		{"timezone_mismatch", `agency.txt:3: agency_timezone "Europe/Rome": differs from America/New_York on line 2`},
		{"bad_frequency", `frequencies.txt:2: end_time "6:00:00": not after start_time 9:00:00`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, err := loadCase(t, tc.name)
			if err == nil {
				t.Fatalf("loaded (%d trips), want error containing %q", len(f.Trips), tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error:\n%v\nwant it to contain:\n%s", err, tc.want)
			}
		})
	}
}

func TestLoadGood(t *testing.T) {
	for _, name := range []string{"good", "metres", "km_stop_times_only"} {
		t.Run(name, func(t *testing.T) {
			f := mustLoad(t, name)
			// good/ keeps a UTF-8 byte order mark in two files on purpose.
			wantWarn := []string{
				"agency.txt:1: starts with a UTF-8 byte order mark; accepted, but GTFS files should be plain UTF-8",
				"stops.txt:1: starts with a UTF-8 byte order mark; accepted, but GTFS files should be plain UTF-8",
			}
			if !slices.Equal(f.Warnings, wantWarn) {
				t.Errorf("warnings:\n%s\nwant:\n%s", strings.Join(f.Warnings, "\n"), strings.Join(wantWarn, "\n"))
			}
			if f.Location.String() != "America/New_York" || len(f.Agencies) != 1 || f.Agencies[0].ID != "TA" {
				t.Errorf("agencies %+v, location %v", f.Agencies, f.Location)
			}
			if s := f.Stops["C"]; s == nil || s.Lat != 40 || s.Lon != -74.988 || s.Name != "Charlie" {
				t.Errorf("stop C = %+v (BOM, spaces, column order)", s)
			}
			if s := f.Stops["A"]; s.ParentStation != "STN" || f.Stops["STN"].LocationType != 1 {
				t.Errorf("stop A = %+v, STN = %+v", s, f.Stops["STN"])
			}
			if r := f.Routes["R1"]; r == nil || r.ShortName != "1" || r.LongName != "Alpha – Delta" || r.Type != 3 || r.Color != "FF0000" {
				t.Errorf("route R1 = %+v", r)
			}
			for _, tr := range f.Trips {
				checkTrip(t, tr)
			}

			t1 := f.Trips["T1"]
			if t1.Route != f.Routes["R1"] || t1.Path != f.Shapes["S1"].Path || t1.BlockID != "B1" {
				t.Errorf("T1 = %+v", t1)
			}
			var seqs []int
			for _, st := range t1.StopTimes {
				seqs = append(seqs, st.Sequence)
			}
			if got := len(seqs); got != 4 || seqs[0] != 1 || seqs[3] != 10 {
				t.Errorf("T1 sequences %v, want sorted 1 2 5 10", seqs)
			}
			// Distances agree with the shape whatever unit the feed used.
			for _, st := range t1.StopTimes {
				pr := t1.Path.Project(st.Stop.Point(), 0, t1.Path.Length())
				if math.Abs(pr.Dist-st.Dist) > 2 {
					t.Errorf("T1 %s: Dist %.1f, projection %.1f", st.StopID, st.Dist, pr.Dist)
				}
			}
			// C has no times: interpolated by distance between B's
			// departure and D's arrival.
			b, c, d := t1.StopTimes[1], t1.StopTimes[2], t1.StopTimes[3]
			want := float64(b.Departure) + (c.Dist-b.Dist)/(d.Dist-b.Dist)*float64(d.Arrival-b.Departure)
			if c.Timepoint || c.Arrival != c.Departure || math.Abs(float64(c.Arrival)-want) > 1 {
				t.Errorf("C = %+v, want interpolated time %.0f", c, want)
			}
			if b.Arrival != 8*3600+120 || b.Departure != 8*3600+150 || !b.Timepoint {
				t.Errorf("B = %+v", b)
			}

			// No shape: straight lines between the stops.
			t2 := f.Trips["T2"]
			if t2.ShapeID != "" || len(t2.Path.Points()) != 4 {
				t.Fatalf("T2 path has %d points", len(t2.Path.Points()))
			}
			if l := t2.Path.Length(); math.Abs(l-3*511.08) > 1 || t2.StopTimes[3].Dist != l {
				t.Errorf("T2 path length %.1f, last Dist %.1f", l, t2.StopTimes[3].Dist)
			}
			// Past midnight.
			if a := t2.StopTimes[3].Arrival; a != 24*3600+600 {
				t.Errorf("T2 last arrival %d, want %d", a, 24*3600+600)
			}
			day := f.ServiceDayStart(Date{2024, 3, 5})
			if got, want := t2.ArrivalAt(day, 3), time.Date(2024, 3, 6, 0, 10, 0, 0, f.Location); !got.Equal(want) {
				t.Errorf("ArrivalAt = %v, want %v", got, want)
			}
			if got, want := t2.DepartureAt(day, 0), time.Date(2024, 3, 5, 23, 55, 0, 0, f.Location); !got.Equal(want) {
				t.Errorf("DepartureAt = %v, want %v", got, want)
			}

			// T3 runs every 10 minutes from 06:00 until before 09:00: 18
			// runs replace it in Trips and Calls.
			t3 := f.Templates["T3"]
			if f.Trips["T3"] != nil || t3 == nil || len(t3.Frequencies) != 1 || t3.Frequencies[0] != (Frequency{Start: 6 * 3600, End: 9 * 3600, HeadwaySecs: 600, ExactTimes: true}) {
				t.Fatalf("T3 template %+v, in Trips: %v", t3, f.Trips["T3"] != nil)
			}
			if len(t3.Runs) != 18 {
				t.Fatalf("T3 has %d runs, want 18", len(t3.Runs))
			}
			for i, r := range t3.Runs {
				start := 6*3600 + 600*i
				if r.ID != RunID("T3", start) || f.Trips[r.ID] != r || r.Template != t3 || r.Frequency != &t3.Frequencies[0] || r.Path != t3.Path {
					t.Fatalf("run %d: %+v", i, r)
				}
				for k, st := range r.StopTimes {
					if off := start - t3.StopTimes[0].Departure; st.Arrival != t3.StopTimes[k].Arrival+off || st.Departure != t3.StopTimes[k].Departure+off || st.Dist != t3.StopTimes[k].Dist {
						t.Fatalf("run %s stop time %d: %+v, template %+v", r.ID, k, st, t3.StopTimes[k])
					}
				}
			}
			if id := t3.Runs[1].ID; id != "T3@06:10:00" {
				t.Errorf("second run id %q", id)
			}

			calls := f.Calls("B")
			var got []string
			for _, c := range calls {
				got = append(got, c.Trip.ID)
			}
			var wantIDs []string
			for _, r := range t3.Runs[:12] {
				wantIDs = append(wantIDs, r.ID)
			}
			wantIDs = append(wantIDs, "T1")
			for _, r := range t3.Runs[12:] {
				wantIDs = append(wantIDs, r.ID)
			}
			wantIDs = append(wantIDs, "T2")
			if !slices.Equal(got, wantIDs) {
				t.Errorf("Calls(B) = %v,\nwant %v by departure", got, wantIDs)
			}
			for _, c := range calls {
				if c.Trip.StopTimes[c.Index].StopID != "B" {
					t.Errorf("call %+v does not point at B", c)
				}
			}
		})
	}
}

func TestServiceRunsOn(t *testing.T) {
	f := mustLoad(t, "good")
	tests := []struct {
		service string
		date    Date
		want    bool
	}{
		{"WK", Date{2024, 7, 3}, true},    // Wednesday
		{"WK", Date{2024, 7, 4}, false},   // Thursday, removed
		{"WK", Date{2024, 7, 6}, true},    // Saturday, added
		{"WK", Date{2024, 7, 7}, false},   // Sunday
		{"WK", Date{2023, 12, 29}, false}, // Friday before the start
		{"WK", Date{2024, 12, 31}, true},  // last day
		{"WK", Date{2025, 1, 1}, false},
		{"SPECIAL", Date{2024, 7, 7}, true}, // only in calendar_dates.txt
		{"SPECIAL", Date{2024, 7, 8}, false},
		{"NONE", Date{2024, 7, 3}, false},
	}
	for _, tc := range tests {
		if got := f.ServiceRunsOn(tc.service, tc.date); got != tc.want {
			t.Errorf("ServiceRunsOn(%s, %s) = %v, want %v", tc.service, tc.date, got, tc.want)
		}
	}
}

func TestServiceDayStart(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	f := &Feed{Location: ny}
	tests := []struct {
		name  string
		date  Date
		start time.Time // noon minus 12h
	}{
		{"ordinary day", Date{2024, 3, 5}, time.Date(2024, 3, 5, 0, 0, 0, 0, ny)},
		// Clocks go forward at 02:00: noon is EDT, so the day starts at
		// 23:00 EST the evening before.
		{"spring forward", Date{2024, 3, 10}, time.Date(2024, 3, 9, 23, 0, 0, 0, ny)},
		// Clocks go back at 02:00: the day starts at 01:00 EDT.
		{"fall back", Date{2024, 11, 3}, time.Date(2024, 11, 3, 1, 0, 0, 0, ny)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := f.ServiceDayStart(tc.date)
			if !got.Equal(tc.start) {
				t.Errorf("ServiceDayStart = %v, want %v", got, tc.start)
			}
			// A stop time of 08:00:00 is 08:00 on the clock, DST or not.
			if at := got.Add(8 * time.Hour).In(ny); at.Hour() != 8 || at.Minute() != 0 || DateOf(at, ny) != tc.date {
				t.Errorf("08:00:00 on %s is %v", tc.date, at)
			}
		})
	}
}

func TestDate(t *testing.T) {
	d, err := ParseDate("20240228")
	if err != nil || d != (Date{2024, 2, 28}) {
		t.Fatalf("ParseDate = %v, %v", d, err)
	}
	if got := d.AddDays(2); got != (Date{2024, 3, 1}) {
		t.Errorf("AddDays(2) = %v", got)
	}
	if got := d.AddDays(-59); got != (Date{2023, 12, 31}) {
		t.Errorf("AddDays(-59) = %v", got)
	}
	if d.Weekday() != time.Wednesday || d.String() != "20240228" {
		t.Errorf("Weekday %v, String %s", d.Weekday(), d)
	}
	for _, bad := range []string{"20240230", "2024-02-28", "20241301", "2024022", ""} {
		if _, err := ParseDate(bad); err == nil {
			t.Errorf("ParseDate(%q) succeeded", bad)
		}
	}
	// 23:30 UTC on 1 March is already 2 March in Tokyo.
	tokyo, _ := time.LoadLocation("Asia/Tokyo")
	if got := DateOf(time.Date(2024, 3, 1, 23, 30, 0, 0, time.UTC), tokyo); got != (Date{2024, 3, 2}) {
		t.Errorf("DateOf = %v", got)
	}
}

func TestParseTime(t *testing.T) {
	tests := []struct {
		in   string
		want int
		err  string
	}{
		{"00:00:00", 0, ""},
		{"6:05:09", 6*3600 + 5*60 + 9, ""},
		{"23:59:59", 86399, ""},
		{"25:10:00", 25*3600 + 600, ""},
		{"47:59:59", 47*3600 + 59*60 + 59, ""},
		{"25:61:00", 0, "minutes out of range"},
		{"12:00:60", 0, "seconds out of range"},
		{"999:00:00", 0, "hours out of range"},
		{"12:00", 0, "want H:MM:SS"},
		{"1:2:03", 0, "want H:MM:SS"},
		{"ab:cd:ef", 0, "want H:MM:SS"},
		{"-1:00:00", 0, "want H:MM:SS"},
		{"", 0, "want H:MM:SS"},
	}
	for _, tc := range tests {
		got, err := ParseTime(tc.in)
		switch {
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("ParseTime(%q) error %v, want %q", tc.in, err, tc.err)
		case tc.err == "" && (err != nil || got != tc.want):
			t.Errorf("ParseTime(%q) = %d, %v, want %d", tc.in, got, err, tc.want)
		}
	}
}

func TestLoadZip(t *testing.T) {
	// Load reads zips through the same LoadFS: write good/ as a zip, with
	// its files in a folder as some publishers pack them.
	zipPath := writeZip(t, filepath.Join("testdata", "good"), "feed/")
	f, err := Load(zipPath)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Trips) != 2+18 {
		t.Errorf("%d trips, want T1, T2 and 18 runs of T3", len(f.Trips))
	}
	if _, err := Load(filepath.Join(t.TempDir(), "absent.zip")); err == nil {
		t.Error("loaded an absent file")
	}
}
