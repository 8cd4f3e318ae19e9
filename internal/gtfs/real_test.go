package gtfs

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// sharedTestdata is the project's shared test data, beside the repository.
const sharedTestdata = "../../../shared/testdata"

// realFeeds returns the real feeds under ../shared/testdata, skipping the
// test when that folder is absent. The transitfeed fixtures are left out:
// most are broken on purpose.
func realFeeds(tb testing.TB) []string {
	tb.Helper()
	if _, err := os.Stat(sharedTestdata); err != nil {
		tb.Skipf("no real feeds: %s is absent (CI has it; see its SOURCES.md)", sharedTestdata)
	}
	var feeds []string
	for _, root := range []string{"gtfs", "avl"} {
		err := filepath.WalkDir(filepath.Join(sharedTestdata, root), func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() && d.Name() == "transitfeed-fixtures" {
				return filepath.SkipDir
			}
			if d.IsDir() {
				if _, err := os.Stat(filepath.Join(p, "stop_times.txt")); err == nil {
					feeds = append(feeds, p)
				}
				return nil
			}
			if strings.HasSuffix(p, ".zip") {
				feeds = append(feeds, p)
			}
			return nil
		})
		if err != nil {
			tb.Fatal(err)
		}
	}
	if len(feeds) == 0 {
		tb.Fatalf("no feeds found under %s", sharedTestdata)
	}
	return feeds
}

func TestLoadRealFeeds(t *testing.T) {
	for _, p := range realFeeds(t) {
		name, _ := filepath.Rel(sharedTestdata, p)
		t.Run(name, func(t *testing.T) {
			f, err := Load(p)
			if err != nil {
				t.Fatal(err)
			}
			if len(f.Trips) == 0 {
				t.Fatal("no trips")
			}
			nst := 0
			for _, tr := range f.Trips {
				nst += len(tr.StopTimes)
				checkTrip(t, tr)
			}
			t.Logf("%d stops, %d routes, %d trips, %d stop times, %d shapes, %d services, %d warnings",
				len(f.Stops), len(f.Routes), len(f.Trips), nst, len(f.Shapes), len(f.Services), len(f.Warnings))
			for i, w := range f.Warnings {
				if i == 5 {
					t.Logf("  ...")
					break
				}
				t.Logf("  warning: %s", w)
			}
		})
	}
}

// checkTrip checks what Load promises of every trip.
func checkTrip(tb testing.TB, tr *Trip) {
	tb.Helper()
	if tr.Route == nil || tr.Path == nil || len(tr.StopTimes) < 2 {
		tb.Fatalf("trip %s: route %v, path %v, %d stop times", tr.ID, tr.Route, tr.Path, len(tr.StopTimes))
	}
	for i, st := range tr.StopTimes {
		if st.Stop == nil || st.Departure < st.Arrival || st.Arrival < 0 || st.Dist < 0 || st.Dist > tr.Path.Length()+1e-6 {
			tb.Fatalf("trip %s stop time %d: %+v", tr.ID, i, st)
		}
		if i > 0 {
			p := tr.StopTimes[i-1]
			if st.Sequence <= p.Sequence || st.Arrival < p.Departure || st.Dist < p.Dist {
				tb.Fatalf("trip %s stop times %d, %d out of order: %+v, %+v", tr.ID, i-1, i, p, st)
			}
		}
	}
}
