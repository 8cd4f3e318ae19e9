package gtfs

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestTransitfeedFixtures loads google/transitfeed's test feeds, each broken
// in the one way its name says, and checks the loader names that problem
// and where it is: an error for what makes a feed unreadable, a warning for
// what it can safely work around.
func TestTransitfeedFixtures(t *testing.T) {
	dir := filepath.Join(sharedTestdata, "gtfs", "transitfeed-fixtures")
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("no transitfeed fixtures: %s is absent (CI has it; see ../shared/testdata/SOURCES.md)", dir)
	}
	tests := []struct {
		name string
		// err is a substring of the load error; "" means the feed loads.
		err string
		// warn are substrings each of which some warning must contain.
		warn []string
	}{
		{name: "good_feed.zip"},
		{name: "utf8bom", warn: []string{
			"agency.txt:1: starts with a UTF-8 byte order mark; accepted",
			"stops.txt:1: starts with a UTF-8 byte order mark; accepted",
		}},
		{name: "utf16", err: "agency.txt:1: encoded as UTF-16 (big-endian byte order mark FE FF): GTFS files must be UTF-8"},
		{name: "bad_utf8", err: "agency.txt:1: header cell 5: invalid UTF-8 (byte 0xEC at offset 9 of \"badheader\uFFFD\")"},
		{name: "contains_null", err: `stops.txt:9: stop_name: contains a NUL byte`},
		{name: "missing_column", err: "agency.txt:1: missing required column agency_name"},
		{name: "extra_row_cells", warn: []string{
			"routes.txt:4: 1 row with more cells than the header (7 instead of 6, first on this line); the extra cells are empty and ignored",
		}},
		{name: "missing_row_cells", warn: []string{
			"routes.txt:4: 1 row with fewer cells than the header (6 instead of 7, first on this line); the missing cells are read as empty",
		}},
		{name: "duplicate_stop_sequence", err: `stop_times.txt:4: stop_sequence "10": trip CITY1 already has it on line 3`},
		{name: "undefined_stop", err: `stop_times.txt:11: stop_id "NADAR": not in stops.txt`},
		{name: "only_calendar_dates"},
		{name: "bad_date_format", err: `calendar.txt:2: start_date "2007.01.01": want YYYYMMDD`},
		{name: "missing_departure_time", err: `stop_times.txt:3: departure_time "": empty while arrival_time is 6:12:00: give both times, or neither`},
		{name: "negative_stop_sequence", err: `stop_times.txt:9: stop_sequence "-2": want a non-negative integer`},
		{name: "bad_eol.zip", warn: []string{
			`calendar.txt: mixes line ends: 1 CR LF "\r\n" (line 2) and 2 LF "\n" (lines 1, 3)`,
			`routes.txt:5: unusual line end "\r\r\n" (1 time in the file, first on this line)`,
			`trips.txt:1: column shape_id contains the control character U+000C`,
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, err := Load(filepath.Join(dir, tc.name))
			if tc.err != "" {
				if err == nil {
					t.Fatalf("loaded (%d trips, warnings %q), want error containing %q", len(f.Trips), f.Warnings, tc.err)
				}
				t.Logf("%v", err)
				if !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error:\n%v\nwant it to contain:\n%s", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, tr := range f.Trips {
				checkTrip(t, tr)
			}
			for _, w := range tc.warn {
				found := false
				for _, fw := range f.Warnings {
					found = found || strings.Contains(fw, w)
				}
				if !found {
					t.Errorf("no warning contains %q; warnings:\n%s", w, strings.Join(f.Warnings, "\n"))
				}
			}
			if len(f.Warnings) > 0 {
				t.Logf("warnings:\n%s", strings.Join(f.Warnings, "\n"))
			}
		})
	}
}
