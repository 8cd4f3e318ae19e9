package station

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/headway-transit/headway/internal/wire"
)

// TestBoardStatusReachesView: a board row the hub marks at_terminal (a bus
// waiting at the trip's first stop, docs/contracts.md "arrival.status")
// reaches the View and /board.json with its status and vehicle, for the
// sign page and the terminal board to show; a status this sign does not
// know is dropped and its row shown plainly scheduled. The status is kept
// in the cache, so a restarted sign still has it.
func TestBoardStatusReachesView(t *testing.T) {
	clock := &testClock{t: t0}
	sched := func(m int) string { return t0.Add(time.Duration(m) * time.Minute).Format(time.RFC3339) }
	// Raw, as the hub writes it: the fields a sign may not know included.
	b := `{"type":"board","stop":"CEN","stop_name":"Central Station","generated_at":"` + sched(0) + `","arrivals":[` +
		`{"trip":"wait","route":"r3","route_short_name":"3","headsign":"Airport","vehicle":"bus-3","stop_sequence":4,"scheduled":"` + sched(12) + `","source":"schedule","status":"at_terminal"},` +
		`{"trip":"odd","route":"r7","route_short_name":"7","headsign":"Old Town","vehicle":"bus-7","stop_sequence":4,"scheduled":"` + sched(15) + `","source":"schedule","status":"in_depot","later":1},` +
		`{"trip":"plain","route":"r12","route_short_name":"12","headsign":"Harbour","stop_sequence":4,"scheduled":"` + sched(20) + `","source":"schedule"}]}`
	hub := newFakeHub(t, []byte(b))
	cfg := testConfig(t, []string{hub.URL()})
	st, err := New(cfg, Options{Logger: testLogger(t), Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	base, stop := startStation(t, st)
	waitView(t, st, "the board's rows", func(v View) bool { return hasRow(v, "CEN", "plain") })

	want := map[string]struct{ vehicle, status string }{
		"wait":  {"bus-3", wire.StatusAtTerminal},
		"odd":   {"bus-7", ""},
		"plain": {"", ""},
	}
	check := func(what string, v View) {
		t.Helper()
		for _, a := range v.Stops[0].Arrivals {
			w, ok := want[a.Trip]
			if !ok {
				t.Errorf("%s: row for trip %q", what, a.Trip)
				continue
			}
			if a.Source != wire.SourceSchedule || a.Vehicle != w.vehicle || a.Status != w.status {
				t.Errorf("%s: trip %s is %s, vehicle %q, status %q; want schedule, %q, %q",
					what, a.Trip, a.Source, a.Vehicle, a.Status, w.vehicle, w.status)
			}
		}
		if got := strings.Join(trips(v.Stops[0]), ","); got != "wait,odd,plain" {
			t.Errorf("%s: rows %s, want wait,odd,plain", what, got)
		}
	}
	check("View", st.View())
	check("/board.json", getView(t, base))

	// The page reads the JSON, not the Go type: the field is "status", and
	// absent where there is none.
	body, _ := getBody(t, base+"/board.json")
	var raw struct {
		Stops []struct {
			Arrivals []map[string]any `json:"arrivals"`
		} `json:"stops"`
	}
	if err := json.Unmarshal([]byte(body), &raw); err != nil {
		t.Fatal(err)
	}
	for _, a := range raw.Stops[0].Arrivals {
		status, has := a["status"]
		if a["trip"] == "wait" && status != wire.StatusAtTerminal || a["trip"] != "wait" && has {
			t.Errorf("/board.json row %v: status %v", a["trip"], status)
		}
	}
	stop()

	cfg.Hub = []string{deadURL(t)}
	st2, err := New(cfg, Options{Logger: testLogger(t), Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	startStation(t, st2) // the cache is read before Ready
	check("restarted from the cache", st2.View())
}
