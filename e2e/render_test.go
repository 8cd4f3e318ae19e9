package e2e

import (
	"fmt"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
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
