// Package fleetwant is an agent's side of fleet updates: the hub says which
// version its operators want the role to run (wire.Fleet); the agent
// compares it with its own, says so once in its log, in /healthz and in a
// gauge. Fetching the package is the device's apt, not Headway's.
package fleetwant

import (
	"log/slog"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// Want follows the wanted version of one agent.
type Want struct {
	own, unit string
	log       *slog.Logger
	gauge     prometheus.Gauge

	mu     sync.Mutex
	wanted string
}

// New follows the version wanted of an agent running own; unit names its
// service in the log's advice, metric its gauge.
func New(own, unit, metric string, log *slog.Logger) *Want {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Want{own: own, unit: unit, log: log, gauge: prometheus.NewGauge(prometheus.GaugeOpts{
		Name: metric, Help: "1 when the hub's operators want this agent on another version (fleet: in hub.yaml): update its package.",
	})}
}

// Set takes the version the hub says is wanted ("" asks nothing).
func (w *Want) Set(wanted string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if wanted == w.wanted {
		return
	}
	w.wanted = wanted
	if wanted != "" && wanted != w.own {
		w.gauge.Set(1)
		w.log.Warn("the hub's operators want another version of this agent: update its package (apt-get install --only-upgrade headway-agent), then systemctl restart "+w.unit,
			"running", w.own, "wanted", wanted)
		return
	}
	w.gauge.Set(0)
	if wanted != "" {
		w.log.Info("this agent runs the version the hub's operators want", "version", w.own)
	}
}

// Status is the wanted version and whether an update is wanted.
func (w *Want) Status() (wanted string, update bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.wanted, w.wanted != "" && w.wanted != w.own
}

// Collector is the gauge, for the agent's /metrics.
func (w *Want) Collector() prometheus.Collector { return w.gauge }
