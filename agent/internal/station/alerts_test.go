package station

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/headway-transit/headway/agent/internal/signcache"
	"github.com/headway-transit/headway/internal/wire"
)

func tp(d time.Duration) *time.Time { t := at(d); return &t }

// A stop's alerts show while their periods hold, online or not; one that
// closes the stop takes its rows off, the cached timetable's too.
func TestViewAlerts(t *testing.T) {
	cfg := Config{Display: "s", Stops: []string{"CEN", "HBR"}, Rows: 4, Clock: Clock24h,
		StaleAfter: 90 * time.Second, FallbackAfter: 10 * time.Minute}
	boards := map[string]signcache.StoredBoard{
		"CEN": {Board: wire.Board{Stop: "CEN", GeneratedAt: t0, Arrivals: []wire.Arrival{arr("a", 5*time.Minute, nil)}}},
		"HBR": {Board: wire.Board{Stop: "HBR", GeneratedAt: t0, Arrivals: []wire.Arrival{arr("h", 5*time.Minute, nil)}}},
	}
	tts := map[string]wire.Timetable{"HBR": {Stop: "HBR", From: at(-time.Hour), Until: at(23 * time.Hour),
		Departures: []wire.Departure{dep("h", 5*time.Minute), dep("i", 15*time.Minute)}}}
	als := map[string]wire.Alerts{
		"CEN": {Stop: "CEN", Alerts: []wire.Alert{
			{ID: "detour", Effect: wire.EffectDetour, Header: "Route 2 diverted", Routes: []string{"2"},
				Active: []wire.Period{{Start: tp(-time.Minute), End: tp(10 * time.Minute)}}},
			{ID: "tonight", Effect: wire.EffectOtherEffect, Header: "Works tonight", Active: []wire.Period{{Start: tp(3 * time.Hour)}}},
		}},
		"HBR": {Stop: "HBR", Alerts: []wire.Alert{
			{ID: "closed", Effect: wire.EffectNoService, Header: "Harbour closed: use Fish Market", StopClosed: true,
				Active: []wire.Period{{End: tp(20 * time.Minute)}}},
		}},
	}
	v := buildView(&cfg, at(0), true, at(0), boards, tts, als)
	cen, hbr := v.Stops[0], v.Stops[1]
	if len(cen.Alerts) != 1 || cen.Alerts[0].ID != "detour" || rowsOf(cen) != "a:5:b" {
		t.Errorf("CEN: alerts %+v, rows %s", cen.Alerts, rowsOf(cen))
	}
	if len(hbr.Alerts) != 1 || !hbr.Alerts[0].StopClosed || len(hbr.Arrivals) != 0 || hbr.Note != NoteClosed {
		t.Errorf("HBR: alerts %+v, rows %s, note %q", hbr.Alerts, rowsOf(hbr), hbr.Note)
	}
	// The sign redraws when the detour ends, without the hub.
	if v := buildView(&cfg, at(0), true, at(0), nil, nil, als); !v.next.Equal(at(10 * time.Minute)) {
		t.Errorf("with only alerts, the next change is at %v, want the detour's end at +10m", v.next.Sub(t0))
	}
	// Offline long enough for the timetable: the closed stop stays empty
	// while closed, and fills from the timetable once the closure ends.
	v = buildView(&cfg, at(12*time.Minute), false, at(0), boards, tts, als)
	if len(v.Stops[0].Alerts) != 0 || len(v.Stops[1].Arrivals) != 0 || v.Stops[1].Note != NoteClosed {
		t.Errorf("offline at +12m: CEN alerts %+v; HBR rows %s note %q", v.Stops[0].Alerts, rowsOf(v.Stops[1]), v.Stops[1].Note)
	}
	v = buildView(&cfg, at(21*time.Minute), false, at(0), boards, tts, als)
	if len(v.Stops[1].Alerts) != 0 || rowsOf(v.Stops[1]) != "" && v.Stops[1].Note == NoteClosed {
		t.Errorf("after the closure: HBR alerts %+v rows %s note %q", v.Stops[1].Alerts, rowsOf(v.Stops[1]), v.Stops[1].Note)
	}
	if v := buildView(&cfg, at(3*time.Hour), false, at(0), boards, tts, als); len(v.Stops[0].Alerts) != 1 || v.Stops[0].Alerts[0].ID != "tonight" {
		t.Errorf("at +3h: CEN alerts %+v", v.Stops[0].Alerts)
	}
}

// Alerts are cached with the boards: a sign restarted with no hub shows
// them.
func TestAlertsCached(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sign.db")
	c, err := signcache.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	in := wire.Alerts{Type: wire.TypeAlerts, Stop: "CEN", GeneratedAt: t0, Alerts: []wire.Alert{{ID: "a", Effect: wire.EffectDetour, Header: "Diverted"}}}
	if err := c.PutAlerts(in); err != nil {
		t.Fatal(err)
	}
	if err := c.PutAlerts(wire.Alerts{Stop: "a/b"}); err == nil {
		t.Error("stored alerts under a bad stop id")
	}
	c.Close()
	c, err = signcache.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	got, err := c.Alerts()
	if err != nil || len(got["CEN"].Alerts) != 1 || got["CEN"].Alerts[0].Header != "Diverted" {
		t.Fatalf("%+v %v", got, err)
	}
}
