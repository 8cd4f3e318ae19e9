package push_test

import (
	"encoding/json"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/headway-transit/headway/hub/internal/push"
	"github.com/headway-transit/headway/internal/wire"
)

// fanouts is headway_ws_fanout_seconds{kind}'s count.
func fanouts(t *testing.T, reg *prometheus.Registry, kind string) uint64 {
	return metric(t, reg, "headway_ws_fanout_seconds", "kind", kind).GetHistogram().GetSampleCount()
}

// metric is the series of the metric name whose label is value; nil (its
// getters say zero) when there is none.
func metric(t *testing.T, reg *prometheus.Registry, name, label, value string) *dto.Metric {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == label && l.GetValue() == value {
					return m
				}
			}
		}
	}
	return nil
}

func waitFanouts(t *testing.T, reg *prometheus.Registry, kind string, want uint64) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for fanouts(t, reg, kind) != want {
		if time.Now().After(deadline) {
			t.Fatalf("headway_ws_fanout_seconds{kind=%q} counts %d publishes, want %d", kind, fanouts(t, reg, kind), want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestFanoutTimed: a board published to a stop is timed once, when every
// sign of the stop has been written it.
func TestFanoutTimed(t *testing.T) {
	reg := prometheus.NewRegistry()
	s, url := start(t, push.Options{Registerer: reg})
	for _, d := range []string{"s1", "s2", "s3"} {
		c := dial(t, url, nil)
		subscribe(t, c, d, "A")
		read(t, c)
		read(t, c)
		defer func() {
			if typ, _ := read(t, c); typ != wire.TypeBoard {
				t.Errorf("%s read %s, want the board", d, typ)
			}
		}()
	}
	b, _ := json.Marshal(wire.Board{Type: wire.TypeBoard, Stop: "A", GeneratedAt: time.Now().UTC(), Arrivals: []wire.Arrival{}})
	s.Publish("A", b)
	waitFanouts(t, reg, wire.TypeBoard, 1)
	s.Publish("nobody-here", b) // no sign: nothing to time
	time.Sleep(50 * time.Millisecond)
	waitFanouts(t, reg, wire.TypeBoard, 1)
}

// TestFanoutEndsWithASlowSign: boards replaced before they were written,
// and those a dropped sign never took, still end their publish's fan-out:
// every publish is timed once, none waits for ever.
func TestFanoutEndsWithASlowSign(t *testing.T) {
	reg := prometheus.NewRegistry()
	s, url := start(t, push.Options{WriteTimeout: 300 * time.Millisecond, Registerer: reg})
	fast, big := slowAndFast(t, url)
	var reads atomic.Int64
	go func() { // the fast sign reads on throughout
		for {
			if _, _, err := fast.ReadMessage(); err != nil {
				return
			}
			reads.Add(1)
		}
	}()
	var n uint64
	for deadline := time.Now().Add(30 * time.Second); ; {
		if time.Now().After(deadline) {
			t.Fatal("slow sign never dropped")
		}
		s.Publish("A", big)
		n++
		time.Sleep(5 * time.Millisecond)
		if slices.ContainsFunc(s.Displays(), func(d push.Display) bool { return d.ID == "slow" && !d.Connected }) {
			break
		}
	}
	waitFanouts(t, reg, wire.TypeBoard, n)
	if reads.Load() == 0 {
		t.Error("the fast sign read no board")
	}
}
