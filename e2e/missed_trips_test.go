package e2e

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/headway-transit/headway/internal/gtfs"
	"github.com/headway-transit/headway/internal/wire"
)

// TestMissedTrips runs a fleet with a fifth of the scheduled trips not run
// (firmware-sim -skip 0.2: the agency's missed trips) through the hub on
// a simulated clock ten times as fast as the real one (25 minutes of the
// morning rush in two and a half), and checks the hub's output against the
// simulator's truth: once tracking.missed_after (2 min) and a board past
// its departure, no trip that no bus ran has a realtime prediction, on any
// board or in GTFS-Realtime, and its rows say no_bus. (Before then a bus
// waiting at the terminal may be predicted for it: which trip a waiting bus
// runs is known when it leaves.) Buses reporting their trips, and trips
// inferred by the hub, side by side.
func TestMissedTrips(t *testing.T) {
	skipShort(t)
	for _, c := range []struct {
		name     string
		sendTrip bool
	}{{"reported", true}, {"inferred", false}} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			missedTrips(t, c.sendTrip)
		})
	}
}

func missedTrips(t *testing.T, sendTrip bool) {
	const (
		rate        = 10
		missedAfter = 2 * time.Minute
		simFor      = 25 * time.Minute
	)
	feed, err := gtfs.Load(filepath.Join(bins.root, "configs/demo-feed"))
	if err != nil {
		t.Fatal(err)
	}
	clock0 := time.Date(2026, 12, 7, 7, 30, 0, 0, feed.Location)
	s, _ := startHubConfig(t, func(string) string {
		return fmt.Sprintf("boards: {refresh: 1s, horizon: 60m}\ntracking: {missed_after: %v}\n", missedAfter)
	}, "-clock", clock0.Format(time.RFC3339), "-clock-rate", fmt.Sprint(rate))
	now := hubClock(t, s, clock0, rate)
	simStart := now().Add(2 * time.Second).Truncate(time.Second)
	simEnd := simStart.Add(simFor)
	truth := filepath.Join(s.dir, "truth.jsonl")
	sim := start(t, "firmware-sim", bins.sim, "fleet", "-feed", "configs/demo-feed", "-vehicles", "40", "-mqtt", s.mqttURL,
		"-clients", "2", "-skip", "0.2", "-seed", "11", "-send-trip="+fmt.Sprint(sendTrip), "-truth", truth,
		"-start", simStart.Format(time.RFC3339), "-speedup", fmt.Sprint(rate), "-duration", simFor.String())

	// Every board and GTFS-Realtime, read over and over until the
	// simulation ends; judged against the truth, which the simulator
	// writes at its end.
	type row struct {
		at             time.Time // hub clock
		stop           string
		trip, vehicle  string
		source, status string
	}
	var rows []row
	var stops []string
	for id := range feed.Stops {
		stops = append(stops, id)
	}
	for round := 0; now().Before(simEnd); round++ {
		for _, stop := range stops {
			var b wire.Board
			if err := getJSON(t, s.hubHTTP+"/api/stops/"+stop+"/board", &b); err != nil {
				t.Fatalf("board %s: %v", stop, err)
			}
			at := now()
			for _, a := range b.Arrivals {
				rows = append(rows, row{at, stop, a.Trip, a.Vehicle, a.Source, a.Status})
			}
		}
		if round%5 != 0 {
			continue
		}
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
		at := now()
		for _, e := range fm.Entity {
			if tu := e.TripUpdate; tu != nil {
				for _, u := range tu.StopTimeUpdate {
					if u.ScheduleRelationship != "NO_DATA" || len(u.Arrival) > 0 {
						rows = append(rows, row{at, "gtfs-rt", tu.Trip.TripID, "", "realtime", ""})
						break
					}
				}
			}
		}
	}
	select {
	case <-sim.done:
	case <-time.After(60 * time.Second):
		t.Fatal("firmware-sim did not end with its -duration")
	}
	skipped := skippedTrips(t, truth)
	if len(skipped) < 5 {
		t.Fatalf("the simulator skipped %d trips in %v of the morning rush; a fifth of them was asked for", len(skipped), simFor)
	}

	// Known missed: missed_after past its departure, plus a board refresh
	// (1 s real, 10 s simulated) and the time to read every board.
	missed := func(trip string, at time.Time) bool {
		dep, ok := skipped[trip]
		return ok && at.Sub(dep) > missedAfter+30*time.Second
	}
	bad, labelled := map[string]int{}, 0
	judged := map[string]bool{}
	for _, r := range rows {
		if !missed(r.trip, r.at) || r.at.Before(simStart.Add(2*time.Minute)) {
			// (The first two minutes: the hub places the fleet.)
			continue
		}
		judged[r.trip] = true
		switch {
		case r.source == "realtime":
			bad[fmt.Sprintf("%s: a realtime row for trip %s, which no bus ran (from %q)", r.stop, r.trip, r.vehicle)]++
		case r.status != wire.StatusNoBus:
			bad[fmt.Sprintf("%s: trip %s, past its departure with no bus, has status %q, want no_bus", r.stop, r.trip, r.status)]++
		default:
			labelled++
		}
	}
	if len(bad) > 0 {
		var list []string
		for k, n := range bad {
			list = append(list, fmt.Sprintf("%s (%d times)", k, n))
		}
		sort.Strings(list)
		t.Errorf("%d of %d trips not run were shown as if run:\n%s", len(bad), len(skipped), strings.Join(list, "\n"))
	}
	if len(judged) < 3 || labelled == 0 {
		t.Errorf("only %d trips not run were seen on the boards past their departure (%d rows labelled no_bus)", len(judged), labelled)
	}
	t.Logf("%d trips not run; %d of them seen on boards once missed, in %d rows labelled no_bus", len(skipped), len(judged), labelled)
}

// hubClock reads the simulated clock of hub s (hub -clock clock0
// -clock-rate rate) once, and returns it as a clock of the test.
func hubClock(t testing.TB, s *system, clock0 time.Time, rate int) func() time.Time {
	t.Helper()
	var hz struct {
		Time time.Time `json:"time"`
	}
	if err := getJSON(t, s.hubHTTP+"/healthz", &hz); err != nil {
		t.Fatal(err)
	}
	if hz.Time.Before(clock0) || hz.Time.After(clock0.Add(10*time.Minute)) {
		t.Fatalf("hub -clock %v: /healthz says %v", clock0, hz.Time)
	}
	wall0 := time.Now()
	return func() time.Time { return hz.Time.Add(time.Since(wall0) * time.Duration(rate)) }
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
