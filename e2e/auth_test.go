package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestEmbeddedBrokerUsers runs the hub's embedded broker with accounts,
// from hub.yaml (mqtt.users) and from a register of buses (mqtt.vehicles,
// hub vehicles add): a vehicle agent with its password reaches the hub,
// one with a wrong password never does and says why in its log, and a bus
// whose password `hub vehicles revoke` revokes is cut off within seconds
// and kept out.
func TestEmbeddedBrokerUsers(t *testing.T) {
	skipShort(t)
	s := &system{dir: t.TempDir()}
	extra := fmt.Sprintf("  store: %q\n  vehicles: %q\n", filepath.Join(s.dir, "broker"), filepath.Join(s.dir, "vehicles.json"))
	httpPort, mport := freePort(t), freePort(t)
	s.hubHTTP = fmt.Sprintf("http://127.0.0.1:%d", httpPort)
	s.mqttURL = fmt.Sprintf("tcp://127.0.0.1:%d", mport)
	cfg := writeFile(t, s.dir, "hub.yaml", fmt.Sprintf(`gtfs: configs/demo-feed
http: {listen: "127.0.0.1:%d"}
mqtt:
  listen: "127.0.0.1:%d"
%s  users:
    - {username: bus-1, password: "bus-1-long-password"}
    - {username: bus-2, password: "bus-2-long-password"}
`, httpPort, mport, extra))
	vehiclesCmd := func(args ...string) string {
		cmd := exec.Command(bins.hub, append(append([]string{"vehicles"}, args...), "-config", cfg)...)
		cmd.Dir = bins.root
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("hub vehicles %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	m := regexp.MustCompile(`(?m)^(hwv_\S+)$`).FindStringSubmatch(vehiclesCmd("add", "-vehicle", "bus-3"))
	if m == nil {
		t.Fatal("hub vehicles add printed no password")
	}
	s.restartHub(t, cfg)

	agent := func(id, port, password string) *proc {
		c := writeFile(t, s.dir, id+".yaml", fmt.Sprintf("vehicle: %s\ngps: {port: %q}\nmqtt: {urls: [%q], username: %s, password: %q}\noutbox: {path: %q}\n",
			id, port, s.mqttURL, id, password, filepath.Join(s.dir, id+"-outbox.db")))
		return start(t, id, bins.agent, "vehicle", "-config", c)
	}
	links := simReceivers(t, 3)
	agent("bus-1", links[0], "bus-1-long-password")
	bad := agent("bus-2", links[1], "not-the-password")
	registered := agent("bus-3", links[2], m[1])

	for _, id := range []string{"bus-1", "bus-3"} {
		eventually(t, 30*time.Second, id+"'s fixes at the hub", func() bool {
			v, ok := s.vehicle(t, id)
			return ok && v.Accepted > 0
		})
	}
	refused := func(p *proc) bool {
		out := strings.ToLower(p.output())
		return strings.Contains(out, "not authorized") || strings.Contains(out, "bad user name or password")
	}
	eventually(t, 20*time.Second, "bus-2's agent to report the refused login", func() bool { return refused(bad) })
	if _, ok := s.vehicle(t, "bus-2"); ok {
		t.Error("bus-2, with a wrong password, reached the hub")
	}
	if list := vehiclesCmd("list"); !strings.Contains(list, "bus-3") || strings.Contains(list, m[1]) {
		t.Errorf("hub vehicles list:\n%s\nwant bus-3 listed, its password not", list)
	}

	// Revoked: the running hub cuts bus-3 off and refuses it back.
	if refused(registered) {
		t.Fatalf("bus-3 refused before its password was revoked:\n%s", registered.output())
	}
	vehiclesCmd("revoke", "-vehicle", "bus-3")
	eventually(t, 20*time.Second, "the hub to close bus-3's connection", func() bool {
		return strings.Contains(s.hub.output(), "vehicle passwords revoked or replaced")
	})
	eventually(t, 30*time.Second, "bus-3's agent refused on reconnecting", func() bool { return refused(registered) })
}

// TestSecretsFileMode: a hub or vehicle config holding a password that
// others may read is refused, saying how to fix it.
func TestSecretsFileMode(t *testing.T) {
	skipShort(t)
	dir := t.TempDir()
	hubCfg := writeFile(t, dir, "hub.yaml", fmt.Sprintf("gtfs: configs/demo-feed\nhttp: {listen: \"127.0.0.1:%d\"}\nmqtt:\n  listen: \"127.0.0.1:%d\"\n  users: [{username: bus-1, password: \"bus-1-long-password\"}]\n", freePort(t), freePort(t)))
	busCfg := writeFile(t, dir, "vehicle.yaml", fmt.Sprintf("vehicle: bus-1\ngps: {port: /dev/null}\nmqtt: {urls: [\"tcp://127.0.0.1:1\"], username: bus-1, password: \"bus-1-long-password\"}\noutbox: {path: %q}\n", filepath.Join(dir, "outbox.db")))
	for _, c := range []struct {
		name, cfg string
		args      []string
	}{
		{"hub", hubCfg, []string{bins.hub, "serve", "-config", hubCfg}},
		{"vehicle", busCfg, []string{bins.agent, "vehicle", "-config", busCfg}},
	} {
		if err := os.Chmod(c.cfg, 0o644); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(c.args[0], c.args[1:]...)
		cmd.Dir = bins.root
		out, err := cmd.CombinedOutput()
		if err == nil || !strings.Contains(string(out), "chmod 600 "+c.cfg) {
			t.Errorf("%s with a readable config holding a password: %v\n%s", c.name, err, out)
		}
	}
}
