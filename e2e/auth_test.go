package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestEmbeddedBrokerUsers runs the hub's embedded broker with accounts: a
// vehicle agent with its password reaches the hub, one with a wrong
// password never does and says why in its log.
func TestEmbeddedBrokerUsers(t *testing.T) {
	skipShort(t)
	s := &system{dir: t.TempDir()}
	extra := fmt.Sprintf("  store: %q\n", filepath.Join(s.dir, "broker"))
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
	s.restartHub(t, cfg)

	dir := t.TempDir()
	sims := []*proc{
		start(t, "sim0", bins.sim, "run", "-feed", "configs/demo-feed", "-route", "1", "-link", filepath.Join(dir, "gps0")),
		start(t, "sim1", bins.sim, "run", "-feed", "configs/demo-feed", "-route", "2", "-link", filepath.Join(dir, "gps1")),
	}
	agent := func(id, port, password string) *proc {
		c := writeFile(t, s.dir, id+".yaml", fmt.Sprintf("vehicle: %s\ngps: {port: %q}\nmqtt: {urls: [%q], username: %s, password: %q}\noutbox: {path: %q}\nlisten: \"127.0.0.1:%d\"\n",
			id, port, s.mqttURL, id, password, filepath.Join(s.dir, id+"-outbox.db"), freePort(t)))
		return start(t, id, bins.agent, "vehicle", "-config", c)
	}
	links := make([]string, len(sims))
	eventually(t, 20*time.Second, "the simulators' receivers", func() bool {
		for i, sim := range sims {
			if m := announce.FindStringSubmatch(sim.output()); m != nil {
				links[i] = m[1]
			}
		}
		return links[0] != "" && links[1] != ""
	})
	agent("bus-1", links[0], "bus-1-long-password")
	bad := agent("bus-2", links[1], "not-the-password")

	eventually(t, 30*time.Second, "bus-1's fixes at the hub", func() bool {
		v, ok := s.vehicle(t, "bus-1")
		return ok && v.Accepted > 0
	})
	eventually(t, 20*time.Second, "bus-2's agent to report the refused login", func() bool {
		out := strings.ToLower(bad.output())
		return strings.Contains(out, "not authorized") || strings.Contains(out, "bad user name or password")
	})
	if _, ok := s.vehicle(t, "bus-2"); ok {
		t.Error("bus-2, with a wrong password, reached the hub")
	}
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
