package gtfscheck

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const fixtures = "../../../../shared/testdata/gtfs/transitfeed-fixtures"

func TestDemoFeed(t *testing.T) {
	var out, progress bytes.Buffer
	if err := Run(context.Background(), "../../../configs/demo-feed", &out, &progress); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	for _, want := range []string{
		"feed         ../../../configs/demo-feed\n",
		"agencies     1: ",
		"routes       3\n",
		"problems     0 errors, 0 warnings\n",
		"service days 2",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	for _, want := range []string{"read agency.txt: 1 rows, ", "read stop_times.txt: ", "checked ../../../configs/demo-feed in "} {
		if !strings.Contains(progress.String(), want) {
			t.Errorf("progress lacks %q:\n%s", want, progress.String())
		}
	}
	t.Logf("\n%s%s", out.String(), progress.String())
}

// TestBrokenFeed checks a feed with errors in two files: both are listed,
// by place, and the command fails.
func TestBrokenFeed(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"agency.txt":     "agency_name,agency_timezone\nA,Europe/Rome\n",
		"stops.txt":      "stop_id,stop_lat,stop_lon\nS1,44.4,8.9\nS2,44.5,8.9\n",
		"routes.txt":     "route_id,route_type,route_short_name\nR,3,1\n",
		"calendar.txt":   "service_id,monday,tuesday,wednesday,thursday,friday,saturday,sunday,start_date,end_date\nW,1,1,1,1,1,0,0,20260101,2026-12-31\n",
		"trips.txt":      "route_id,service_id,trip_id\nR,W,T\n",
		"stop_times.txt": "trip_id,arrival_time,departure_time,stop_id,stop_sequence\nT,8:00:00,8:00:00,S1,1\nT,8:10:00,8:10:00,S2,2\n",
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var out bytes.Buffer
	err := Run(context.Background(), dir, &out, nil)
	if !errors.Is(err, ErrFeed) {
		t.Fatalf("err = %v, want ErrFeed", err)
	}
	want := "problems     1 error, 0 warnings\nerror: calendar.txt:2: end_date \"2026-12-31\": want YYYYMMDD\n"
	if !strings.HasSuffix(out.String(), want) {
		t.Errorf("output:\n%s\nwant it to end:\n%s", out.String(), want)
	}
}

func TestFixtures(t *testing.T) {
	if _, err := os.Stat(fixtures); err != nil {
		t.Skipf("no transitfeed fixtures: %s is absent (CI has it)", fixtures)
	}
	tests := []struct {
		feed string
		fail bool
		want []string
	}{
		{"good_feed.zip", false, []string{"problems     0 errors, 0 warnings\n", "frequencies  3 trips in 11 windows"}},
		{"utf8bom", false, []string{"warning: agency.txt:1: starts with a UTF-8 byte order mark"}},
		{"bad_date_format", true, []string{
			"problems     2 errors, 0 warnings\n" +
				"error: calendar.txt:2: start_date \"2007.01.01\": want YYYYMMDD\n" +
				"error: calendar_dates.txt:2: date \"2007-06-04\": want YYYYMMDD\n",
		}},
		{"utf16", true, []string{"error: agency.txt:1: encoded as UTF-16"}},
	}
	for _, tc := range tests {
		t.Run(tc.feed, func(t *testing.T) {
			var out bytes.Buffer
			err := Command(context.Background(), []string{"check", filepath.Join(fixtures, tc.feed)}, &out, &bytes.Buffer{})
			if (err != nil) != tc.fail {
				t.Errorf("err = %v, want failure %v", err, tc.fail)
			}
			for _, w := range tc.want {
				if !strings.Contains(out.String(), w) {
					t.Errorf("output lacks %q:\n%s", w, out.String())
				}
			}
		})
	}
}

func TestCommandArgs(t *testing.T) {
	var out, errOut bytes.Buffer
	if err := Command(context.Background(), []string{"check"}, &out, &errOut); err == nil || !strings.Contains(errOut.String(), "usage: hub gtfs check") {
		t.Errorf("no FEED: err %v, stderr %q", err, errOut.String())
	}
	if err := Command(context.Background(), []string{"lint", "x"}, &out, &errOut); err == nil {
		t.Error("unknown subcommand accepted")
	}
	errOut.Reset()
	if err := Command(context.Background(), []string{"check", "-progress", "../../../configs/demo-feed"}, &out, &errOut); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(errOut.String(), "read stop_times.txt: ") {
		t.Errorf("-progress wrote %q", errOut.String())
	}
	out.Reset()
	if err := Command(context.Background(), []string{"check", filepath.Join(t.TempDir(), "absent.zip")}, &out, &errOut); err == nil || !strings.Contains(out.String(), "problems     1 error") {
		t.Errorf("absent feed: err %v, out %q", err, out.String())
	}
}

func TestCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := Run(ctx, "../../../configs/demo-feed", &bytes.Buffer{}, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}
