package station

import (
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// metrics are one Station's Prometheus metrics, on its own registries so
// that two stations in one process (tests, or a multi-sign box) never
// collide.
type metrics struct {
	// registry gathers the station's own metrics (headway_station_*), then
	// the Go runtime's and the process's (go_*, process_*).
	registry         prometheus.Gatherer
	connected        prometheus.Gauge
	boardsReceived   prometheus.Counter
	reconnects       prometheus.Counter
	cacheWriteErrors prometheus.Counter
}

func newMetrics(cacheAge func() float64) *metrics {
	own, runtime := prometheus.NewRegistry(), prometheus.NewRegistry()
	m := &metrics{
		registry: prometheus.GathererFunc(inOrder(own.Gather, runtime.Gather)),
		connected: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "headway_station_connected",
			Help: "1 while the sign has a subscribed WebSocket connection to a hub.",
		}),
		boardsReceived: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "headway_station_boards_received_total",
			Help: "Valid boards received from the hub.",
		}),
		reconnects: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "headway_station_reconnects_total",
			Help: "Dial attempts after the first, successful or not.",
		}),
		cacheWriteErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "headway_station_cache_write_errors_total",
			Help: "Boards and timetables that could not be written to the cache file.",
		}),
	}
	own.MustRegister(
		m.connected, m.boardsReceived, m.reconnects, m.cacheWriteErrors,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "headway_station_cache_age_seconds",
			Help: "Seconds since the last board was received; +Inf if none ever was.",
		}, cacheAge),
	)
	runtime.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return m
}

// inOrder joins gatherers' Gather methods into one that lists each one's
// metric families in turn. prometheus.Gatherers would sort them all by
// name, which puts the runtime's go_* and process_* ahead of the sign's
// own headway_*, the ones a technician opens /metrics for. Scrapers do not
// mind the order. A family gathered twice is an error, as it is for
// prometheus.Gatherers. (The hub's server package has the same helper;
// generic over the family type only so as not to import client_model.)
func inOrder[F interface{ GetName() string }](gathers ...func() ([]F, error)) func() ([]F, error) {
	return func() ([]F, error) {
		var out []F
		var errs []error
		seen := map[string]bool{}
		for _, gather := range gathers {
			fams, err := gather()
			if err != nil {
				errs = append(errs, err)
			}
			for _, f := range fams {
				if seen[f.GetName()] {
					errs = append(errs, fmt.Errorf("metric family %s gathered twice", f.GetName()))
					continue
				}
				seen[f.GetName()] = true
				out = append(out, f)
			}
		}
		return out, errors.Join(errs...)
	}
}

// cacheAgeSeconds is the age of the newest board. A sign that never got a
// board is infinitely stale: +Inf makes "age > threshold" alerts fire.
func cacheAgeSeconds(now, last time.Time) float64 {
	if last.IsZero() {
		return math.Inf(1)
	}
	return max(now.Sub(last).Seconds(), 0)
}
