package e2e

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/headway-transit/headway/internal/gtfs"
)

// TestSignBusAtTerminal: a bus on a trip stands at the trip's first stop
// well over five minutes (tracking.terminal_lead) before it leaves. The
// hub puts the trip on the boards as scheduled, at_terminal
// (docs/contracts.md "arrival.status"); the sign page in real Chromium
// shows that row as scheduled, tagged BUS AT TERMINAL, at the timetable's
// clock time: no live tag, no countdown.
func TestSignBusAtTerminal(t *testing.T) {
	skipShort(t)
	ctx := browser(t)
	feed, err := gtfs.Load(filepath.Join(bins.root, "configs/demo-feed"))
	if err != nil {
		t.Fatal(err)
	}
	// Leaving in 11 to 21 minutes: at least 6 minutes to show the row
	// before the lead runs out and the bus counts down for real.
	trip, ds := tripLeaving(t, feed, time.Now(), 11*time.Minute, 21*time.Minute)
	pos, track := trip.Path.At(trip.StopTimes[0].Dist)
	stop := trip.StopTimes[2].StopID
	want := trip.ArrivalAt(ds, 2).In(feed.Location).Format("15:04")
	t.Logf("trip %s leaves %s at %s; the sign at %s should show it at %s", trip.ID, trip.StopTimes[0].StopID,
		trip.DepartureAt(ds, 0).In(feed.Location).Format("15:04"), stop, want)

	master, link := openPTY(t)
	sys := startHub(t, "")
	sys.startStation(t, stop)
	sys.startVehicle(t, "bus-wait", link, trip.ID)
	startFeeder(t, master, pos, track, time.Second)

	tctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	if err := chromedp.Do(tctx, chromedp.Navigate(sys.signHTTP+"/")); err != nil {
		t.Fatalf("sign page: %v", err)
	}
	// The row as the page draws it; "" while it has none. The zone comes
	// with the hub's timetable, so wait for the time too.
	type shown struct {
		Row, Mark, Terminal, When string
		Live                      bool
	}
	js := `(function () {
	  var r = document.querySelector('#rows .row[data-trip="` + trip.ID + `"]');
	  if (!r) return {Row: "", Mark: "", Terminal: "", When: "", Live: false};
	  var term = r.querySelector(".headsign .tag.terminal");
	  return {Row: r.className + " status=" + r.dataset.status, Mark: r.querySelector(".mark").textContent,
	    Terminal: term ? term.textContent : "", When: r.querySelector(".when").textContent,
	    Live: !!document.querySelector('#rows .row.realtime[data-trip="` + trip.ID + `"], #rows .row.stale[data-trip="` + trip.ID + `"]')};
	})()`
	var got shown
	for {
		got, err = chromedp.Run(tctx, chromedp.Evaluate[shown](js))
		if err != nil {
			t.Fatalf("reading the sign: %v (last seen %+v; hub's vehicle: %+v)", err, got, hubVehicleOf(t, sys))
		}
		if got.Live {
			t.Fatalf("the sign shows trip %s live while its bus waits at the terminal: %+v", trip.ID, got)
		}
		if got.Terminal != "" && got.When == want {
			break
		}
		select {
		case <-time.After(200 * time.Millisecond):
		case <-tctx.Done():
			t.Fatalf("the sign never showed trip %s as a bus at the terminal at %s; last seen %+v; hub's vehicle: %+v",
				trip.ID, want, got, hubVehicleOf(t, sys))
		}
	}
	if got.Row != "row schedule terminal status=at_terminal" || got.Mark != "SCHED" || got.Terminal != "BUS AT TERMINAL" {
		t.Errorf("the row reads %+v, want a scheduled row tagged SCHED and BUS AT TERMINAL", got)
	}
	var b struct {
		Stops []struct {
			Arrivals []struct {
				Trip, Vehicle, Source, Status string
				Predicted                     *time.Time
			} `json:"arrivals"`
		} `json:"stops"`
	}
	if err := getJSON(t, sys.signHTTP+"/board.json", &b); err != nil {
		t.Fatal(err)
	}
	for _, a := range b.Stops[0].Arrivals {
		if a.Trip == trip.ID && (a.Vehicle != "bus-wait" || a.Source != "schedule" || a.Status != "at_terminal" || a.Predicted != nil) {
			t.Errorf("/board.json row: %+v, want bus-wait, schedule, at_terminal, no prediction", a)
		}
	}
	if shot, err := chromedp.Run(tctx, chromedp.CaptureScreenshot()); err == nil {
		if dir := os.Getenv("HEADWAY_SCREENSHOTS"); dir != "" {
			_ = os.WriteFile(filepath.Join(dir, "sign-terminal.png"), shot, 0o644)
		}
	}
}

// tripLeaving returns a trip that leaves its first stop between from and
// until after now, and its service day's start.
func tripLeaving(tb testing.TB, feed *gtfs.Feed, now time.Time, from, until time.Duration) (*gtfs.Trip, time.Time) {
	tb.Helper()
	today := gtfs.DateOf(now, feed.Location)
	for _, d := range []gtfs.Date{today.AddDays(-1), today} {
		ds := feed.ServiceDayStart(d)
		for _, tr := range feed.Trips {
			if !feed.ServiceRunsOn(tr.ServiceID, d) || len(tr.StopTimes) < 4 {
				continue
			}
			if dt := tr.DepartureAt(ds, 0).Sub(now); dt >= from && dt < until {
				return tr, ds
			}
		}
	}
	tb.Fatalf("no trip in the demo feed leaves between %v and %v from now", from, until)
	return nil, time.Time{}
}

// hubVehicleOf is the hub's view of the waiting bus, for failure messages.
func hubVehicleOf(t testing.TB, sys *system) hubVehicle {
	v, _ := sys.vehicle(t, "bus-wait")
	return v
}
