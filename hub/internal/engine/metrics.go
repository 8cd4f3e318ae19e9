package engine

import "github.com/prometheus/client_golang/prometheus"

type metrics struct {
	messages  *prometheus.CounterVec
	boards    prometheus.Counter
	conflicts prometheus.Counter
	standing  prometheus.Counter
	unsure    prometheus.Counter
	// Cluster: what the model learned from other hubs' buses, and the
	// trip runs other hubs predict on this hub's boards.
	remoteObs  prometheus.Counter
	remoteRuns prometheus.Counter
}

func newMetrics() metrics {
	return metrics{
		messages: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "headway_vehicle_messages_total",
			Help: "Vehicle MQTT messages by outcome (accepted, backfill, duplicate, status, rejected_<reason>).",
		}, []string{"result"}),
		boards: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "headway_boards_published_total",
			Help: "Boards rebuilt with changed arrivals and published.",
		}),
		conflicts: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "headway_trip_conflicts_total",
			Help: "Fixes of a vehicle on a trip run another vehicle already predicts (one of them is on the wrong trip).",
		}),
		remoteObs: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "headway_cluster_observations_taken_total",
			Help: "Observations (stops passed, stands) of other hubs' vehicles the arrival model learned from.",
		}),
		remoteRuns: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "headway_cluster_runs_taken_total",
			Help: "Trip runs' rows taken from other hubs of the cluster for this hub's boards.",
		}),
		unsure: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "headway_vehicle_unsure_no_prediction_total",
			Help: "Fixes of a vehicle tracked for less than tracking.settle whose inferred trip another block's trip fits about as well, so predicting nothing.",
		}),
		standing: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "headway_vehicle_standing_no_prediction_total",
			Help: "Fixes of a vehicle standing mid-route longer than tracking.max_stand, so predicting nothing.",
		}),
	}
}

func (m metrics) register(r prometheus.Registerer, e *Engine) {
	r.MustRegister(m.messages, m.boards, m.conflicts, m.standing, m.unsure, m.remoteObs, m.remoteRuns, vehicleCollector{e})
	r.MustRegister(e.live.collectors()...)
	r.MustRegister(e.acc.collectors()...)
}

// vehicleCollector exports each vehicle's counters from the engine's
// latest snapshot at scrape time.
type vehicleCollector struct{ e *Engine }

var (
	descLastSeen = prometheus.NewDesc("headway_vehicle_last_seen_seconds", "Seconds since the hub last heard from the vehicle.", []string{"vehicle"}, nil)
	descAccepted = prometheus.NewDesc("headway_vehicle_fixes_total", "Live fixes accepted from the vehicle.", []string{"vehicle"}, nil)
	descDup      = prometheus.NewDesc("headway_vehicle_duplicates_total", "Fixes dropped as duplicates by seq.", []string{"vehicle"}, nil)
	descGaps     = prometheus.NewDesc("headway_vehicle_gaps_total", "Seqs skipped when first passed (an outage; backfill may fill them).", []string{"vehicle"}, nil)
	descMissing  = prometheus.NewDesc("headway_vehicle_missing_seqs", "Seqs not received yet between the lowest hole and the highest seq.", []string{"vehicle"}, nil)
	descBackfill = prometheus.NewDesc("headway_vehicle_backfill_total", "Fixes received late from the vehicle's outbox.", []string{"vehicle"}, nil)
	descRejected = prometheus.NewDesc("headway_vehicle_rejected_total", "Fixes rejected as impossible (future, far away).", []string{"vehicle"}, nil)
)

func (vehicleCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descLastSeen, descAccepted, descDup, descGaps, descMissing, descBackfill, descRejected} {
		ch <- d
	}
}

func (c vehicleCollector) Collect(ch chan<- prometheus.Metric) {
	now := c.e.opts.Now()
	for _, v := range c.e.Vehicles() {
		ch <- prometheus.MustNewConstMetric(descLastSeen, prometheus.GaugeValue, now.Sub(v.LastSeen).Seconds(), v.ID)
		ch <- prometheus.MustNewConstMetric(descAccepted, prometheus.CounterValue, float64(v.Accepted), v.ID)
		ch <- prometheus.MustNewConstMetric(descDup, prometheus.CounterValue, float64(v.Duplicates), v.ID)
		ch <- prometheus.MustNewConstMetric(descGaps, prometheus.CounterValue, float64(v.Gaps), v.ID)
		ch <- prometheus.MustNewConstMetric(descMissing, prometheus.GaugeValue, float64(v.Missing), v.ID)
		ch <- prometheus.MustNewConstMetric(descBackfill, prometheus.CounterValue, float64(v.Backfill), v.ID)
		ch <- prometheus.MustNewConstMetric(descRejected, prometheus.CounterValue, float64(v.Rejected), v.ID)
	}
}
