package station

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/headway-transit/headway/internal/wire"
)

// Reload (SIGHUP) moves a running sign to other stops and another hub at
// once, with no restart: the new hub gets the new subscribe, its boards
// show, and the rows limit applies; fields that need a restart are named,
// not applied.
func TestReloadStopsRowsAndHub(t *testing.T) {
	clock := &testClock{t: t0}
	first := newFakeHub(t, mustJSON(t, board("CEN", "t1", t0.Add(5*time.Minute), nil)))
	second := newFakeHub(t,
		mustJSON(t, board("HBR", "h1", t0.Add(3*time.Minute), ptr(t0.Add(4*time.Minute)))),
		mustJSON(t, board("PIER", "p1", t0.Add(6*time.Minute), nil)),
	)
	cfg := testConfig(t, []string{first.URL()})
	st, err := New(cfg, Options{Logger: testLogger(t), Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	base, _ := startStation(t, st)
	recv(t, first.subs, "first subscribe")
	eventually(t, "CEN's board", func() bool {
		v := getView(t, base)
		return len(v.Stops) > 0 && v.Stops[0].Stop == "CEN" && len(v.Stops[0].Arrivals) == 1
	})

	next := cfg
	next.Stops = []string{"HBR", "PIER"}
	next.Hub = []string{second.URL()}
	next.Rows = 1
	next.Listen = "127.0.0.1:1" // needs a restart
	applied, restart := st.Reload(next)
	if !slices.Equal(applied, []string{"stops", "rows", "hub"}) || !slices.Equal(restart, []string{"listen"}) {
		t.Errorf("applied %v, restart %v", applied, restart)
	}
	sub := recv(t, second.subs, "subscribe to the new hub")
	if strings.Join(sub.Stops, ",") != "HBR,PIER" {
		t.Errorf("new subscribe %+v", sub)
	}
	var v View
	eventually(t, "the new stops' boards", func() bool {
		v = getView(t, base)
		return len(v.Stops) == 2 && v.Stops[0].Stop == "HBR" && len(v.Stops[0].Arrivals) == 1 && len(v.Stops[1].Arrivals) == 1
	})
	if a := v.Stops[0].Arrivals[0]; a.Trip != "h1" || a.Source != wire.SourceRealtime {
		t.Errorf("HBR %+v", a)
	}
	if st.config().Listen == next.Listen {
		t.Error("listen changed without a restart")
	}
	// Nothing changed: nothing applied, no reconnection.
	if applied, restart := st.Reload(st.config()); len(applied)+len(restart) != 0 {
		t.Errorf("a reload with nothing changed: %v %v", applied, restart)
	}
	select {
	case s := <-second.subs:
		t.Errorf("reconnected with nothing changed: %+v", s)
	case <-time.After(300 * time.Millisecond):
	}
}
