package partition

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// MembersBucket is the key-value bucket of the hubs' heartbeats;
// KnownBucket lists every hub that has joined, kept when it goes, so that
// all hubs agree on the partitions' homes (Roster).
const (
	MembersBucket = "HEADWAY_HUBS"
	KnownBucket   = "HEADWAY_HUBS_KNOWN"
)

// Heartbeat is how often a hub says it is there; MembersTTL how long after
// its last word it counts as gone.
const (
	Heartbeat  = time.Second
	MembersTTL = 5 * time.Second
)

// Members knows the hubs online from their heartbeats in a key-value bucket:
// for hubs on an external NATS cluster, which (unlike hubs with embedded
// brokers, routed to each other) have no routes to watch.
type Members struct {
	js       jetstream.JetStream
	node     string
	replicas int
	mu       sync.Mutex
	online   []string
	known    []string
}

// NewMembers is node's membership; Run keeps it.
func NewMembers(js jetstream.JetStream, node string, replicas int) *Members {
	return &Members{js: js, node: node, replicas: replicas, online: []string{node}}
}

// Online lists the hubs heard from within MembersTTL, this one included,
// sorted.
func (m *Members) Online() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.online)
}

// Roster is the hubs known (every one that has joined) and online.
func (m *Members) Roster() Roster {
	m.mu.Lock()
	defer m.mu.Unlock()
	return Roster{Known: slices.Clone(m.known), Online: slices.Clone(m.online)}
}

// Run beats and listens until ctx is done.
func (m *Members) Run(ctx context.Context) error {
	var kv, known jetstream.KeyValue
	for {
		var err error
		kv, err = m.js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
			Bucket: MembersBucket, History: 1, TTL: MembersTTL, Storage: jetstream.MemoryStorage, Replicas: m.replicas,
		})
		if err == nil {
			known, err = m.js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
				Bucket: KnownBucket, History: 1, Storage: jetstream.FileStorage, Replicas: m.replicas,
			})
		}
		if err == nil {
			break
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(time.Second):
		}
	}
	joined := false
	tick := time.NewTicker(Heartbeat)
	defer tick.Stop()
	for {
		if !joined {
			_, err := known.Put(ctx, m.node, []byte(time.Now().UTC().Format(time.RFC3339Nano)))
			joined = err == nil
		}
		if _, err := kv.Put(ctx, m.node, []byte(time.Now().UTC().Format(time.RFC3339Nano))); err == nil {
			if keys, err := kv.Keys(ctx); err == nil {
				if !slices.Contains(keys, m.node) {
					keys = append(keys, m.node)
				}
				slices.Sort(keys)
				all, err := known.Keys(ctx)
				m.mu.Lock()
				m.online = keys
				if err == nil {
					m.known = all
				}
				m.mu.Unlock()
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}
