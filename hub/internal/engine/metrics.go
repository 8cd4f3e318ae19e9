package engine

import "github.com/prometheus/client_golang/prometheus"

type metrics struct {
	messages  *prometheus.CounterVec
	boards    prometheus.Counter
	conflicts prometheus.Counter
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
	}
}

func (m metrics) register(r prometheus.Registerer) {
	r.MustRegister(m.messages, m.boards, m.conflicts)
}
