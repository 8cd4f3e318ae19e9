package vehicle

import (
	"encoding/json"
	"math"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

type metrics struct {
	fixes        *prometheus.CounterVec
	published    prometheus.Counter
	pubErrors    prometheus.Counter
	backfillSent prometheus.Counter
	bytes        prometheus.Counter
	reconnects   prometheus.Counter
	commands     prometheus.Counter
	outboxErrors prometheus.Counter
	latency      prometheus.Histogram
}

func newMetrics(a *Agent) metrics {
	m := metrics{
		fixes:        prometheus.NewCounterVec(prometheus.CounterOpts{Name: "headway_agent_fixes_total", Help: "Fixes from the receiver by outcome (accepted, or why not)."}, []string{"result"}),
		published:    prometheus.NewCounter(prometheus.CounterOpts{Name: "headway_agent_published_total", Help: "Positions acknowledged by the broker."}),
		pubErrors:    prometheus.NewCounter(prometheus.CounterOpts{Name: "headway_agent_publish_errors_total", Help: "Publishes that failed (the fix stays in the outbox)."}),
		backfillSent: prometheus.NewCounter(prometheus.CounterOpts{Name: "headway_agent_backfill_sent_total", Help: "Backlog fixes sent after an outage."}),
		bytes:        prometheus.NewCounter(prometheus.CounterOpts{Name: "headway_agent_payload_bytes_total", Help: "Bytes of position payloads published."}),
		reconnects:   prometheus.NewCounter(prometheus.CounterOpts{Name: "headway_agent_mqtt_connects_total", Help: "MQTT connections made."}),
		commands:     prometheus.NewCounter(prometheus.CounterOpts{Name: "headway_agent_commands_total", Help: "Messages received on the vehicle's commands topic."}),
		outboxErrors: prometheus.NewCounter(prometheus.CounterOpts{Name: "headway_agent_outbox_errors_total", Help: "Outbox reads and writes that failed."}),
		latency:      prometheus.NewHistogram(prometheus.HistogramOpts{Name: "headway_agent_publish_seconds", Help: "Time from publish to broker acknowledgement.", Buckets: prometheus.ExponentialBuckets(0.001, 2, 14)}),
	}
	a.reg.MustRegister(a.want.Collector())
	a.reg.MustRegister(m.fixes, m.published, m.pubErrors, m.backfillSent, m.bytes, m.reconnects, m.commands, m.outboxErrors, m.latency)
	a.reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "headway_agent_fix_age_seconds", Help: "Seconds since the last accepted fix."}, a.fixAge),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "headway_agent_outbox_depth", Help: "Fixes in the outbox awaiting the broker's acknowledgement."}, func() float64 { return float64(a.depth.Load()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "headway_agent_outbox_dropped_total", Help: "Fixes dropped from the outbox to stay within max_fixes and max_age."}, func() float64 {
			if a.box == nil {
				return 0
			}
			return float64(a.box.Dropped())
		}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "headway_agent_mqtt_connected", Help: "1 when connected to the broker."}, func() float64 {
			if a.connected.Load() {
				return 1
			}
			return 0
		}),
	)
	return m
}

func (a *Agent) handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(a.reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		age := a.fixAge()
		ok := a.connected.Load() && age < 10
		w.Header().Set("Content-Type", "application/json")
		if !ok {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
		wanted, update := a.want.Status()
		ageV := any(age)
		if math.IsInf(age, 1) {
			ageV = nil
		}
		_ = json.NewEncoder(w).Encode(map[string]any{
			"ok": ok, "vehicle": a.cfg.Vehicle, "mqtt_connected": a.connected.Load(),
			"fix_age_s": ageV, "outbox_depth": a.depth.Load(), "last_seq": a.lastSeq.Load(), "version": a.opts.Version,
			"wanted_version": wanted, "update_wanted": update,
		})
	})
	return mux
}
