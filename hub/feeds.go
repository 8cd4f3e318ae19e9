package main

import (
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/headway-transit/headway/hub/internal/avlfeed"
	"github.com/headway-transit/headway/hub/internal/config"
	"github.com/headway-transit/headway/hub/internal/feedpoll"
	"github.com/headway-transit/headway/hub/internal/ingest"
	"github.com/headway-transit/headway/internal/wire"
)

// vehicleFeeds builds a source for each of feeds.vehicles: the agency's
// own AVL feeds, whose positions join the engine's queue as the buses'
// MQTT messages do. In a partitioned cluster every hub polls every feed and
// takes the vehicles of its partitions.
func vehicleFeeds(cfg config.Config, in *ingest.Ingest, cl *clusterParts, reg prometheus.Registerer, now func() time.Time, logger *slog.Logger) ([]*avlfeed.Source, error) {
	if len(cfg.Feeds.Vehicles) == 0 {
		return nil, nil
	}
	metrics := avlfeed.NewMetrics(reg)
	var owns func(string) bool
	if cl != nil {
		owns = cl.parts.Owns
	}
	var out []*avlfeed.Source
	for _, f := range cfg.Feeds.Vehicles {
		src, err := avlfeed.New(avlfeed.Options{
			Feed: f.Source(), Topics: wire.Topics{Prefix: cfg.MQTT.Prefix},
			Enqueue: in.Enqueue, Owns: owns, Metrics: metrics, Logger: logger, Now: now,
		})
		if err != nil {
			return nil, err
		}
		out = append(out, src)
	}
	return out, nil
}

// feedHealth lists every feed's health: vehicles, trip updates, alerts.
func feedHealth(feeds []*avlfeed.Source, a *alertParts) []any {
	var out []any
	for _, f := range feeds {
		out = append(out, f.Health())
	}
	for _, p := range a.trips {
		out = append(out, p.Health())
	}
	for _, p := range a.pollers {
		out = append(out, p.Health())
	}
	return out
}

var (
	feedUpDesc = prometheus.NewDesc("headway_feed_up",
		"1 when the agency feed's last poll worked (read, not stale), by feed and kind (vehicles, trip_updates, alerts).", []string{"feed", "kind"}, nil)
	feedFailDesc = prometheus.NewDesc("headway_feed_consecutive_failures",
		"Polls of the agency feed that failed in a row (the wait before the next doubles with each, up to 5 minutes).", []string{"feed", "kind"}, nil)
)

// feedCollector exports every feed's state, whatever its kind, at scrape.
type feedCollector struct{ health func() []any }

func (feedCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- feedUpDesc
	ch <- feedFailDesc
}

func (c feedCollector) Collect(ch chan<- prometheus.Metric) {
	for _, h := range c.health() {
		st, ok := h.(interface{ FeedStatus() feedpoll.Status })
		if !ok {
			continue
		}
		f := st.FeedStatus()
		name, kind, ok, fails := f.Name, f.Kind, f.OK, f.Failures
		up := 0.0
		if ok {
			up = 1
		}
		ch <- prometheus.MustNewConstMetric(feedUpDesc, prometheus.GaugeValue, up, name, kind)
		ch <- prometheus.MustNewConstMetric(feedFailDesc, prometheus.GaugeValue, float64(fails), name, kind)
	}
}
