package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestReloadOnSIGHUP: a running sign given another stop, fewer rows and a
// log level by SIGHUP shows the new stop at once, with no restart; a
// change that needs one (listen) is named in the log and not applied. The
// hub rereads its log level and names its own restart-only changes.
func TestReloadOnSIGHUP(t *testing.T) {
	skipShort(t)
	sys := startHub(t, "")
	sys.startStation(t, "CEN")
	var b signBoard
	eventually(t, 20*time.Second, "CEN on the sign", func() bool {
		return getJSON(t, sys.signHTTP+"/board.json", &b) == nil && len(b.Stops) == 1 && b.Stops[0].Stop == "CEN" && len(b.Stops[0].Arrivals) > 2
	})
	pid := sys.station.cmd.Process.Pid
	cfgPath := filepath.Join(sys.dir, "station.yaml")
	cfg, err := os.ReadFile(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	next := strings.Replace(string(cfg), `stops: ["CEN"]`, `stops: ["HAR"]`, 1) + "rows: 2\nlog_level: debug\n"
	next = strings.Replace(next, "listen: \"127.0.0.1:", "listen: \"127.0.0.2:", 1)
	if next == string(cfg) || !strings.Contains(next, "HAR") {
		t.Fatalf("the config did not change: %s", next)
	}
	if err := os.WriteFile(cfgPath, []byte(next), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(pid, syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	eventually(t, 20*time.Second, "HAR on the sign, two rows", func() bool {
		return getJSON(t, sys.signHTTP+"/board.json", &b) == nil && len(b.Stops) == 1 && b.Stops[0].Stop == "HAR" && len(b.Stops[0].Arrivals) == 2 && b.Online
	})
	if sys.station.cmd.Process.Pid != pid || !httpOK(sys.signHTTP+"/healthz") {
		t.Error("the sign restarted, or left its listen address")
	}
	eventually(t, 5*time.Second, "the log naming what needs a restart", func() bool {
		out := sys.station.output()
		return strings.Contains(out, `msg="SIGHUP: config reloaded" applied="[stops rows]"`) &&
			strings.Contains(out, `need a restart (systemctl restart headway-station); the running values stay" changed=[listen]`) &&
			strings.Contains(out, `msg="SIGHUP: log level changed" log_level=DEBUG`)
	})

	// The hub: log_level applied, a new feed path named as needing a restart.
	hubCfg := filepath.Join(sys.dir, "hub.yaml")
	hcfg, err := os.ReadFile(hubCfg)
	if err != nil {
		t.Fatal(err)
	}
	hnext := strings.Replace(string(hcfg), "boards: {refresh: 2s}", "boards: {refresh: 3s}", 1) + "log_level: warn\n"
	if err := os.WriteFile(hubCfg, []byte(hnext), 0o600); err != nil {
		t.Fatal(err)
	}
	_ = syscall.Kill(sys.hub.cmd.Process.Pid, syscall.SIGHUP)
	eventually(t, 5*time.Second, "the hub's log", func() bool {
		out := sys.hub.output()
		return strings.Contains(out, `msg="SIGHUP: log level changed" log_level=WARN`) && strings.Contains(out, `changed=[boards]`)
	})
}
