package main

import (
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/headway-transit/headway/hub/internal/avlfeed"
	"github.com/headway-transit/headway/hub/internal/config"
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
