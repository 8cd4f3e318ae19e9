// Package kvbucket sets up a JetStream key-value bucket the hubs of a
// cluster share, retrying while the cluster has no JetStream leader yet
// (at start, or while a hub rejoins).
package kvbucket

import (
	"context"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Retry is the wait between two attempts.
const Retry = time.Second

// Open creates or updates cfg's bucket, retrying every Retry and logging
// each failure as what "not set up yet"; it returns nil when ctx ends
// first.
func Open(ctx context.Context, js jetstream.JetStream, cfg jetstream.KeyValueConfig, what string, log *slog.Logger) jetstream.KeyValue {
	for {
		kv, err := js.CreateOrUpdateKeyValue(ctx, cfg)
		if err == nil {
			return kv
		}
		log.Warn(what+" not set up yet; retrying", "err", err)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(Retry):
		}
	}
}
