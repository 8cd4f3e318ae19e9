package e2e

import (
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/headway-transit/headway/internal/geo"
)

// doctor runs a doctor command and checks that its exit code follows its
// FAIL lines (the clock line depends on the machine: a container's kernel
// clock may say unsynchronised).
func doctor(t *testing.T, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Dir = bins.root
	out, err := cmd.CombinedOutput()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	failed := strings.HasPrefix(string(out), "FAIL") || strings.Contains(string(out), "\nFAIL")
	if failed != (code == 1) || code > 1 {
		t.Errorf("exit code %d with FAIL lines %v:\n%s", code, failed, out)
	}
	t.Logf("%s:\n%s", strings.Join(args[1:], " "), out)
	return string(out), code
}

func wantLine(t *testing.T, out, prefix string) {
	t.Helper()
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, prefix) {
			return
		}
	}
	t.Errorf("no line starting %q in:\n%s", prefix, out)
}

// TestDoctor: agent doctor and hub doctor on a running system, and on a
// sign pointed at a hub that is not there.
func TestDoctor(t *testing.T) {
	skipShort(t)
	sys := startHub(t, "")
	sys.startStation(t, "CEN")
	eventually(t, 20*time.Second, "the sign online", func() bool {
		var b signBoard
		return getJSON(t, sys.signHTTP+"/board.json", &b) == nil && b.Online
	})

	out, _ := doctor(t, bins.agent, "doctor", "station", "-config", filepath.Join(sys.dir, "station.yaml"))
	wantLine(t, out, "ok    config     ")
	wantLine(t, out, "ok    agent      running: online")
	wantLine(t, out, "ok    hub        ws://127.0.0.1:")
	wantLine(t, out, "ok    cache      cache "+sys.cache+": in use by the running service")

	out, _ = doctor(t, bins.hub, "doctor", "-config", filepath.Join(sys.dir, "hub.yaml"))
	wantLine(t, out, "ok    hub        running on 127.0.0.1:")
	wantLine(t, out, "ok    gtfs       configs/demo-feed: 64 stops")
	wantLine(t, out, "ok    broker     embedded broker on 127.0.0.1:")

	// A bus's computer with its agent stopped: the receiver on a PTY, the
	// broker reached with the bus's settings.
	master, link := openPTY(t)
	startFeeder(t, master, geo.Point{Lat: 45.07, Lon: 7.68}, 90, 200*time.Millisecond)
	vcfg := writeFile(t, sys.dir, "doctor-bus.yaml", fmt.Sprintf("vehicle: doctor-bus\ngps: {port: %q}\nmqtt: {urls: [%q]}\noutbox: {path: %q}\nlisten: \"127.0.0.1:%d\"\n",
		link, sys.mqttURL, filepath.Join(sys.dir, "doctor-outbox.db"), freePort(t)))
	out, _ = doctor(t, bins.agent, "doctor", "vehicle", "-config", vcfg, "-listen", "3s")
	wantLine(t, out, "warn  agent      no agent answers on 127.0.0.1:")
	wantLine(t, out, "ok    gps        "+link+": ")
	wantLine(t, out, "ok    broker     "+sys.mqttURL+": logged in")
	if !strings.Contains(out, "fix at 45.07000,7.68000") {
		t.Errorf("the receiver's fix is not reported:\n%s", out)
	}

	// A sign whose hub is gone: a FAIL, exit code 1.
	dead := writeFile(t, sys.dir, "dead.yaml", fmt.Sprintf("display: dead-sign\nstops: [CEN]\nhub: [\"ws://127.0.0.1:%d/ws\"]\ncache: %q\nlisten: \"127.0.0.1:%d\"\n",
		freePort(t), filepath.Join(sys.dir, "dead.db"), freePort(t)))
	out, code := doctor(t, bins.agent, "doctor", "station", "-config", dead)
	wantLine(t, out, "FAIL  hub        ws://127.0.0.1:")
	if code != 1 {
		t.Errorf("exit code %d with a dead hub", code)
	}
	// A config with an error: the config line says where.
	bad := writeFile(t, sys.dir, "bad.yaml", "display: x\nstops: []\nhub: [\"http://nowhere\"]\ncache: c.db\n")
	out, code = doctor(t, bins.agent, "doctor", "station", "-config", bad)
	wantLine(t, out, "FAIL  config     ")
	if code != 1 || !strings.Contains(out, "stops: at least one stop id is required") {
		t.Errorf("exit code %d, output %s", code, out)
	}
}
