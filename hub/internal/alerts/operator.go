package alerts

import (
	"context"
	"log/slog"

	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/nats-io/nats.go/jetstream"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/headway-transit/headway/internal/gtfs"
)

// Operators are the alerts the hub's operators write (POST /api/alerts, the
// dashboard). With a path they are kept in that file, written whole and
// renamed into place on each change, so they survive a restart or a crash.
type Operators struct {
	store *Store
	feed  *gtfs.Feed
	path  string
	now   func() time.Time
	mu    sync.Mutex

	// Shared over a cluster (Share): the bucket, once Run set it up.
	js       jetstream.JetStream
	replicas int
	kv       jetstream.KeyValue
	log      *slog.Logger
}

// keepOver is how long an alert whose periods have all ended is kept
// (listed, not shown) before it is dropped.
const keepOver = 24 * time.Hour

// OpenOperators loads the operators' alerts from path ("" keeps them in
// memory only) into store.
func OpenOperators(path string, store *Store, feed *gtfs.Feed, now func() time.Time) (*Operators, error) {
	if now == nil {
		now = time.Now
	}
	o := &Operators{store: store, feed: feed, path: path, now: now}
	if path == "" {
		return o, nil
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return o, nil
	}
	if err != nil {
		return nil, fmt.Errorf("alerts file: %w", err)
	}
	var as []Alert
	if err := json.Unmarshal(b, &as); err != nil {
		return nil, fmt.Errorf("alerts file %s: %w", path, err)
	}
	for i := range as {
		if err := as[i].Check(feed); err != nil {
			return nil, fmt.Errorf("alerts file %s: [%d]: %w (fix or remove it)", path, i, err)
		}
	}
	store.Set(Operator, as)
	return o, nil
}

// List returns the operators' alerts.
func (o *Operators) List() []Alert { return o.store.Source(Operator) }

// Put adds a, or replaces the alert with its id; an empty id gets a new
// one. It returns the alert as kept.
func (o *Operators) Put(a Alert) (Alert, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if a.ID == "" {
		var b [6]byte
		_, _ = rand.Read(b[:])
		a.ID = "op-" + hex.EncodeToString(b[:])
	}
	a.Source = Operator
	if err := a.Check(o.feed); err != nil {
		return Alert{}, err
	}
	if kv, shared := o.kvLocked(); shared {
		if kv == nil {
			return Alert{}, ErrNotReady
		}
		b, _ := json.Marshal(a)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if _, err := kv.Put(ctx, a.ID, b); err != nil {
			return Alert{}, fmt.Errorf("alerts: sharing with the cluster: %w", err)
		}
		return a, nil // every hub's store, this one's too, follows the bucket
	}
	now := o.now()
	as := slices.DeleteFunc(o.store.Source(Operator), func(x Alert) bool {
		return x.ID == a.ID || (x.Over(now) && x.Over(now.Add(-keepOver)))
	})
	as = append(as, a)
	if err := o.save(as); err != nil {
		return Alert{}, err
	}
	o.store.Set(Operator, as)
	return a, nil
}

// Delete removes the alert with id; false when there is none.
func (o *Operators) Delete(id string) (bool, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	as := o.store.Source(Operator)
	n := len(as)
	as = slices.DeleteFunc(as, func(x Alert) bool { return x.ID == id })
	if len(as) == n {
		return false, nil
	}
	if kv, shared := o.kvLocked(); shared {
		if kv == nil {
			return false, ErrNotReady
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := kv.Delete(ctx, id); err != nil {
			return false, fmt.Errorf("alerts: sharing with the cluster: %w", err)
		}
		return true, nil
	}
	if err := o.save(as); err != nil {
		return false, err
	}
	o.store.Set(Operator, as)
	return true, nil
}

// ErrNotReady is returned by a shared Operators whose bucket is not set
// up yet.
var ErrNotReady = errors.New("alerts: the cluster's alerts bucket is not ready yet; try again in a moment")

// kvLocked is bucket for callers holding o.mu.
func (o *Operators) kvLocked() (jetstream.KeyValue, bool) { return o.kv, o.js != nil }

// save writes as to the file: a temporary file synced, then renamed over
// the old one, so a crash leaves the old list or the new, never half.
func (o *Operators) save(as []Alert) error {
	if o.path == "" {
		return nil
	}
	if as == nil {
		as = []Alert{}
	}
	b, err := json.MarshalIndent(as, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(o.path), ".alerts-*")
	if err != nil {
		return fmt.Errorf("alerts file: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(b); err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), o.path)
	}
	if err != nil {
		return fmt.Errorf("alerts file %s: %w", o.path, err)
	}
	return nil
}
