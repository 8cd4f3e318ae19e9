package e2e

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/headway-transit/headway/internal/geo"
	"github.com/headway-transit/headway/internal/gtfs"
)

// TestMissedTrips runs a fleet of simulated buses reporting their trips,
// with trips under way not run (firmware-sim -skip-trips: the ones a fifth
// of the trips skipped would give at this hour vary too much),
// and checks the hub's output against the simulator's truth: once
// tracking.missed_after past its departure, no trip that no bus ran has a
// realtime prediction, on any board or in GTFS-Realtime, and its rows say
// no_bus. (Before its departure a bus waiting at the terminal may be
// predicted for it: which trip a waiting bus runs is known when it leaves.)
func TestMissedTrips(t *testing.T) {
	skipShort(t)
	feed, err := gtfs.Load(filepath.Join(bins.root, "configs/demo-feed"))
	if err != nil {
		t.Fatal(err)
	}
	s, _ := startHubConfig(t, func(string) string {
		return "boards: {refresh: 2s, horizon: 60m}\ntracking: {missed_after: 1m}\n"
	})

	// Trips under way, for four minutes more at least, from every route
	// (with 10-minute headways and 16-minute trips there is one on every
	// shape at any hour): the fleet puts a bus on each trip in progress but these.
	// The trips after them on the same shape that leave before the test
	// ends are not run either. The buses report their trips: with trips
	// inferred, a bus running late just after a missed trip is still
	// sometimes taken for the missed one (issue 21, not done), which would
	// make this test fail by the hour.
	now := time.Now()
	end := now.Add(4 * time.Minute)
	skip := map[string]time.Time{}
	shapes := map[*geo.Polyline]bool{}
	today := gtfs.DateOf(now, feed.Location)
	for _, d := range []gtfs.Date{today.AddDays(-1), today} {
		ds := feed.ServiceDayStart(d)
		for _, tr := range feed.Trips {
			dep, last := tr.DepartureAt(ds, 0), tr.ArrivalAt(ds, len(tr.StopTimes)-1)
			if len(shapes) < 4 && feed.ServiceRunsOn(tr.ServiceID, d) && now.After(dep) && last.Sub(now) > 4*time.Minute && !shapes[tr.Path] {
				skip[tr.ID], shapes[tr.Path] = dep, true
			}
		}
	}
	if len(skip) < 2 {
		t.Fatalf("the demo feed has %d trips under way at %v: it runs all day, so the feed or the clock is off", len(skip), now)
	}
	for _, d := range []gtfs.Date{today.AddDays(-1), today} {
		ds := feed.ServiceDayStart(d)
		for _, tr := range feed.Trips {
			if dep := tr.DepartureAt(ds, 0); shapes[tr.Path] && feed.ServiceRunsOn(tr.ServiceID, d) && dep.After(now) && dep.Before(end) {
				skip[tr.ID] = dep
			}
		}
	}
	var ids []string
	for id := range skip {
		ids = append(ids, id)
	}
	truth := filepath.Join(s.dir, "truth.jsonl")
	start(t, "firmware-sim", bins.sim, "fleet", "-feed", "configs/demo-feed", "-vehicles", "60", "-mqtt", s.mqttURL,
		"-clients", "2", "-skip-trips", strings.Join(ids, ","), "-seed", "11", "-truth", truth)

	// The simulator says it runs none of those under way (it writes a
	// skipped trip once its departure time has passed).
	skipped := map[string]time.Time{}
	eventually(t, 30*time.Second, "the simulator's skipped trips", func() bool {
		got := skippedTrips(t, truth)
		for id, dep := range skip {
			if _, ok := got[id]; !ok && dep.Before(now) {
				return false
			}
		}
		return true
	})
	for id, dep := range skip {
		skipped[id] = dep
	}
	t.Logf("%d trips not run: %v", len(skipped), skipped)

	// Let the hub place the buses (missed_after, a minute of fixes), then
	// watch it for 45 s: no realtime for a skipped trip, ever.
	eventually(t, 60*time.Second, "vehicles at the hub", func() bool {
		var vs []hubVehicle
		return getJSON(t, s.hubHTTP+"/api/vehicles", &vs) == nil && len(vs) >= 10
	})
	settle := time.Now().Add(time.Minute)
	stopsOf := map[string][]string{} // skipped trip -> its stops
	for trip := range skipped {
		for _, st := range feed.Trips[trip].StopTimes {
			stopsOf[trip] = append(stopsOf[trip], st.StopID)
		}
	}
	// A trip not run can be known as missed only once it should have left:
	// the hub has until missed_after (1 min here) and a board refresh.
	missed := func(dep time.Time) bool { return time.Since(dep) > 75*time.Second }
	checks, labelled := 0, 0
	for time.Now().Before(settle.Add(45 * time.Second)) {
		warm := time.Now().After(settle)
		// protojson: a run with no bus has one NO_DATA update and no times.
		var fm struct {
			Entity []struct {
				TripUpdate *struct {
					Trip struct {
						TripID string `json:"tripId"`
					} `json:"trip"`
					StopTimeUpdate []struct {
						ScheduleRelationship string          `json:"scheduleRelationship"`
						Arrival              json.RawMessage `json:"arrival"`
					} `json:"stopTimeUpdate"`
				} `json:"tripUpdate"`
			} `json:"entity"`
		}
		if err := getJSON(t, s.hubHTTP+"/gtfs-rt/trip-updates?format=json", &fm); err != nil {
			t.Fatal(err)
		}
		for _, e := range fm.Entity {
			tu := e.TripUpdate
			if tu == nil {
				continue
			}
			if dep, ok := skipped[tu.Trip.TripID]; !ok || !warm || !missed(dep) {
				continue
			}
			for _, u := range tu.StopTimeUpdate {
				if u.ScheduleRelationship != "NO_DATA" || len(u.Arrival) > 0 {
					t.Errorf("GTFS-Realtime predicts trip %s, which no bus runs: %+v", tu.Trip.TripID, tu.StopTimeUpdate)
					break
				}
			}
		}
		for trip, stops := range stopsOf {
			for _, stop := range stops {
				var b struct {
					Arrivals []struct {
						Trip, Source, Status, Vehicle string
					} `json:"arrivals"`
				}
				if err := getJSON(t, s.hubHTTP+"/api/stops/"+stop+"/board", &b); err != nil {
					t.Fatal(err)
				}
				for _, a := range b.Arrivals {
					if a.Trip != trip {
						continue
					}
					if a.Source == "realtime" && warm && missed(skipped[trip]) {
						t.Errorf("stop %s: a realtime row for trip %s, which no bus runs (from %s)", stop, trip, a.Vehicle)
					}
					if time.Since(skipped[trip]) > 75*time.Second && a.Source != "realtime" {
						// missed_after is 1 min, plus a board refresh.
						if a.Status != "no_bus" {
							t.Errorf("stop %s: trip %s, %v past its departure with no bus, has status %q, want no_bus",
								stop, trip, time.Since(skipped[trip]).Round(time.Second), a.Status)
						} else {
							labelled++
						}
					}
				}
			}
		}
		checks++
		time.Sleep(2 * time.Second)
	}
	if labelled == 0 {
		t.Error("no row of a skipped trip was ever labelled no_bus: the test saw none ahead of its departure")
	}
	t.Logf("%d rounds of checks, %d no_bus rows seen", checks, labelled)
}

// skippedTrips reads the simulator's truth file: each skipped trip with its
// scheduled departure.
func skippedTrips(t testing.TB, path string) map[string]time.Time {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	out := map[string]time.Time{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if !strings.Contains(sc.Text(), `"skip"`) {
			continue
		}
		var l struct {
			Type, Trip string
			Departure  time.Time `json:"scheduled_departure"`
		}
		if json.Unmarshal(sc.Bytes(), &l) == nil && l.Type == "skip" {
			out[l.Trip] = l.Departure
		}
	}
	return out
}
