package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/headway-transit/headway/hub/internal/alerts"
	"github.com/headway-transit/headway/hub/internal/broker"
	"github.com/headway-transit/headway/hub/internal/config"
	"github.com/headway-transit/headway/hub/internal/engine"
	"github.com/headway-transit/headway/hub/internal/push"
	"github.com/headway-transit/headway/hub/internal/tufeed"
	"github.com/headway-transit/headway/internal/gtfs"
)

// alertParts are the service alerts: the store, the operators' alerts
// (kept in alerts.file) and a poller per feeds.alerts entry.
type alertParts struct {
	store   *alerts.Store
	ops     *alerts.Operators
	pollers []*alerts.Poller
	trips   []*tufeed.Poller // the agency's TripUpdates (startTripUpdates)
	changed chan struct{}
}

// startTripUpdates builds a poller per feeds.trip_updates entry, putting
// cancellations in the alerts store and predictions in eng's prior.
func (a *alertParts) startTripUpdates(cfg config.Config, feed *gtfs.Feed, eng *engine.Engine, now func() time.Time, logger *slog.Logger) error {
	for _, f := range cfg.Feeds.TripUpdates {
		p, err := tufeed.NewPoller(f.Source(), feed, tufeed.Target{SetPrior: eng.SetPrior, Store: a.store}, nil, logger, now)
		if err != nil {
			return err
		}
		a.trips = append(a.trips, p)
	}
	return nil
}

func newAlertParts(cfg config.Config, feed *gtfs.Feed, now func() time.Time, logger *slog.Logger) (*alertParts, error) {
	a := &alertParts{store: alerts.NewStore(feed), changed: make(chan struct{}, 1)}
	a.store.OnChange(func() {
		select {
		case a.changed <- struct{}{}:
		default:
		}
	})
	var err error
	if a.ops, err = alerts.OpenOperators(cfg.Alerts.File, a.store, feed, now); err != nil {
		return nil, err
	}
	for _, f := range cfg.Feeds.Alerts {
		p, err := alerts.NewPoller(f.Source(), a.store, feed, nil, logger, now)
		if err != nil {
			return nil, err
		}
		a.pollers = append(a.pollers, p)
	}
	return a, nil
}

// shareOperators makes the operators' alerts the cluster's (one bucket all
// hubs follow): over the partitions' JetStream, or the embedded broker's
// when every hub tracks every bus. A hub on an external broker without
// partitions keeps its own.
func (a *alertParts) shareOperators(cfg config.Config, brk *broker.Broker, cl *clusterParts, logger *slog.Logger) error {
	if !cfg.Cluster.Clustered() {
		return nil
	}
	replicas := min(3, max(len(cfg.Cluster.Routes), len(cfg.Cluster.NATS)))
	switch {
	case cl != nil:
		a.ops.Share(cl.js, replicas, logger)
	case brk != nil:
		_, js, err := brk.JetStream("headway-hub-alerts-" + cfg.Cluster.Node)
		if err != nil {
			return fmt.Errorf("cluster: alerts: %w", err)
		}
		a.ops.Share(js, replicas, logger)
	}
	return nil
}

// alertsEvery is how often the signs' alerts are looked at again without a
// change: alerts whose periods have all ended leave the messages.
const alertsEvery = 30 * time.Second

// publish sends each subscribed stop's alerts to its signs when they
// change, until ctx is done.
func (a *alertParts) publish(ctx context.Context, ps *push.Server, now func() time.Time) error {
	last := map[string]string{}
	t := time.NewTicker(alertsEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-a.changed:
		case <-t.C:
		}
		n := now()
		seen := map[string]bool{}
		for _, st := range ps.SubscribedStops() {
			seen[st] = true
			m := a.store.ForStop(st, n)
			m.GeneratedAt = time.Time{} // compared without it
			key := string(mustJSON(m))
			if last[st] == key {
				continue
			}
			last[st] = key
			ps.PublishAlerts(st, a.store.Message(st, n))
		}
		for st := range last {
			if !seen[st] {
				delete(last, st) // sent whole on the next subscribe
			}
		}
	}
}

func mustJSON(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}
