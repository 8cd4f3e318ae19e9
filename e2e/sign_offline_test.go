package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/headway-transit/headway/internal/gtfs"
)

// TestSignThroughHubOutage loads the sign page in real headless Chromium
// and takes the hub away under it: a live arrival keeps counting down, the
// stale banner comes after stale_after, timetable rows labelled as
// scheduled after fallback_after, and live rows again when a new hub
// process answers on the same port. The clock is the agency's. The sign
// also drives an e-paper panel (the real SSD1680 driver on a simulated bus,
// spi: sim, with a 2 s refresh budget): its frames go live, stale,
// scheduled, live, it is never refreshed more often than its budget
// allows, and its refreshes are counted partial and full.
func TestSignThroughHubOutage(t *testing.T) {
	skipShort(t)
	ctx := browser(t)
	feed, err := gtfs.Load(filepath.Join(bins.root, "configs/demo-feed"))
	if err != nil {
		t.Fatal(err)
	}
	trip, _ := tripInProgress(t, feed, time.Now())
	pos, track := trip.Path.At((trip.StopTimes[3].Dist + trip.StopTimes[4].Dist) / 2)
	stop := trip.StopTimes[len(trip.StopTimes)-2].StopID
	rome, err := time.LoadLocation("Europe/Rome")
	if err != nil {
		t.Fatal(err)
	}

	master, link := openPTY(t)
	// A 30-minute board horizon, so the timetable has rows of its own to
	// add within the sign's hour once the board is not trusted.
	sys, hubCfg := startHubWith(t, "{refresh: 2s, horizon: 30m}")
	panel := filepath.Join(t.TempDir(), "panel.png")
	sys.startStationWith(t, fmt.Sprintf("stale_after: 3s\nfallback_after: 8s\ntimezone: Europe/Rome\noutputs: [{type: epaper, spi: sim, name: epaper-sim, path: %q, min_interval: 2s}]\n", panel), stop)
	panelStart := time.Now()
	// The banners the panel showed, in order, each once.
	var banners []string
	panelSaw := func(want string) bool {
		var b struct {
			Banner string
			Rows   []json.RawMessage
		}
		if data, err := os.ReadFile(panel + ".json"); err == nil && json.Unmarshal(data, &b) == nil {
			if len(banners) == 0 || banners[len(banners)-1] != b.Banner {
				banners = append(banners, b.Banner)
			}
			return b.Banner == want && (want != "" || len(b.Rows) > 0)
		}
		return false
	}
	sys.startVehicle(t, "bus-outage", link, trip.ID)
	startFeeder(t, master, pos, track, time.Second)

	tctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	run := func(what string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(tctx, actions...); err != nil {
			shot(t, tctx, strings.ReplaceAll(what, " ", "-"))
			t.Fatalf("%s: %v", what, err)
		}
	}
	eval := func(js string) string {
		t.Helper()
		s, err := chromedp.Run(tctx, chromedp.Evaluate[string](js))
		if err != nil {
			t.Fatalf("%s: %v", js, err)
		}
		return s
	}

	run("live row", chromedp.Navigate(sys.signHTTP+"/"), chromedp.WaitVisible(chromedp.CSS(`body[data-mode="live"] #rows .row.realtime`)))
	liveTrip := eval(`document.querySelector("#rows .row.realtime").dataset.trip`)
	liveWhen := eval(`document.querySelector("#rows .row.realtime").dataset.when`)
	clock := eval(`document.getElementById("clock").textContent`)
	if now := time.Now().In(rome); clock != now.Format("15:04") && clock != now.Add(-time.Minute).Format("15:04") {
		t.Errorf("clock shows %q, want Europe/Rome time %s (the browser runs in %s)", clock, now.Format("15:04"), time.Local)
	}
	t.Logf("live: trip %s at %s; clock %s", liveTrip, liveWhen, clock)
	eventually(t, 20*time.Second, "the panel's live frame", func() bool { return panelSaw("") })
	eval(`window.__sameDocument = "yes"`)
	row := `#rows .row[data-trip="` + liveTrip + `"]`

	// The hub goes away.
	down := time.Now()
	sys.hub.stop(t)

	// The countdown goes on from the last prediction, then is flagged.
	run("stale banner", chromedp.WaitVisible(chromedp.CSS(`body[data-mode="stale"] #banner.stale`)))
	staleSeen := time.Now()
	eventually(t, 20*time.Second, "the panel's stale frame", func() bool { return panelSaw("LIVE TIMES MAY BE OUT OF DATE") })
	predicted, err := time.Parse(time.RFC3339, liveWhen)
	if err != nil {
		t.Fatal(err)
	}
	// A board may have moved the prediction between reading the row and
	// stopping the hub: compare with what the agent last heard, which the
	// stopped hub has frozen, not with the earlier reading.
	var frozen signBoard
	if err := getJSON(t, sys.signHTTP+"/board.json", &frozen); err != nil {
		t.Fatal(err)
	}
	if last, _, ok := frozen.realtime(stop, liveTrip); ok {
		predicted = last
	} else if time.Until(predicted) > 0 {
		t.Errorf("the agent's last board has no live row for trip %s, due at %s", liveTrip, liveWhen)
	}
	if time.Until(predicted) > 0 {
		got := eval(`(function(){var r=document.querySelector('` + row + `'); return r ? r.className + "|" + r.dataset.when + "|" + r.querySelector(".when").textContent : "gone"})()`)
		parts := strings.SplitN(got, "|", 3)
		when, err := time.Parse(time.RFC3339, parts[min(1, len(parts)-1)])
		if len(parts) != 3 || parts[0] != "row stale" || err != nil || !when.Equal(predicted) {
			t.Errorf("the live row while stale: %q, want it still there, flagged, at %s (the last board)", got, predicted.UTC().Format(time.RFC3339))
		}
	}

	// Past fallback_after: the timetable fills in, labelled as scheduled.
	run("scheduled rows", chromedp.WaitVisible(chromedp.CSS(`body[data-mode="scheduled"] #banner.offline`)),
		chromedp.WaitVisible(chromedp.CSS(`#rows .row.schedule[data-origin="timetable"] .tag.schedule`)))
	fallbackSeen := time.Now()
	eventually(t, 20*time.Second, "the panel's scheduled frame", func() bool { return panelSaw("SCHEDULED TIMES ONLY") })
	banner := eval(`document.getElementById("banner").textContent`)
	tag := eval(`document.querySelector('#rows .row[data-origin="timetable"] .tag').textContent`)
	if !strings.Contains(banner, "scheduled") || tag != "SCHED" {
		t.Errorf("fallback: banner %q, row tag %q; want them to say scheduled", banner, tag)
	}
	// The thresholds count from the agent's last word from the hub (a
	// board, ping or pong), which a loaded machine may have heard seconds
	// before the hub stopped: measure from it. Early is a bug; late is
	// only a slow machine, so the upper bounds are loose.
	if frozen.AsOf == nil {
		t.Fatal("the agent's board has no as_of while the hub is down")
	}
	stale, fallback := staleSeen.Sub(*frozen.AsOf), fallbackSeen.Sub(*frozen.AsOf)
	if stale < 3*time.Second || fallback < 8*time.Second || stale > 23*time.Second || fallback > 28*time.Second {
		t.Errorf("stale banner %v and timetable rows %v after the hub was last heard, want stale_after 3 s and fallback_after 8 s (late by a tick or a busy machine at most)", stale, fallback)
	}
	t.Logf("hub last heard %v before it stopped; stale banner %v after that, timetable rows %v after", down.Sub(*frozen.AsOf).Round(100*time.Millisecond), stale.Round(100*time.Millisecond), fallback.Round(100*time.Millisecond))
	shot(t, tctx, "sign-offline")

	// A new hub process on the same port: live rows again, same page.
	sys.restartHub(t, hubCfg)
	back := time.Now()
	run("live rows again", chromedp.WaitVisible(chromedp.CSS(`body[data-mode="live"] #rows .row.realtime`)))
	if eval(`window.__sameDocument || "reloaded"`) != "yes" {
		t.Error("the page reloaded")
	}
	if b := eval(`document.getElementById("banner").className`); b != "" {
		t.Errorf("banner %q after the hub came back", b)
	}
	t.Logf("live again %v after the hub restarted", time.Since(back).Round(100*time.Millisecond))
	eventually(t, 20*time.Second, "the panel's live frame again", func() bool { return panelSaw("") })
	t.Logf("the panel's banners in order: %q", banners)
	// From the first live frame (a sign starting with no cache shows its
	// timetable until the hub answers); reconnecting frames may come
	// between (the page says so too).
	seen := banners[max(0, slices.Index(banners, "")):]
	seen = slices.DeleteFunc(slices.Clone(seen), func(b string) bool { return b == "RECONNECTING" })
	if got := strings.Join(slices.Compact(seen), "|"); got != "|LIVE TIMES MAY BE OUT OF DATE|SCHEDULED TIMES ONLY|" {
		t.Errorf("the panel went %q, want live, stale, scheduled, live", banners)
	}
	// Within the budget: at most one frame per 2 s since the station began.
	m := scrape(t, sys.signHTTP+"/metrics")
	frames := m[`headway_station_output_frames_total{output="epaper-sim"}`]
	if most := time.Since(panelStart).Seconds()/2 + 1; frames < 4 || frames > most {
		t.Errorf("%v panel frames in %v: want the 4 changes at least, at most %.0f (one per 2 s)", frames, time.Since(panelStart).Round(time.Second), most)
	}
	t.Logf("panel: %v frames, %v held back by the budget", frames, m[`headway_station_output_deferred_total{output="epaper-sim"}`])
	// Every frame a refresh of the panel: the first full, then partial
	// ones with a full one every 10th against ghosting.
	full, partial := m[`headway_station_output_refreshes_total{kind="full",output="epaper-sim"}`], m[`headway_station_output_refreshes_total{kind="partial",output="epaper-sim"}`]
	t.Logf("panel refreshes: %v full, %v partial", full, partial)
	if full+partial != frames || full < 1 || full > 1+frames/10 {
		t.Errorf("panel refreshes: %v full and %v partial for %v frames; want one each, a full one first and then every 10th", full, partial, frames)
	}
}

// shot saves a screenshot into $HEADWAY_SCREENSHOTS, when set.
func shot(t testing.TB, ctx context.Context, name string) {
	dir := os.Getenv("HEADWAY_SCREENSHOTS")
	if dir == "" {
		return
	}
	if b, err := chromedp.Run(ctx, chromedp.CaptureScreenshot()); err == nil {
		path := filepath.Join(dir, name+".png")
		if os.WriteFile(path, b, 0o644) == nil {
			t.Logf("screenshot: %s", path)
		}
	}
}
