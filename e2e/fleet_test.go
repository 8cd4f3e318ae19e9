package e2e

import (
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/headway-transit/headway/internal/geo"
)

// TestFleetVersions: the hub's operators set the versions they want in
// hub.yaml fleet:; a bus (retained MQTT) and a sign (WebSocket) each say
// they are behind, in /healthz and /metrics; /api/fleet lists both; a
// SIGHUP with their own version clears it everywhere.
func TestFleetVersions(t *testing.T) {
	skipShort(t)
	sys, hubCfg := startHubConfig(t, func(string) string {
		return "fleet: {vehicle_version: 2.0.0, station_version: 2.0.0+deb12}\n"
	})
	sys.startStation(t, "CEN")
	master, link := openPTY(t)
	startFeeder(t, master, geo.Point{Lat: 44.39, Lon: 8.88}, 90, time.Second)
	bus := sys.startVehicle(t, "fleet-bus", link, "")

	type health struct {
		Wanted string `json:"wanted_version"`
		Update bool   `json:"update_wanted"`
	}
	var sh, vh health
	eventually(t, 20*time.Second, "the sign told it is behind", func() bool {
		return getJSON(t, sys.signHTTP+"/healthz", &sh) == nil && sh.Update && sh.Wanted == "2.0.0+deb12"
	})
	eventually(t, 20*time.Second, "the bus told it is behind", func() bool {
		_ = getJSON(t, bus.http+"/healthz", &vh) // 503 while it has no fix yet: the body still says
		return vh.Update && vh.Wanted == "2.0.0"
	})
	if m := scrape(t, sys.signHTTP+"/metrics"); m["headway_station_update_wanted"] != 1 {
		t.Errorf("headway_station_update_wanted %v", m["headway_station_update_wanted"])
	}
	if m := scrape(t, bus.http+"/metrics"); m["headway_agent_update_wanted"] != 1 {
		t.Errorf("headway_agent_update_wanted %v", m["headway_agent_update_wanted"])
	}
	var fl struct {
		Vehicles, Stations struct {
			Wanted        string
			Total, Behind int
		}
		Behind []struct{ Role, ID, Version string }
	}
	eventually(t, 20*time.Second, "both behind in /api/fleet", func() bool {
		return getJSON(t, sys.hubHTTP+"/api/fleet", &fl) == nil && fl.Vehicles.Behind == 1 && fl.Stations.Behind == 1 && len(fl.Behind) == 2
	})
	for _, a := range fl.Behind {
		if a.Version != "dev" || (a.ID != "fleet-bus" && a.ID != "e2e-sign") {
			t.Errorf("behind: %+v", a)
		}
	}
	if m := scrape(t, sys.hubHTTP+"/metrics"); m[`headway_fleet_behind{role="vehicle"}`] != 1 || m[`headway_fleet_behind{role="station"}`] != 1 {
		t.Errorf("headway_fleet_behind: %v %v", m[`headway_fleet_behind{role="vehicle"}`], m[`headway_fleet_behind{role="station"}`])
	}

	// The operators settle on what runs: reload, and nobody is behind.
	cfg, err := os.ReadFile(hubCfg)
	if err != nil {
		t.Fatal(err)
	}
	next := strings.Replace(string(cfg), "fleet: {vehicle_version: 2.0.0, station_version: 2.0.0+deb12}", "fleet: {vehicle_version: dev, station_version: dev}", 1)
	if err := os.WriteFile(hubCfg, []byte(next), 0o600); err != nil {
		t.Fatal(err)
	}
	_ = syscall.Kill(sys.hub.cmd.Process.Pid, syscall.SIGHUP)
	eventually(t, 20*time.Second, "the sign and the bus current", func() bool {
		_ = getJSON(t, bus.http+"/healthz", &vh)
		return getJSON(t, sys.signHTTP+"/healthz", &sh) == nil && !sh.Update && sh.Wanted == "dev" && !vh.Update && vh.Wanted == "dev"
	})
	eventually(t, 10*time.Second, "nobody behind", func() bool {
		return getJSON(t, sys.hubHTTP+"/api/fleet", &fl) == nil && fl.Vehicles.Behind == 0 && fl.Stations.Behind == 0 && len(fl.Behind) == 0
	})
}
