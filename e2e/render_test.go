package e2e

import (
	"encoding/json"
	"fmt"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestRenderFrame: a technician's `agent station -render out.png` writes the
// frame an e-paper sign would show, from the running agent, and from its
// cache once it is stopped (a sign with no hub).
func TestRenderFrame(t *testing.T) {
	skipShort(t)
	sys := startHub(t, "")
	sys.startStation(t, "CEN")
	var b signBoard
	eventually(t, 20*time.Second, "rows on the sign", func() bool {
		return getJSON(t, sys.signHTTP+"/board.json", &b) == nil && len(b.Stops) == 1 && len(b.Stops[0].Arrivals) > 0
	})
	cfg := filepath.Join(sys.dir, "station.yaml")
	render := func(size, depth string) (string, string) {
		out := filepath.Join(t.TempDir(), "frame.png")
		cmd := exec.Command(bins.agent, "station", "-config", cfg, "-render", out, "-size", size, "-depth", depth)
		cmd.Dir = bins.root
		msg, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("agent station -render: %v\n%s", err, msg)
		}
		f, err := os.Open(out)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		img, err := png.Decode(f)
		if err != nil {
			t.Fatal(err)
		}
		if got := img.Bounds().Size(); fmt.Sprintf("%dx%d", got.X, got.Y) != size {
			t.Errorf("frame %v, want %s", got, size)
		}
		return string(msg), out
	}
	msg, _ := render("800x480", "3")
	if !strings.Contains(msg, "from the running agent") {
		t.Errorf("rendered %q", msg)
	}
	sys.station.stop(t)
	msg, _ = render("250x122", "1")
	if !strings.Contains(msg, "from the cache") {
		t.Errorf("rendered %q", msg)
	}
}

// TestSignPowerCut: a sign warned of a power cut (SIGPWR, as a UPS
// daemon's command sends it) draws its panel's honest last frame at once,
// whatever the refresh budget, and holds it; then the power goes (kill -9)
// and the panel keeps a frame that says its times are as of the cut.
func TestSignPowerCut(t *testing.T) {
	skipShort(t)
	sys := startHub(t, "")
	panel := filepath.Join(t.TempDir(), "panel.png")
	sys.startStationWith(t, fmt.Sprintf("outputs: [{type: png, name: epaper-sim, path: %q, size: 250x122, min_interval: 15s}]\n", panel), "CEN")
	var b struct {
		Banner string
		Clock  string
		Rows   []struct{ When string }
	}
	readPanel := func() bool {
		data, err := os.ReadFile(panel + ".json")
		return err == nil && json.Unmarshal(data, &b) == nil
	}
	eventually(t, 40*time.Second, "the panel's first frame with rows", func() bool { return readPanel() && len(b.Rows) > 0 })
	if err := sys.station.cmd.Process.Signal(syscall.SIGPWR); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "the power-cut frame, within the 15 s budget of the last one", func() bool {
		return readPanel() && strings.HasPrefix(b.Banner, "TIMES AS OF "+b.Clock)
	})
	m := scrape(t, sys.signHTTP+"/metrics")
	if m["headway_station_power_failures_total"] != 1 || m["headway_station_power_failing"] != 1 {
		t.Errorf("power metrics: failures %v, failing %v; want 1, 1", m["headway_station_power_failures_total"], m["headway_station_power_failing"])
	}
	_ = sys.station.cmd.Process.Signal(syscall.SIGKILL) // the power goes
	<-sys.station.done
	if !readPanel() || !strings.HasPrefix(b.Banner, "TIMES AS OF") || len(b.Rows) == 0 {
		t.Errorf("after the cut the panel shows %+v", b)
	}
	if _, err := os.Stat(panel); err != nil {
		t.Errorf("the panel's picture: %v", err)
	}
}
