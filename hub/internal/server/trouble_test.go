package server_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/headway-transit/headway/hub/internal/feedpoll"
	"github.com/headway-transit/headway/hub/internal/ingest"
	"github.com/headway-transit/headway/hub/internal/server"
	"github.com/headway-transit/headway/hub/internal/testfeed"
	"github.com/headway-transit/headway/internal/geo"
	"github.com/headway-transit/headway/internal/wire"
)

// What an operator is shown to look at: a broker down, a failing feed, a
// bus gone silent; and headway_trouble counts them by kind.
func TestTrouble(t *testing.T) {
	var st feedpoll.Status
	st.Name, st.Kind = "agency-avl", "vehicles"
	st.Failed(now, errors.New(`feed "agency-avl": HTTP 503 Service Unavailable`))
	clock := now
	h := newHubWith(t, func() (bool, map[string]any) { return false, map[string]any{"mqtt_connected": false} },
		func(o *server.Options, r prometheus.Registerer) {
			o.Feeds = func() []any { return []any{st} }
			o.Now = func() time.Time { return clock }
			o.Thresholds = server.Thresholds{SilentAfter: time.Minute}
			r.MustRegister(server.TroubleCollector(*o))
		})
	p := geo.Offset(testfeed.Origin, 90, 1500)
	payload, err := (&wire.Position{V: 1, Vehicle: "bus-1", Seq: 1, Time: now.Add(-5 * time.Minute), Lat: p.Lat, Lon: p.Lon, Mode: 3}).Encode()
	if err != nil {
		t.Fatal(err)
	}
	h.in <- ingest.Message{Topic: wire.Topics{}.Position("bus-1"), Payload: payload, Received: now}
	var ts []server.Trouble
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, body := h.get(t, "/api/trouble")
		if err := json.Unmarshal(body, &ts); err != nil {
			t.Fatalf("%s: %v", body, err)
		}
		if len(ts) == 3 || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	var kinds []string
	for _, x := range ts {
		kinds = append(kinds, x.Kind+":"+x.Subject)
	}
	if strings.Join(kinds, ",") != "broker_disconnected:mqtt,feed_failing:agency-avl,vehicle_silent:bus-1" {
		t.Fatalf("trouble %v", ts)
	}
	if !strings.Contains(ts[1].Detail, "HTTP 503") || !strings.Contains(ts[2].Detail, "no fix for 5m") {
		t.Errorf("details: %+v", ts)
	}
	_, metrics := h.get(t, "/metrics")
	for _, want := range []string{`headway_trouble{kind="feed_failing"} 1`, `headway_trouble{kind="vehicle_silent"} 1`, `headway_trouble{kind="sign_disconnected"} 0`} {
		if !strings.Contains(string(metrics), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}
