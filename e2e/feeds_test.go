package e2e

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestAgencyFeeds runs a mixed fleet: one bus on Headway's own agent
// (firmware-sim PTY -> vehicle agent -> MQTT), one from an agency's
// GTFS-Realtime VehiclePositions feed and one from a SIRI VM feed (both
// served by firmware-sim -avl, as an agency's AVL system would). The hub
// polls the two feeds (feeds.vehicles), tracks all three buses with the
// same tracker, and one sign (CEN and TRA1) shows each with realtime times.
func TestAgencyFeeds(t *testing.T) {
	skipShort(t)
	rtPort, vmPort := freePort(t), freePort(t)
	start(t, "avl-gtfs-rt", bins.sim, "run", "-feed", "configs/demo-feed", "-route", "1", "-toward", "CEN",
		"-avl", fmt.Sprintf("127.0.0.1:%d", rtPort), "-name", "rt", "-send-trip", "-seed", "11")
	start(t, "avl-siri", bins.sim, "run", "-feed", "configs/demo-feed", "-route", "2", "-toward", "CEN",
		"-avl", fmt.Sprintf("127.0.0.1:%d", vmPort), "-name", "vm", "-send-trip", "-seed", "12")
	sys, _ := startHubConfig(t, func(string) string {
		return fmt.Sprintf("boards: {refresh: 2s}\nfeeds:\n  vehicles:\n"+
			"    - {name: agency-rt, url: \"http://127.0.0.1:%d/vehicle-positions.pb?key=k1\", every: 2s, vehicle_prefix: \"agency-\"}\n"+
			"    - {name: agency-siri, url: \"http://127.0.0.1:%d/vehicle-monitoring.xml\", format: siri-vm, every: 2s, vehicle_prefix: \"siri-\"}\n",
			rtPort, vmPort)
	})

	link := filepath.Join(t.TempDir(), "gps")
	sim := start(t, "firmware-sim", bins.sim, "run", "-feed", "configs/demo-feed", "-route", "3", "-toward", "TRA1", "-link", link, "-seed", "13")
	var m []string
	eventually(t, 20*time.Second, "the simulator's receiver", func() bool {
		m = announce.FindStringSubmatch(sim.output())
		return m != nil
	})
	// CEN is route 3's terminus: its bus is shown on its way to TRA1.
	sys.startStation(t, "CEN", "TRA1")
	// The agent runs with its trip set, so that no one waits on trip
	// inference here (TestEndToEnd covers that).
	sys.startVehicle(t, "bus-1", m[1], m[4])

	// All three, from three sources, with realtime rows on the one sign.
	want := []string{"bus-1", "agency-rt0", "siri-vm0"}
	var seen map[string]bool
	eventually(t, 90*time.Second, "realtime rows of "+strings.Join(want, ", ")+" on the sign at CEN and TRA1", func() bool {
		var b signBoard
		if getJSON(t, sys.signHTTP+"/board.json", &b) != nil {
			return false
		}
		seen = map[string]bool{}
		for _, st := range b.Stops {
			for _, a := range st.Arrivals {
				if a.Source == "realtime" {
					seen[a.Vehicle] = true
				}
			}
		}
		for _, v := range want {
			if !seen[v] {
				return false
			}
		}
		return true
	})

	// Every bus came with its trip: GTFS-Realtime trip_id, SIRI
	// DatedVehicleJourneyRef, the agent's configured trip.
	vs := map[string]hubVehicle{}
	for _, id := range want {
		v, ok := sys.vehicle(t, id)
		if !ok {
			t.Fatalf("hub has no vehicle %s", id)
		}
		vs[id] = v
	}
	if vs["agency-rt0"].TripSource != "reported" || vs["siri-vm0"].TripSource != "reported" || vs["bus-1"].TripSource != "reported" {
		t.Errorf("trip sources: GTFS-RT bus %q, SIRI bus %q, agent's bus %q", vs["agency-rt0"].TripSource, vs["siri-vm0"].TripSource, vs["bus-1"].TripSource)
	}

	// The feeds' health, for operators; the key in the URL's query is
	// not shown.
	type feedHealth struct {
		Name      string            `json:"name"`
		Source    string            `json:"source"`
		OK        bool              `json:"ok"`
		Vehicles  int               `json:"vehicles"`
		Positions map[string]uint64 `json:"positions"`
	}
	var feeds []feedHealth
	eventually(t, 30*time.Second, "three positions taken from each feed", func() bool {
		feeds = nil
		if getJSON(t, sys.hubHTTP+"/api/feeds", &feeds) != nil || len(feeds) != 2 {
			return false
		}
		return feeds[0].Positions["accepted"] >= 3 && feeds[1].Positions["accepted"] >= 3
	})
	for _, f := range feeds {
		if !f.OK || f.Vehicles != 1 || strings.Contains(f.Source, "k1") {
			out, _ := json.Marshal(f)
			t.Errorf("feed %s", out)
		}
	}
	metrics, err := httpGet(sys.hubHTTP + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{`headway_feed_positions_total{feed="agency-rt",result="accepted"}`, `headway_feed_vehicles{feed="agency-siri"} 1`, `headway_feed_polls_total{feed="agency-rt",result="ok"}`, `headway_feed_up{feed="agency-siri",kind="vehicles"} 1`} {
		if !strings.Contains(string(metrics), s) {
			t.Errorf("/metrics lacks %s", s)
		}
	}
}
