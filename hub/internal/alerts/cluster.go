package alerts

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/headway-transit/headway/hub/internal/kvbucket"
)

// Bucket is the JetStream key-value bucket a cluster's hubs keep the
// operators' alerts in: one key per alert id.
const Bucket = "headway_operator_alerts"

// Share makes the operators' alerts the cluster's: an alert posted to any
// hub is written to the bucket (file storage, replicated like the rest),
// and every hub's store follows the bucket, so a sign shows the same alerts
// whichever hub it is on, and they outlive the loss of any one hub. The
// alerts file, if any, is then this hub's copy, not the source. Call it
// before Run.
func (o *Operators) Share(js jetstream.JetStream, replicas int, logger *slog.Logger) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	o.mu.Lock()
	o.js, o.replicas, o.log = js, max(replicas, 1), logger.With("component", "alerts")
	o.mu.Unlock()
}

// Run, on a shared Operators, sets the bucket up (retrying while the
// cluster elects leaders), puts there the alerts this hub had in its file
// that the cluster lacks, then keeps the store to the bucket until ctx is
// done. Unshared, it returns at once.
func (o *Operators) Run(ctx context.Context) error {
	o.mu.Lock()
	js, replicas := o.js, o.replicas
	o.mu.Unlock()
	if js == nil {
		return nil
	}
	kv := kvbucket.Open(ctx, js, jetstream.KeyValueConfig{
		Bucket: Bucket, History: 1, Storage: jetstream.FileStorage, Replicas: replicas,
	}, "operators' alerts bucket", o.log)
	if kv == nil {
		return nil
	}
	for _, a := range o.store.Source(Operator) {
		b, _ := json.Marshal(a)
		if _, err := kv.Create(ctx, a.ID, b); err != nil && !errors.Is(err, jetstream.ErrKeyExists) {
			o.log.Warn("operator's alert from the file not shared", "id", a.ID, "err", err)
		}
	}
	w, err := kv.WatchAll(ctx)
	if err != nil {
		return fmt.Errorf("alerts: watch: %w", err)
	}
	defer w.Stop()
	o.mu.Lock()
	o.kv = kv
	o.mu.Unlock()
	have := map[string]Alert{}
	initial := true
	for {
		select {
		case <-ctx.Done():
			return nil
		case e, ok := <-w.Updates():
			if !ok {
				return errors.New("alerts: watch ended")
			}
			if e == nil { // the bucket's contents so far are all in
				initial = false
				o.follow(have)
				continue
			}
			if e.Operation() != jetstream.KeyValuePut {
				delete(have, e.Key())
			} else {
				var a Alert
				if err := json.Unmarshal(e.Value(), &a); err != nil || a.Check(o.feed) != nil {
					o.log.Warn("ignoring an operator's alert in the bucket", "key", e.Key(), "err", err)
					continue
				}
				a.Source = Operator
				have[a.ID] = a
			}
			if !initial {
				o.follow(have)
			}
		}
	}
}

// follow makes the store and the file what the bucket holds.
func (o *Operators) follow(have map[string]Alert) {
	as := make([]Alert, 0, len(have))
	for _, a := range have {
		as = append(as, a)
	}
	slices.SortFunc(as, func(a, b Alert) int { return strings.Compare(a.ID, b.ID) })
	o.mu.Lock()
	defer o.mu.Unlock()
	if err := o.save(as); err != nil {
		o.log.Warn("alerts file not written", "err", err)
	}
	o.store.Set(Operator, as)
}
