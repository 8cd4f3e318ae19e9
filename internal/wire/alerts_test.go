package wire

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestDecodeAlerts(t *testing.T) {
	msg := `{"type":"alerts","stop":"CEN","generated_at":"2026-12-06T10:00:00Z","alerts":[
	 {"id":"a1","effect":"detour","severity":"warning","header":"Route 2 diverted via Via Roma","routes":["2"],
	  "active":[{"start":"2026-12-06T09:00:00Z","end":"2026-12-06T12:00:00Z"}]},
	 {"id":"a2","effect":"no_service","header":"Stop closed: use Via Roma","stop_closed":true},
	 {"id":"a3","effect":"teleport","severity":"cosmic","header":"From a newer hub","later":1}]}`
	m, err := DecodeAlerts([]byte(msg))
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Alerts) != 3 || m.Alerts[0].Routes[0] != "2" || !m.Alerts[1].StopClosed {
		t.Fatalf("%+v", m)
	}
	if a := m.Alerts[2]; a.Effect != EffectUnknownEffect || a.Severity != "" {
		t.Errorf("a newer hub's effect and severity: %q %q, want unknown_effect and none", a.Effect, a.Severity)
	}
	at := func(s string) time.Time { t, _ := time.Parse(time.RFC3339, s); return t }
	a := m.Alerts[0]
	for _, c := range []struct {
		t            string
		active, over bool
	}{{"2026-12-06T08:59:59Z", false, false}, {"2026-12-06T09:00:00Z", true, false}, {"2026-12-06T11:59:59Z", true, false}, {"2026-12-06T12:00:00Z", false, true}} {
		if a.ActiveAt(at(c.t)) != c.active || a.Over(at(c.t)) != c.over {
			t.Errorf("at %s: active %v over %v, want %v %v", c.t, a.ActiveAt(at(c.t)), a.Over(at(c.t)), c.active, c.over)
		}
	}
	if b := m.Alerts[1]; !b.ActiveAt(at("2030-01-01T00:00:00Z")) || b.Over(at("2030-01-01T00:00:00Z")) {
		t.Error("an alert with no periods is in force until removed")
	}
	empty, err := DecodeAlerts([]byte(`{"type":"alerts","stop":"CEN","generated_at":"2026-12-06T10:00:00Z"}`))
	if err != nil || empty.Alerts == nil || len(empty.Alerts) != 0 {
		t.Errorf("no alerts: %+v %v", empty, err)
	}
}

func TestDecodeAlertsRefuses(t *testing.T) {
	long := strings.Repeat("x", MaxAlertHeader+1)
	for _, c := range []struct{ name, msg, want string }{
		{"type", `{"type":"board","stop":"CEN","generated_at":"2026-12-06T10:00:00Z","alerts":[]}`, `type "board"`},
		{"stop", `{"type":"alerts","stop":"a/b","generated_at":"2026-12-06T10:00:00Z","alerts":[]}`, "stop id"},
		{"no time", `{"type":"alerts","stop":"CEN","alerts":[]}`, "generated_at is missing"},
		{"no header", `{"type":"alerts","stop":"CEN","generated_at":"2026-12-06T10:00:00Z","alerts":[{"id":"a","effect":"detour"}]}`, "alerts[0]: alert a: header is empty"},
		{"long header", `{"type":"alerts","stop":"CEN","generated_at":"2026-12-06T10:00:00Z","alerts":[{"id":"a","effect":"detour","header":"` + long + `"}]}`, "more than 300"},
		{"backwards period", `{"type":"alerts","stop":"CEN","generated_at":"2026-12-06T10:00:00Z","alerts":[{"id":"a","effect":"detour","header":"h","active":[{"start":"2026-12-06T10:00:00Z","end":"2026-12-06T09:00:00Z"}]}]}`, "not after it starts"},
		{"bad id", `{"type":"alerts","stop":"CEN","generated_at":"2026-12-06T10:00:00Z","alerts":[{"id":"","effect":"detour","header":"h"}]}`, "alert id is empty"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if _, err := DecodeAlerts([]byte(c.msg)); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err %v, want %q", err, c.want)
			}
		})
	}
	many := Alerts{Type: TypeAlerts, Stop: "CEN", GeneratedAt: time.Now()}
	for i := 0; i <= MaxAlertsPerStop; i++ {
		many.Alerts = append(many.Alerts, Alert{ID: "a", Effect: EffectDetour, Header: "h"})
	}
	b, _ := json.Marshal(many)
	if _, err := DecodeAlerts(b); err == nil || !strings.Contains(err.Error(), "more than 20") {
		t.Fatalf("err %v", err)
	}
}

func FuzzDecodeAlerts(f *testing.F) {
	f.Add([]byte(`{"type":"alerts","stop":"CEN","generated_at":"2026-12-06T10:00:00Z","alerts":[{"id":"a1","effect":"detour","header":"h","routes":["2"],"active":[{"start":"2026-12-06T09:00:00Z"}]}]}`))
	f.Add([]byte(`{"type":"alerts"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := DecodeAlerts(b)
		if err != nil {
			return
		}
		for i := range m.Alerts {
			if err := m.Alerts[i].Validate(); err != nil {
				t.Fatalf("decoded an alert that does not validate: %v", err)
			}
			m.Alerts[i].ActiveAt(time.Now())
		}
	})
}
