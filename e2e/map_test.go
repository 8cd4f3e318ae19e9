package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestNetworkMap loads the dashboard's map in headless Chromium: the demo
// network drawn from the GTFS feed, the demo's three buses moving on it, a
// sign at its stop, and a click on a stop opening its board. Screenshots go
// to $HEADWAY_SCREENSHOTS (.ci/run keeps them in artefacts/screenshots).
func TestNetworkMap(t *testing.T) {
	skipShort(t)
	ctx := browser(t)
	sys := startHub(t, "")
	sys.startStation(t, "CEN")
	start(t, "fleet", bins.sim, "fleet", "-feed", "configs/demo-feed", "-vehicles", "3", "-routes", "1,2,3",
		"-mqtt", sys.mqttURL, "-name", "demo-", "-send-trip")

	tctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	if err := chromedp.Do(tctx, chromedp.Navigate(sys.hubHTTP+"/"), chromedp.WaitVisible(chromedp.CSS(`#map #routes polyline`))); err != nil {
		t.Fatalf("dashboard map: %v", err)
	}
	lines, err := chromedp.Run(tctx, chromedp.Evaluate[int](`document.querySelectorAll("#map #routes polyline").length`))
	if err != nil || lines < 3 {
		t.Fatalf("%d route paths drawn (%v)", lines, err)
	}
	positions := func() string {
		p, _ := chromedp.Run(tctx, chromedp.Evaluate[string](`Array.from(document.querySelectorAll("#map .bus")).map(b => b.getAttribute("data-vehicle") + "@" + b.getAttribute("cx") + "," + b.getAttribute("cy")).sort().join(" ")`))
		return p
	}
	var first string
	eventually(t, 45*time.Second, "the three buses on the map", func() bool {
		first = positions()
		return strings.Count(first, "demo-") == 3
	})
	eventually(t, 30*time.Second, "the buses moving on the map", func() bool {
		now := positions()
		return strings.Count(now, "demo-") == 3 && now != first
	})
	eventually(t, 10*time.Second, "the sign on the map, connected", func() bool {
		fill, _ := chromedp.Run(tctx, chromedp.Evaluate[string](`(document.querySelector("#map .sign[data-display=e2e-sign]") || {getAttribute: () => ""}).getAttribute("fill")`))
		return fill == "#2e8b57"
	})
	shot(t, tctx, "network-map")

	// The click is sent to the stop's marker itself: a mouse click at its
	// centre lands on whatever is drawn on top there, the sign's marker or
	// a bus passing the stop (CI once clicked a bus so).
	if _, err := chromedp.Run(tctx, chromedp.Evaluate[bool](`document.querySelector("#map .stop[data-stop=CEN]").dispatchEvent(new MouseEvent("click", {bubbles: true}))`)); err != nil {
		t.Fatalf("clicking CEN: %v", err)
	}
	if err := chromedp.Do(tctx, chromedp.WaitVisible(chromedp.CSS(`#detail[data-stop=CEN] a`))); err != nil {
		t.Fatalf("clicking CEN: %v", err)
	}
	text, err := chromedp.Run(tctx, chromedp.Text(chromedp.CSS(`#detail`)))
	if err != nil || !strings.Contains(text, "Central Station") || !strings.Contains(text, " min") {
		t.Errorf("CEN's detail: %q (%v)", text, err)
	}
	shot(t, tctx, "network-map-stop")
}
