package alerts

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	rtpb "github.com/MobilityData/gtfs-realtime-bindings/golang/gtfs"
	"google.golang.org/protobuf/proto"

	"github.com/headway-transit/headway/hub/internal/feedpoll"
	"github.com/headway-transit/headway/hub/internal/testfeed"
	"github.com/headway-transit/headway/internal/gtfs"
	"github.com/headway-transit/headway/internal/wire"
)

// demoFeed is the demo schedule (testfeed.Demo).
func demoFeed(t testing.TB) *gtfs.Feed { return testfeed.Demo(t) }

func ptr(t time.Time) *time.Time { return &t }

func TestStoreForStop(t *testing.T) {
	feed := demoFeed(t)
	s := NewStore(feed)
	var changes atomic.Int32
	s.OnChange(func() { changes.Add(1) })
	now := time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)
	s.Set(Operator, []Alert{
		{ID: "detour-2", Effect: wire.EffectDetour, Severity: wire.SeverityWarning, Header: "Route 2 diverted", Entities: []Entity{{Route: "2"}}},
		{ID: "cen-closed", Effect: wire.EffectNoService, Header: "Central Station closed: use Via Roma", Entities: []Entity{{Stop: "CEN"}},
			Active: []wire.Period{{Start: ptr(now.Add(-time.Hour)), End: ptr(now.Add(time.Hour))}}},
		{ID: "old", Effect: wire.EffectDetour, Header: "Over", Entities: []Entity{{Agency: "HBT"}},
			Active: []wire.Period{{End: ptr(now.Add(-time.Minute))}}},
		{ID: "later", Effect: wire.EffectOtherEffect, Header: "Works tonight", Entities: []Entity{{Agency: "HBT"}},
			Active: []wire.Period{{Start: ptr(now.Add(10 * time.Hour))}}},
	})
	if changes.Load() != 1 {
		t.Fatalf("%d changes", changes.Load())
	}
	m := s.ForStop("CEN", now)
	var ids []string
	for _, a := range m.Alerts {
		ids = append(ids, a.ID)
	}
	// CEN: closed first, then the route 2 detour (route 2 calls there),
	// then the agency-wide one yet to come; the one over is gone.
	if strings.Join(ids, ",") != "cen-closed,detour-2,later" {
		t.Fatalf("alerts at CEN: %v", ids)
	}
	if !m.Alerts[0].StopClosed || len(m.Alerts[0].Routes) != 0 || m.Alerts[1].Routes[0] != "2" || m.Alerts[1].StopClosed {
		t.Errorf("%+v", m.Alerts)
	}
	// HAR is on route 1 only: no detour, not closed.
	if m := s.ForStop("HAR", now); len(m.Alerts) != 1 || m.Alerts[0].ID != "later" {
		t.Errorf("alerts at HAR: %+v", m.Alerts)
	}
	// The board: nothing calls at CEN while it is closed, and after.
	if !s.Skip("1-0-0800", "CEN", now) || s.Skip("1-0-0800", "HAR", now) || s.Skip("1-0-0800", "CEN", now.Add(2*time.Hour)) {
		t.Error("a closed stop's calls are off its board while it is closed, and only then")
	}
	// Setting the same alerts again is no change.
	s.Set(Operator, s.Source(Operator))
	if changes.Load() != 1 {
		t.Errorf("%d changes after setting the same alerts", changes.Load())
	}
}

func TestCancelledAndSkipped(t *testing.T) {
	s := NewStore(demoFeed(t))
	now := time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)
	s.Set("agency", []Alert{
		{ID: "c", Effect: wire.EffectNoService, Header: "The 08:00 is cancelled", Entities: []Entity{{Trip: "1-0-0800"}}},
		{ID: "s", Effect: wire.EffectNoService, Header: "The 09:00 skips Fish Market", Entities: []Entity{{Trip: "1-0-0900", Stop: "FSH1"}}},
		{ID: "d", Effect: wire.EffectSignificantDelays, Header: "Delays on the 10:00", Entities: []Entity{{Trip: "1-0-1000"}}},
	})
	if !s.Cancelled("1-0-0800", now) || !s.Skip("1-0-0800", "UNI", now) || s.Cancelled("1-0-1000", now) {
		t.Error("cancelled trips")
	}
	if !s.Skip("1-0-0900", "FSH1", now) || s.Skip("1-0-0900", "CUS1", now) || !s.SkippedStops("1-0-0900", now)["FSH1"] {
		t.Error("a skipped stop")
	}
	// The cancellation shows at the trip's stops, for its route.
	if m := s.ForStop("UNI", now); len(m.Alerts) != 2 || m.Alerts[0].Routes[0] != "1" { // the skip concerns FSH1 only
		t.Errorf("at UNI: %+v", m.Alerts)
	}
	if m := s.ForStop("FSH1", now); len(m.Alerts) != 3 {
		t.Errorf("at FSH1: %+v", m.Alerts)
	}
}

func TestCheckNamesWhatIsWrong(t *testing.T) {
	feed := demoFeed(t)
	for _, c := range []struct {
		a    Alert
		want string
	}{
		{Alert{ID: "a", Effect: "detour", Header: "h"}, "entities: say what it concerns"},
		{Alert{ID: "a", Effect: "detour", Header: "h", Entities: []Entity{{Route: "99"}}}, `route "99" is not in the schedule`},
		{Alert{ID: "a", Effect: "detour", Header: "h", Entities: []Entity{{Stop: "NOPE"}}}, `stop "NOPE" is not in the schedule`},
		{Alert{ID: "a", Effect: "detour", Header: "h", Entities: []Entity{{Trip: "x"}}}, `trip "x" is not in the schedule`},
		{Alert{ID: "a", Effect: "flood", Header: "h", Entities: []Entity{{Route: "1"}}}, `effect "flood"`},
		{Alert{ID: "a", Effect: "detour", Entities: []Entity{{Route: "1"}}}, "header is empty"},
		{Alert{ID: "a", Effect: "detour", Header: "h", Entities: []Entity{{}}}, "entities[0] is empty"},
	} {
		if err := c.a.Check(feed); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: err %v, want %q", c.a, err, c.want)
		}
	}
}

func TestOperatorsKeptInAFile(t *testing.T) {
	feed := demoFeed(t)
	path := filepath.Join(t.TempDir(), "alerts.json")
	now := time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	s := NewStore(feed)
	ops, err := OpenOperators(path, s, feed, clock)
	if err != nil {
		t.Fatal(err)
	}
	a, err := ops.Put(Alert{Effect: wire.EffectDetour, Header: "Route 1 diverted", Entities: []Entity{{Route: "1"}}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(a.ID, "op-") || a.Source != Operator {
		t.Fatalf("%+v", a)
	}
	if _, err := ops.Put(Alert{ID: "b", Effect: wire.EffectDetour, Header: "Route 9?", Entities: []Entity{{Route: "9"}}}); err == nil {
		t.Fatal("an alert on a route not in the schedule was taken")
	}
	if _, err := ops.Put(Alert{ID: "b", Effect: wire.EffectNoService, Header: "HAR closed", Entities: []Entity{{Stop: "HAR"}}}); err != nil {
		t.Fatal(err)
	}

	// A restart: both are back.
	s2 := NewStore(feed)
	ops2, err := OpenOperators(path, s2, feed, clock)
	if err != nil {
		t.Fatal(err)
	}
	if got := ops2.List(); len(got) != 2 || !s2.Skip("1-0-0800", "HAR", now) {
		t.Fatalf("after a restart: %+v", got)
	}
	if ok, err := ops2.Delete("b"); !ok || err != nil {
		t.Fatalf("delete: %v %v", ok, err)
	}
	if ok, _ := ops2.Delete("b"); ok {
		t.Error("deleted twice")
	}
	s3 := NewStore(feed)
	if _, err := OpenOperators(path, s3, feed, clock); err != nil || len(s3.All()) != 1 {
		t.Fatalf("after delete and restart: %v %+v", err, s3.All())
	}

	// A file edited by hand into nonsense: the hub says where.
	if err := os.WriteFile(path, []byte(`[{"id":"x","effect":"detour","header":"h","entities":[{"route":"77"}]}]`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenOperators(path, NewStore(feed), feed, clock); err == nil || !strings.Contains(err.Error(), `[0]: alert x: entities[0]: route "77"`) {
		t.Fatalf("err %v", err)
	}
}

// serviceAlerts is a GTFS-Realtime ServiceAlerts document for the tests.
func serviceAlerts(t testing.TB, alerts ...*rtpb.Alert) []byte {
	msg := &rtpb.FeedMessage{Header: &rtpb.FeedHeader{GtfsRealtimeVersion: proto.String("2.0"), Timestamp: proto.Uint64(1_800_000_000)}}
	for i, a := range alerts {
		msg.Entity = append(msg.Entity, &rtpb.FeedEntity{Id: proto.String("alert/" + string(rune('a'+i))), Alert: a})
	}
	b, err := proto.Marshal(msg)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func translated(pairs ...string) *rtpb.TranslatedString {
	ts := &rtpb.TranslatedString{}
	for i := 0; i+1 < len(pairs); i += 2 {
		tr := &rtpb.TranslatedString_Translation{Text: proto.String(pairs[i+1])}
		if pairs[i] != "" {
			tr.Language = proto.String(pairs[i])
		}
		ts.Translation = append(ts.Translation, tr)
	}
	return ts
}

func TestDecodeServiceAlerts(t *testing.T) {
	feed := demoFeed(t)
	b := serviceAlerts(t,
		&rtpb.Alert{
			ActivePeriod:   []*rtpb.TimeRange{{Start: proto.Uint64(1_800_000_000), End: proto.Uint64(1_800_003_600)}},
			InformedEntity: []*rtpb.EntitySelector{{RouteId: proto.String("2")}, {RouteId: proto.String("99")}},
			Effect:         rtpb.Alert_DETOUR.Enum(),
			Cause:          rtpb.Alert_CONSTRUCTION.Enum(),
			SeverityLevel:  rtpb.Alert_WARNING.Enum(),
			HeaderText:     translated("it", "Linea 2 deviata", "en", "Route 2 diverted"),
		},
		&rtpb.Alert{ // cancels a trip
			InformedEntity: []*rtpb.EntitySelector{{Trip: &rtpb.TripDescriptor{TripId: proto.String("1-0-0800")}}},
			Effect:         rtpb.Alert_NO_SERVICE.Enum(),
			HeaderText:     translated("", "The 08:00 does not run"),
		},
		&rtpb.Alert{ // nothing the schedule has
			InformedEntity: []*rtpb.EntitySelector{{StopId: proto.String("ELSEWHERE")}},
			HeaderText:     translated("", "Somewhere else"),
		},
		&rtpb.Alert{ // no text
			InformedEntity: []*rtpb.EntitySelector{{RouteId: proto.String("1")}},
		},
	)
	as, skipped, err := Decode(b, "agency", "en", feed)
	if err != nil {
		t.Fatal(err)
	}
	if len(as) != 2 || len(skipped) != 2 {
		t.Fatalf("%d alerts, %d skipped (%v)", len(as), len(skipped), skipped)
	}
	a := as[0]
	if a.ID != "agency:alert_a" || a.Header != "Route 2 diverted" || a.Effect != "detour" || a.Cause != "construction" || a.Severity != "warning" ||
		len(a.Entities) != 1 || a.Entities[0].Route != "2" || len(a.Active) != 1 || a.Active[0].End.Unix() != 1_800_003_600 {
		t.Errorf("%+v", a)
	}
	if as[1].Effect != wire.EffectNoService || as[1].Entities[0].Trip != "1-0-0800" {
		t.Errorf("%+v", as[1])
	}
	if !strings.Contains(skipped[0].Error(), `entity[2] (id "alert/c"): informs nothing in the schedule`) || !strings.Contains(skipped[1].Error(), "no header_text") {
		t.Errorf("skipped: %v", skipped)
	}
	for _, bad := range [][]byte{nil, b[:len(b)-4], []byte("<html>")} {
		if _, _, err := Decode(bad, "agency", "", feed); err == nil {
			t.Errorf("%q decoded", bad)
		}
	}
}

func FuzzDecode(f *testing.F) {
	feed := demoFeed(f)
	f.Add(serviceAlerts(f, &rtpb.Alert{InformedEntity: []*rtpb.EntitySelector{{RouteId: proto.String("2")}}, HeaderText: translated("", "h")}))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		as, _, err := Decode(b, "f", "", feed)
		if err != nil {
			return
		}
		s := NewStore(feed)
		s.Set("f", as)
		for _, a := range as {
			if err := a.Check(feed); err != nil {
				t.Fatalf("decoded an alert that does not check: %v", err)
			}
		}
		m := s.ForStop("CEN", time.Now())
		for i := range m.Alerts {
			if err := m.Alerts[i].Validate(); err != nil {
				t.Fatalf("a sign would refuse: %v", err)
			}
		}
	})
}

// A polled feed's alerts replace the feed's last ones; a failing poll
// keeps them (each carries its own periods) and says why.
func TestPoller(t *testing.T) {
	feed := demoFeed(t)
	doc := serviceAlerts(t, &rtpb.Alert{InformedEntity: []*rtpb.EntitySelector{{RouteId: proto.String("2")}}, HeaderText: translated("", "Route 2 diverted")})
	var fail atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if fail.Load() {
			w.Header().Set("Content-Type", "text/html")
			w.Write([]byte("<html>maintenance</html>"))
			return
		}
		w.Header().Set("Content-Type", "application/x-protobuf")
		w.Write(doc)
	}))
	defer srv.Close()
	s := NewStore(feed)
	p, err := NewPoller(FeedConfig{Config: feedpoll.Config{Name: "agency", URL: srv.URL, Every: time.Minute, Timeout: time.Second, MaxBytes: 1 << 20}}, s, feed, nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Poll(context.Background()); err != nil {
		t.Fatal(err)
	}
	if as := s.Source("agency"); len(as) != 1 || as[0].Header != "Route 2 diverted" || !p.Health().OK || p.Health().Alerts != 1 {
		t.Fatalf("%+v %+v", as, p.Health())
	}
	fail.Store(true)
	err = p.Poll(context.Background())
	if err == nil || !strings.Contains(err.Error(), `alerts feed "agency": Content-Type text/html is not a gtfs-rt alerts feed`) {
		t.Fatalf("err %v", err)
	}
	if h := p.Health(); h.OK || h.Failures != 1 || len(s.Source("agency")) != 1 {
		t.Errorf("after a failed poll: %+v, alerts %d", h, len(s.Source("agency")))
	}
	if _, err := NewPoller(FeedConfig{Config: feedpoll.Config{Name: "x", URL: "ftp://x", Every: time.Minute, Timeout: time.Second, MaxBytes: 1}}, s, feed, nil, nil, nil); err == nil {
		t.Error("an ftp url was taken")
	}
}
