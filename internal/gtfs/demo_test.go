package gtfs

import (
	"math"
	"testing"
)

// TestDemoFeed checks the generated demo feed in configs/demo-feed keeps the
// promises its README makes.
func TestDemoFeed(t *testing.T) {
	f, err := Load("../../configs/demo-feed")
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Warnings) > 0 {
		t.Errorf("warnings: %q", f.Warnings)
	}
	if len(f.Routes) != 3 {
		t.Errorf("%d routes, want 3", len(f.Routes))
	}
	type dir struct {
		route string
		dir   int
	}
	// Per route and direction: which 10-minute windows of the day have a
	// trip leaving its first stop.
	windows := map[dir]*[144]bool{}
	for _, tr := range f.Trips {
		checkTrip(t, tr)
		k := dir{tr.RouteID, tr.DirectionID}
		if windows[k] == nil {
			windows[k] = new([144]bool)
		}
		if w := tr.StopTimes[0].Departure / 600; w < 144 {
			windows[k][w] = true
		}
		for _, st := range tr.StopTimes {
			pr := tr.Path.Project(st.Stop.Point(), 0, tr.Path.Length())
			if math.Abs(pr.Dist-st.Dist) > 30 || pr.Offset > 30 {
				t.Fatalf("trip %s stop %s: Dist %.1f, projection %.1f (%.1f m off the path)", tr.ID, st.StopID, st.Dist, pr.Dist, pr.Offset)
			}
		}
	}
	if len(windows) != 6 {
		t.Errorf("%d route directions, want 6: %v", len(windows), windows)
	}
	for k, w := range windows {
		for i, ok := range w {
			if !ok {
				t.Errorf("route %s direction %d: no trip leaves between %s and %s", k.route, k.dir, FormatTime(i*600), FormatTime(i*600+600))
			}
		}
	}
	routesAtCentral := map[string]bool{}
	for _, c := range f.Calls("CEN") {
		routesAtCentral[c.Trip.RouteID] = true
	}
	if len(routesAtCentral) != 3 {
		t.Errorf("routes calling at CEN: %v, want all 3", routesAtCentral)
	}
	for _, tr := range f.Trips {
		for d := (Date{2026, 11, 23}); d.Compare(Date{2026, 11, 29}) <= 0; d = d.AddDays(1) {
			if !f.ServiceRunsOn(tr.ServiceID, d) {
				t.Fatalf("trip %s does not run on %s (%s)", tr.ID, d, d.Weekday())
			}
		}
	}
}
