package e2e

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/headway-transit/headway/internal/gtfs"
)

// TestMissedTrips runs a fleet of simulated buses, trips inferred by the
// hub, with a fifth of the scheduled trips not run (firmware-sim -skip),
// and checks the hub's output against the simulator's truth: no trip that
// no bus ran has a realtime prediction, on any board or in GTFS-Realtime,
// and once tracking.missed_after past its departure its rows say no_bus.
func TestMissedTrips(t *testing.T) {
	skipShort(t)
	feed, err := gtfs.Load(filepath.Join(bins.root, "configs/demo-feed"))
	if err != nil {
		t.Fatal(err)
	}
	s, _ := startHubConfig(t, func(string) string {
		return "boards: {refresh: 2s, horizon: 60m}\ntracking: {missed_after: 1m}\n"
	})

	truth := filepath.Join(s.dir, "truth.jsonl")
	start(t, "firmware-sim", bins.sim, "fleet", "-feed", "configs/demo-feed", "-vehicles", "60", "-mqtt", s.mqttURL,
		"-clients", "2", "-send-trip=false", "-skip", "0.2", "-seed", "11", "-truth", truth)

	// The trips under way when the fleet started that no bus runs: the
	// simulator writes them at once.
	var skipped map[string]time.Time
	eventually(t, 30*time.Second, "the simulator's skipped trips", func() bool {
		skipped = skippedTrips(t, truth)
		return len(skipped) >= 2
	})
	t.Logf("%d trips skipped: %v", len(skipped), skipped)

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
	tripID := regexp.MustCompile(`"tripId":\s*"([^"]+)"`)
	checks, labelled := 0, 0
	for time.Now().Before(settle.Add(45 * time.Second)) {
		warm := time.Now().After(settle)
		raw, err := httpGet(s.hubHTTP + "/gtfs-rt/trip-updates?format=json")
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range tripID.FindAllSubmatch(raw, -1) {
			if _, ok := skipped[string(m[1])]; ok && warm {
				t.Errorf("GTFS-Realtime predicts trip %s, which no bus runs", m[1])
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
					if a.Source == "realtime" && warm {
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
