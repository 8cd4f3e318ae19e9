package station

import (
	"math"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/headway-transit/headway/internal/promorder"
)

// metrics are one Station's Prometheus metrics, on its own registries so
// that two stations in one process (tests, or a multi-sign box) never
// collide.
type metrics struct {
	// registry gathers the station's own metrics (headway_station_*), then
	// the Go runtime's and the process's (go_*, process_*).
	registry         prometheus.Gatherer
	own              *prometheus.Registry
	connected        prometheus.Gauge
	boardsReceived   prometheus.Counter
	reconnects       prometheus.Counter
	cacheWriteErrors prometheus.Counter
}

func newMetrics(cacheAge func() float64) *metrics {
	own, runtime := prometheus.NewRegistry(), prometheus.NewRegistry()
	m := &metrics{
		registry: promorder.Gatherer(own, runtime),
		own:      own,
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

// cacheAgeSeconds is the age of the newest board. A sign that never got a
// board is infinitely stale: +Inf makes "age > threshold" alerts fire.
func cacheAgeSeconds(now, last time.Time) float64 {
	if last.IsZero() {
		return math.Inf(1)
	}
	return max(now.Sub(last).Seconds(), 0)
}
