package dispatch

import (
	"os"
	"testing"
	"time"

	"github.com/headway-transit/headway/internal/gtfs"
)

const demoFeed = "../../../configs/demo-feed"

func loadDemo(t testing.TB) *gtfs.Feed {
	t.Helper()
	if _, err := os.Stat(demoFeed); err != nil {
		t.Skipf("no demo feed at %s: %v", demoFeed, err)
	}
	f, err := gtfs.Load(demoFeed)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestCurrentPicksRunsInProgress(t *testing.T) {
	feed := loadDemo(t)
	d := New(feed)
	tests := []struct {
		name string
		at   time.Time
	}{
		{"morning", time.Date(2026, 11, 27, 8, 13, 0, 0, feed.Location)},
		// Trips of the 26th run past midnight: the service day before counts.
		{"just after midnight", time.Date(2026, 11, 28, 0, 3, 0, 0, feed.Location)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			seen := map[runKey]bool{}
			for range 3 {
				r, err := d.Current("1", tc.at)
				if err != nil {
					t.Fatal(err)
				}
				if r.Departs().After(tc.at) || !r.Arrives().After(tc.at) {
					t.Errorf("%s runs %v to %v, not in progress at %v", r, r.Departs(), r.Arrives(), tc.at)
				}
				if seen[r.key()] {
					t.Errorf("%s handed out twice", r)
				}
				seen[r.key()] = true
			}
		})
	}
}

func TestCurrentPrefersEarlyInRun(t *testing.T) {
	feed := loadDemo(t)
	at := time.Date(2026, 11, 27, 8, 13, 0, 0, feed.Location)
	d := New(feed)
	first, err := d.Current("1", at)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range New(feed).runs(d.byRoute["1"], at, at) {
		if r.Trip.RouteID == "1" && r.Departs().After(first.Departs()) && !r.Departs().After(at) {
			t.Errorf("%s started later than the chosen %s", r, first)
		}
	}
}

func TestRouteByShortName(t *testing.T) {
	feed := loadDemo(t)
	d := New(feed)
	for id, r := range feed.Routes {
		got, err := d.Route(r.ShortName)
		if err != nil {
			t.Fatal(err)
		}
		if got.ID != id {
			t.Errorf("short name %q gave route %s, want %s", r.ShortName, got.ID, id)
		}
	}
	if _, err := d.Route("no such route"); err == nil {
		t.Error("want an error for an unknown route")
	}
}

func TestNextStartsNearTheEnd(t *testing.T) {
	feed := loadDemo(t)
	d := New(feed)
	at := time.Date(2026, 11, 27, 8, 13, 0, 0, feed.Location)
	r, err := d.Current("2", at)
	if err != nil {
		t.Fatal(err)
	}
	last := r.Trip.StopTimes[len(r.Trip.StopTimes)-1].Stop.Point()
	n, err := d.Next(r, r.Arrives(), last)
	if err != nil {
		t.Fatal(err)
	}
	if n.Departs().Before(r.Arrives().Add(-Late)) {
		t.Errorf("next %s departs %v, long before %s arrives %v", n, n.Departs(), r, r.Arrives())
	}
	if n.Trip.DirectionID == r.Trip.DirectionID {
		t.Errorf("next %s goes the same way as %s; want the return trip from the terminus", n, r)
	}
}

func TestTripUnknown(t *testing.T) {
	feed := loadDemo(t)
	if _, err := New(feed).Trip("no such trip", time.Now()); err == nil {
		t.Error("want an error")
	}
}

func TestTowardReachesTheStopSoon(t *testing.T) {
	feed := loadDemo(t)
	d := New(feed)
	at := time.Date(2026, 11, 27, 9, 10, 30, 0, feed.Location)
	for _, route := range []string{"1", "2", "3", "1"} {
		r, err := d.Toward(route, "CEN", at, 2*time.Minute)
		if err != nil {
			t.Fatalf("route %s: %v", route, err)
		}
		k := -1
		for i, st := range r.Trip.StopTimes[:len(r.Trip.StopTimes)-1] {
			if st.StopID == "CEN" {
				k = i
			}
		}
		if k < 0 {
			t.Fatalf("%s does not board at CEN", r)
		}
		// Every 10 minutes each way: the soonest call is within 12 minutes.
		if due := r.Trip.ArrivalAt(r.Base, k).Sub(at); due < 2*time.Minute || due > 12*time.Minute {
			t.Errorf("%s reaches CEN in %v, want 2 to 12 minutes", r, due)
		}
	}
	if _, err := d.Toward("1", "NOPE", at, time.Minute); err == nil {
		t.Error("a route that never calls at the stop gave a run")
	}
}

// Spread puts buses on the runs in progress first, then on the next to
// depart, never one run twice, round-robin over the routes.
func TestSpread(t *testing.T) {
	feed := loadDemo(t)
	at := time.Date(2026, 11, 27, 8, 13, 0, 0, feed.Location)
	tests := []struct {
		name   string
		routes []string
		n      int
	}{
		{"one bus", []string{"1"}, 1},
		{"more buses than runs in progress", []string{"1", "2", "3"}, 120},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := New(feed)
			runs, err := d.Spread(tc.routes, tc.n, at)
			if err != nil {
				t.Fatal(err)
			}
			if len(runs) != tc.n {
				t.Fatalf("%d runs for %d buses", len(runs), tc.n)
			}
			seen := map[runKey]bool{}
			waiting := false
			for i, r := range runs {
				if want := tc.routes[i%len(tc.routes)]; r.Trip.RouteID != want {
					t.Errorf("bus %d on route %s, want %s", i, r.Trip.RouteID, want)
				}
				if seen[r.key()] {
					t.Errorf("%s handed out twice", r)
				}
				seen[r.key()] = true
				if !r.Arrives().After(at) {
					t.Errorf("%s is over at %v", r, at)
				}
				inProgress := !r.Departs().After(at)
				if inProgress && waiting && r.Trip.RouteID == tc.routes[0] {
					t.Errorf("bus %d got %s in progress after a bus of its route got a future run", i, r)
				}
				if !inProgress && r.Trip.RouteID == tc.routes[0] {
					waiting = true
				}
			}
			if tc.n > 100 && !waiting {
				t.Error("no bus waits for a future run; the demo feed has fewer than 100 runs in progress")
			}
			// The first bus gets what Current would give it.
			cur, err := New(feed).Current(tc.routes[0], at)
			if err != nil {
				t.Fatal(err)
			}
			if cur.key() != runs[0].key() {
				t.Errorf("first bus on %s, Current gives %s", runs[0], cur)
			}
		})
	}
}

// Block gives the block's trips of one service day in order, from the one
// in progress; asked again, the next day's.
func TestBlock(t *testing.T) {
	feed := loadDemo(t)
	at := time.Date(2026, 11, 27, 8, 13, 0, 0, feed.Location)
	d := New(feed)
	runs, err := d.Block("1-bus03", at)
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) < 10 {
		t.Fatalf("%d runs left in the day of block 1-bus03", len(runs))
	}
	if !runs[0].Arrives().After(at) {
		t.Errorf("first run %s is over at %v", runs[0], at)
	}
	for i, r := range runs {
		if r.Trip.BlockID != "1-bus03" || r.Date != runs[0].Date {
			t.Errorf("run %d: %s of block %s", i, r, r.Trip.BlockID)
		}
		if i > 0 && r.Departs().Before(runs[i-1].Arrives()) {
			t.Errorf("%s departs %v before %s arrives %v", r, r.Departs(), runs[i-1], runs[i-1].Arrives())
		}
	}
	next, err := d.Block("1-bus03", runs[len(runs)-1].Arrives())
	if err != nil {
		t.Fatal(err)
	}
	if next[0].Date != runs[0].Date.AddDays(1) {
		t.Errorf("after the day's block: %s, want the next day's", next[0])
	}
	if _, err := d.Block("no-such-block", at); err == nil {
		t.Error("want an error for an unknown block")
	}
}
