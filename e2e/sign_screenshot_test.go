package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"image"
	"image/color"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestSignScreenshot runs the technician's one-line check of a sign
// (README, Sign), exactly as written but for the sign's port:
//
//	chromium --headless --no-sandbox --disable-gpu --screenshot=/tmp/s.png --window-size=1280,720 --virtual-time-budget=5000 http://127.0.0.1:8090/
//
// It must return by itself with a rendered board: a page that holds a
// request open stops Chromium's virtual time and the command never ends.
// The station's config has no timezone:, so the sign shows the demo
// feed's agency time zone, which the hub sends.
func TestSignScreenshot(t *testing.T) {
	skipShort(t)
	bin := chromium(t)
	sys := startHub(t, "")
	sys.startStation(t, "CEN")

	// Shoot once the agent has rows to show, in the agency's zone.
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	events := make(chan []byte, 16)
	go sse(ctx, t, sys.signHTTP+"/events", events)
	for ready := false; !ready; {
		select {
		case data := <-events:
			var v struct {
				Timezone string `json:"timezone"`
				Stops    []struct {
					Arrivals []json.RawMessage `json:"arrivals"`
				} `json:"stops"`
			}
			if err := json.Unmarshal(data, &v); err != nil {
				t.Fatalf("sign view: %v: %s", err, data)
			}
			ready = len(v.Stops) == 1 && len(v.Stops[0].Arrivals) > 0 && v.Timezone == "Europe/Rome"
		case <-ctx.Done():
			t.Fatal("the sign never had rows in Europe/Rome time (the demo feed's agency_timezone) to show")
		}
	}
	cancel()

	dir := t.TempDir()
	shot := filepath.Join(dir, "s.png")
	// Generous: the command takes a few seconds; only a page that stops
	// virtual time makes it run into this.
	const deadline = 90 * time.Second
	cctx, ccancel := context.WithTimeout(context.Background(), deadline)
	defer ccancel()
	cmd := exec.CommandContext(cctx, bin, "--headless", "--no-sandbox", "--disable-gpu", "--screenshot="+shot,
		"--window-size=1280,720", "--virtual-time-budget=5000", sys.signHTTP+"/")
	// A profile of its own, so that runs side by side do not share one.
	cmd.Env = append(os.Environ(), "HOME="+dir, "XDG_CONFIG_HOME="+filepath.Join(dir, ".config"), "XDG_CACHE_HOME="+filepath.Join(dir, ".cache"))
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) } // the browser's children too
	cmd.WaitDelay = 5 * time.Second
	err := cmd.Run()
	if errors.Is(cctx.Err(), context.DeadlineExceeded) {
		t.Fatalf("%s did not return within %v: something on the sign page keeps virtual time from advancing (a request held open?)\n%s",
			strings.Join(cmd.Args, " "), deadline, tail(out.String()))
	}
	if err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(cmd.Args, " "), err, tail(out.String()))
	}

	f, err := os.Open(shot)
	if err != nil {
		t.Fatalf("no screenshot: %v\n%s", err, tail(out.String()))
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("screenshot %s: %v", shot, err)
	}
	if b := img.Bounds(); b.Dx() != 1280 || b.Dy() != 720 {
		t.Errorf("screenshot is %dx%d, want 1280x720", b.Dx(), b.Dy())
	}
	// A board fills the band between header and footer with badges and
	// text; the page before its first view shows one short line there
	// (about 2,500 pixels), a board of eight rows about 60,000.
	bg, n := inked(img, image.Rect(0, 720/8, 1280, 720*7/8))
	if n < 10000 {
		t.Errorf("the board's rows have %d pixels off the background %v, want at least 10000: no board rendered", n, bg)
	}
	t.Logf("screenshot: %d pixels of the rows' band off the background", n)
	if d := os.Getenv("HEADWAY_SCREENSHOTS"); d != "" {
		if b, err := os.ReadFile(shot); err == nil {
			_ = os.WriteFile(filepath.Join(d, "sign-cli.png"), b, 0o644)
		}
	}
}

// inked returns the commonest colour of img (the page's background) and
// how many pixels in r clearly differ from it.
func inked(img image.Image, r image.Rectangle) (color.RGBA, int) {
	b := img.Bounds()
	counts := map[color.RGBA]int{}
	for y := b.Min.Y; y < b.Max.Y; y += 4 {
		for x := b.Min.X; x < b.Max.X; x += 4 {
			counts[rgba(img.At(x, y))]++
		}
	}
	var bg color.RGBA
	for c, k := range counts {
		if k > counts[bg] {
			bg = c
		}
	}
	n := 0
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			c := rgba(img.At(x, y))
			if diff(c.R, bg.R)+diff(c.G, bg.G)+diff(c.B, bg.B) > 96 {
				n++
			}
		}
	}
	return bg, n
}

func rgba(c color.Color) color.RGBA {
	r, g, b, a := c.RGBA()
	return color.RGBA{uint8(r >> 8), uint8(g >> 8), uint8(b >> 8), uint8(a >> 8)}
}

func diff(a, b uint8) int {
	if a > b {
		return int(a - b)
	}
	return int(b - a)
}

// tail is the end of a command's output, enough to see why it failed.
func tail(s string) string {
	if len(s) > 4000 {
		return s[len(s)-4000:]
	}
	return s
}
