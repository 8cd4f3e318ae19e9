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
// checks it lists a reporting vehicle and a connected sign; an operator
// publishes a service alert with its form, the sign shows it, and the
// dashboard's Remove button takes it away again.
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

	// The alert form: a detour on route 1, which calls at the sign's stop.
	if err := chromedp.Do(tctx,
		chromedp.SetValue(chromedp.CSS(`#new-alert [name=header]`), "Route 1 diverted via Via Roma"),
		chromedp.SetValue(chromedp.CSS(`#new-alert [name=route]`), trip.RouteID),
		chromedp.Click(chromedp.CSS(`#new-alert button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`#alerts tr button`)),
	); err != nil {
		t.Fatalf("publishing an alert on the dashboard: %v", err)
	}
	listed, err := chromedp.Run(tctx, chromedp.Text(chromedp.CSS(`#alerts`)))
	if err != nil || !strings.Contains(listed, "Route 1 diverted via Via Roma") || !strings.Contains(listed, "operator") {
		t.Fatalf("alerts table %q (%v)", listed, err)
	}
	var id string
	eventually(t, 20*time.Second, "the dashboard's alert on the sign", func() bool {
		var v struct {
			Stops []struct {
				Alerts []struct{ ID, Header string } `json:"alerts"`
			} `json:"stops"`
		}
		if getJSON(t, sys.signHTTP+"/board.json", &v) != nil || len(v.Stops) == 0 || len(v.Stops[0].Alerts) == 0 {
			return false
		}
		id = v.Stops[0].Alerts[0].ID
		return v.Stops[0].Alerts[0].Header == "Route 1 diverted via Via Roma"
	})
	if err := chromedp.Do(tctx, chromedp.Click(chromedp.CSS(`#alerts tr button`))); err != nil {
		t.Fatal(err)
	}
	eventually(t, 20*time.Second, "the removed alert gone from the sign", func() bool { return !signHasAlert(t, sys, id) })
}
