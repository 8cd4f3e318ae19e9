package e2e

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/headway-transit/headway/internal/tlsfiles"
	"github.com/headway-transit/headway/internal/tlsfiles/tlstest"
	"github.com/headway-transit/headway/internal/wire"
)

// TestClusterUsers: three clustered hubs with accounts (mqtt.users, the
// same on each), all on TLS: https, mqtts and the routes between the hubs,
// each hub verifying the others' certificates against the agency's CA.
// A vehicle agent with its password reaches exactly one hub's tracker
// whichever hub it connects to; one with a wrong password is kept out; a
// bus logged in as itself cannot publish as another.
func TestClusterUsers(t *testing.T) {
	skipShort(t)
	users := `  users:
    - {username: bus-1, password: "bus-1-long-password"}
    - {username: bus-2, password: "bus-2-long-password"}
    - {username: bus-3, password: "bus-3-long-password"}
`
	ca := tlstest.NewCA(t, "agency")
	c := startHubClusterWith(t, 3, clusterOpts{mqtt: users, ca: ca})
	links := simReceivers(t, 3)
	dir := t.TempDir()
	// bus-1 on hub a, bus-2 on hub b, each listing the others after;
	// bus-3 with a wrong password on hub c.
	agent := func(i int, id, password string) *proc {
		urls := make([]string, 0, 3)
		for _, u := range c.urls(i, false) {
			urls = append(urls, fmt.Sprintf("%q", u))
		}
		cfg := writeFile(t, dir, id+".yaml", fmt.Sprintf("vehicle: %s\ngps: {port: %q}\nmqtt: {urls: [%s], username: %s, password: %q, ca_file: %q}\noutbox: {path: %q}\n",
			id, links[i], strings.Join(urls, ", "), id, password, ca.File, filepath.Join(dir, id+"-outbox.db")))
		return start(t, id, bins.agent, "vehicle", "-config", cfg)
	}
	agent(0, "bus-1", "bus-1-long-password")
	agent(1, "bus-2", "bus-2-long-password")
	bad := agent(2, "bus-3", "not-the-password")

	eventually(t, 60*time.Second, "bus-1 and bus-2 each tracked by exactly one hub", func() bool {
		on := tracked(t, c.hubs)
		return len(on["bus-1"]) == 1 && len(on["bus-2"]) == 1
	})
	eventually(t, 20*time.Second, "bus-3's agent reporting the refused login", func() bool {
		out := strings.ToLower(bad.output())
		return strings.Contains(out, "not authorized") || strings.Contains(out, "bad user name or password")
	})

	// bus-1, logged in as itself on hub c, publishes as bus-9: refused by
	// the broker, so no hub ever hears of bus-9.
	tlsCfg, err := tlsfiles.Client(ca.File, "", "")
	if err != nil {
		t.Fatal(err)
	}
	cl := mqtt.NewClient(mqtt.NewClientOptions().AddBroker(c.hubs[2].mqttURL).SetClientID("bus-1-posing").
		SetUsername("bus-1").SetPassword("bus-1-long-password").SetProtocolVersion(4).SetTLSConfig(tlsCfg))
	if tok := cl.Connect(); !tok.WaitTimeout(30*time.Second) || tok.Error() != nil {
		t.Fatalf("bus-1 logging in on hub c: %v", tok.Error())
	}
	defer cl.Disconnect(100)
	now := time.Now().UTC()
	p := wire.Position{V: wire.Version, Vehicle: "bus-9", Seq: 1, Time: now, Lat: 44.387913, Lon: 8.881118, Mode: 3}
	b, err := p.Encode()
	if err != nil {
		t.Fatal(err)
	}
	cl.Publish(wire.Topics{}.Position("bus-9"), 1, false, b).WaitTimeout(10 * time.Second)
	time.Sleep(3 * time.Second) // it would have reached a hub by now
	// Counted where they happened, hub c.
	metrics, err := httpGet(c.hubs[2].hubHTTP + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []string{"headway_mqtt_logins_refused_total", "headway_mqtt_permission_violations_total"} {
		if !strings.Contains(string(metrics), "\n"+m+" ") || strings.Contains(string(metrics), "\n"+m+" 0\n") {
			t.Errorf("hub c's %s not counted", m)
		}
	}
	for i, s := range c.hubs {
		if _, ok := s.vehicle(t, "bus-9"); ok {
			t.Errorf("hub %c tracks bus-9, published by bus-1", 'a'+i)
		}
		if _, ok := s.vehicle(t, "bus-3"); ok {
			t.Errorf("hub %c tracks bus-3, whose password was wrong", 'a'+i)
		}
	}
}
