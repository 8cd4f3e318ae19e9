package signtui

import (
	"strings"
	"testing"
	"time"

	"github.com/headway-transit/headway/agent/internal/station"
	"github.com/headway-transit/headway/internal/wire"
)

// A stop's alerts come first, a closed stop says so instead of its rows.
func TestRenderAlerts(t *testing.T) {
	v := station.View{GeneratedAt: t0, Online: true, Mode: station.ModeLive, Clock: "24h", Stops: []station.StopView{
		{Stop: "CEN", StopName: "Central", Arrivals: []station.ArrivalView{row("a", "2", "Lighthouse", 3*time.Minute, wire.SourceRealtime, false, station.OriginBoard)},
			Alerts: []wire.Alert{{ID: "d", Effect: wire.EffectDetour, Header: "Diverted via Via Roma", Routes: []string{"2"}}}},
		{Stop: "HBR", StopName: "Harbour", Note: station.NoteClosed, Arrivals: []station.ArrivalView{},
			Alerts: []wire.Alert{{ID: "c", Effect: wire.EffectNoService, Header: "Closed for works: use Fish Market", StopClosed: true}}},
	}}
	var b strings.Builder
	if err := Render(&b, v, time.UTC); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{"** ROUTE 2: Diverted via Via Roma\n", "** STOP CLOSED: Closed for works: use Fish Market\n   This stop is closed - see the notice above\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("frame lacks %q:\n%s", want, out)
		}
	}
	if strings.Index(out, "** ROUTE 2") > strings.Index(out, "Lighthouse") {
		t.Errorf("the alert is not above the rows:\n%s", out)
	}
}
