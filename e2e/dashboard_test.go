package e2e

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/headway-transit/headway/internal/gtfs"
)

// TestDashboard loads the hub's operator dashboard in headless Chromium and
// checks it lists a reporting vehicle and a connected sign.
func TestDashboard(t *testing.T) {
	skipShort(t)
	ctx := browser(t)
	feed, err := gtfs.Load(filepath.Join(bins.root, "configs/demo-feed"))
	if err != nil {
		t.Fatal(err)
	}
	trip, _ := tripInProgress(t, feed, time.Now())
	pos, track := trip.Path.At(trip.StopTimes[3].Dist + 50)

	master, link := openPTY(t)
	sys := startHub(t, "")
	sys.startStation(t, trip.StopTimes[len(trip.StopTimes)-2].StopID)
	sys.startVehicle(t, "bus-dash", link, "")
	startFeeder(t, master, pos, track, time.Second)

	tctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	if err := chromedp.Do(tctx,
		chromedp.Navigate(sys.hubHTTP+"/"),
		chromedp.WaitVisible(chromedp.CSS(`#vehicles tr`)),
		chromedp.WaitVisible(chromedp.CSS(`#displays tr`)),
	); err != nil {
		t.Fatalf("dashboard: %v", err)
	}
	vehicles, err := chromedp.Run(tctx, chromedp.Text(chromedp.CSS(`#vehicles`)))
	if err != nil {
		t.Fatal(err)
	}
	displays, err := chromedp.Run(tctx, chromedp.Text(chromedp.CSS(`#displays`)))
	if err != nil {
		t.Fatal(err)
	}
	health, err := chromedp.Run(tctx, chromedp.Text(chromedp.CSS(`#health`)))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(vehicles, "bus-dash") || !strings.Contains(displays, "e2e-sign") || !strings.Contains(health, "status ok") {
		t.Errorf("dashboard shows vehicles %q, displays %q, health %q", vehicles, displays, health)
	}
}
