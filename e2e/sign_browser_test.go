package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/headway-transit/headway/internal/gtfs"
)

// chromium returns the path of a Chromium binary, or skips.
func chromium(t testing.TB) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("no Chromium installed (apt-get install chromium); .ci/run installs it")
	return ""
}

// browser starts headless Chromium the way a kiosk sign would run it.
func browser(t testing.TB) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium(t)),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox, // CI runs as root
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1920, 1080),
	)
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelC := chromedp.NewContext(actx)
	t.Cleanup(func() {
		cancelC()
		cancelA()
	})
	return ctx
}

// TestSignPageLive loads the sign page in real headless Chromium: it shows
// timetable rows from the start, and when a bus starts reporting, a live row
// appears without the page being reloaded.
func TestSignPageLive(t *testing.T) {
	skipShort(t)
	ctx := browser(t)
	feed, err := gtfs.Load(filepath.Join(bins.root, "configs/demo-feed"))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	trip, _ := tripInProgress(t, feed, now)
	d := (trip.StopTimes[3].Dist + trip.StopTimes[4].Dist) / 2
	pos, track := trip.Path.At(d)
	stop := trip.StopTimes[len(trip.StopTimes)-2].StopID

	master, link := openPTY(t)
	sys := startHub(t, "")
	sys.startStation(t, stop)

	tctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	err = chromedp.Do(tctx,
		chromedp.Navigate(sys.signHTTP+"/"),
		chromedp.WaitVisible(chromedp.CSS(`#rows .row`)),
	)
	if err != nil {
		t.Fatalf("sign page: %v", err)
	}
	rows, err := chromedp.Run(tctx, chromedp.Evaluate[int](`window.__notReloaded = true; document.querySelectorAll("#rows .row").length`))
	if err != nil || rows == 0 {
		t.Fatalf("rows on the sign: %d, %v", rows, err)
	}
	when, err := chromedp.Run(tctx, chromedp.Text(chromedp.CSS(`#rows .row .when`)))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("sign shows %d timetable rows; first: %q", rows, when)

	// A bus starts reporting.
	sys.startVehicle(t, "bus-sign", link, trip.ID)
	startFeeder(t, master, pos, track, time.Second)
	if err := chromedp.Do(tctx, chromedp.WaitVisible(chromedp.CSS(`#rows .row .mark.realtime`))); err != nil {
		t.Fatalf("waiting for a live row: %v", err)
	}
	live, err := chromedp.Run(tctx, chromedp.Evaluate[int](`document.querySelectorAll("#rows .row .mark.realtime").length`))
	if err != nil {
		t.Fatal(err)
	}
	same, err := chromedp.Run(tctx, chromedp.Evaluate[bool](`window.__notReloaded === true`))
	if err != nil {
		t.Fatal(err)
	}
	if live == 0 || !same {
		t.Fatalf("live rows %d, page not reloaded %v", live, same)
	}
	if shot, err := chromedp.Run(tctx, chromedp.CaptureScreenshot()); err == nil {
		if dir := os.Getenv("HEADWAY_SCREENSHOTS"); dir != "" {
			_ = os.WriteFile(filepath.Join(dir, "sign.png"), shot, 0o644)
		}
	}
}
