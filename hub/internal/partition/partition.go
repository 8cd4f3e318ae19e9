// Package partition shares a cluster's vehicles out among its hubs, so that
// each vehicle's fixes are processed by exactly one live hub at a time.
//
// It is built from what NATS offers, with no consensus of its own:
//
//   - a JetStream stream (work-queue retention, replicated) takes in every
//     position and status the vehicles publish over MQTT, its subject
//     transform putting each vehicle in one of N partitions by a hash of
//     its id ({{partition(N,1)}});
//   - one durable pull consumer per partition, in a priority group with the
//     pinned-client policy: the server delivers a partition to one client
//     only, and moves it to another when that one stops pulling for
//     PinnedTTL (its hub died) or is unpinned (it handed the partition
//     over);
//   - each hub pulls the partitions it owns: partition p belongs to the
//     (p mod n)th of the n hubs online, by name, as every hub sees the
//     cluster's routes. Ownership is a preference; the pin is what makes
//     delivery exclusive while hubs disagree for a moment.
//
// A hub acknowledges a message once it is in its engine's queue; one it
// cannot queue (full) is redelivered a second later, so nothing is dropped.
// Messages a dead hub had received but not acknowledged are redelivered to
// the partition's next owner, which drops the ones it has seen by their seq.
package partition

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/headway-transit/headway/internal/wire"
)

// Stream is the JetStream stream of the vehicles' messages.
const Stream = "HEADWAY_VEHICLES"

// group is the consumers' priority group.
const group = "hubs"

// DefaultPartitions divides evenly among 1, 2, 3, 4 and 6 hubs.
const DefaultPartitions = 12

// PinnedTTL is how long a partition stays with a hub that has stopped
// pulling: the time a dead hub's vehicles wait for another.
const PinnedTTL = 4 * time.Second

// Options configures a Partitions.
type Options struct {
	JS         jetstream.JetStream
	Topics     wire.Topics
	Partitions int // default DefaultPartitions
	Replicas   int // the stream's and consumers' (1 to 5)
	// Node is this hub's name; Online lists the names of the hubs online,
	// this one included.
	Node   string
	Online func() []string
	// Deliver queues a vehicle's message, by its MQTT topic, for the
	// engine (copying payload); false when it cannot (the queue is full),
	// and the message is redelivered later.
	Deliver func(topic string, payload []byte) bool
	Logger  *slog.Logger
}

// Partitions pulls this hub's share of the vehicles' messages.
type Partitions struct {
	opts   Options
	log    *slog.Logger
	mu     sync.Mutex
	pulls  map[int]jetstream.ConsumeContext
	ready  bool
	prefix string // the vehicles' subjects before the vehicle id
}

// New checks opts; Run sets the stream up and pulls.
func New(opts Options) (*Partitions, error) {
	if opts.Partitions == 0 {
		opts.Partitions = DefaultPartitions
	}
	if opts.Partitions < 1 || opts.Partitions > 1024 {
		return nil, fmt.Errorf("cluster.partitions: %d, want 1 to 1024", opts.Partitions)
	}
	if opts.Replicas < 1 || opts.Replicas > 5 {
		return nil, fmt.Errorf("partition: replicas %d, want 1 to 5", opts.Replicas)
	}
	if opts.JS == nil || opts.Online == nil || opts.Deliver == nil {
		return nil, errors.New("partition: JS, Online and Deliver are required")
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	vehicles := strings.TrimSuffix(opts.Topics.AllPositions(), "/+/position")
	return &Partitions{opts: opts, log: opts.Logger.With("component", "partition"), pulls: map[int]jetstream.ConsumeContext{},
		prefix: subject(vehicles)}, nil
}

// subject is the NATS subject nats-server carries an MQTT topic on: '/'
// becomes '.', and a '.' inside a level "//".
func subject(topic string) string {
	levels := strings.Split(topic, "/")
	for i, l := range levels {
		levels[i] = strings.ReplaceAll(l, ".", "//")
	}
	return strings.Join(levels, ".")
}

// Of is the partition a vehicle's messages go to: the same FNV-1a hash
// nats-server's partition() transform takes, so tests can tell.
func Of(vehicle string, partitions int) int {
	h := uint32(2166136261)
	for _, c := range []byte(strings.ReplaceAll(vehicle, ".", "//")) {
		h ^= uint32(c)
		h *= 16777619
	}
	return int(h % uint32(partitions))
}

// Owner is the hub partition p belongs to among online (sorted).
func Owner(p int, online []string) string {
	if len(online) == 0 {
		return ""
	}
	return online[p%len(online)]
}

func (ps *Partitions) streamConfig() jetstream.StreamConfig {
	return jetstream.StreamConfig{
		Name:      Stream,
		Subjects:  []string{ps.prefix + ".*.position", ps.prefix + ".*.status"},
		Retention: jetstream.WorkQueuePolicy,
		Storage:   jetstream.FileStorage,
		Replicas:  ps.opts.Replicas,
		// A fix older than this is history, not the live view.
		MaxAge: 24 * time.Hour,
		SubjectTransform: &jetstream.SubjectTransformConfig{
			Source:      ps.prefix + ".*.*",
			Destination: fmt.Sprintf("hwpart.{{partition(%d,1)}}.{{wildcard(1)}}.{{wildcard(2)}}", ps.opts.Partitions),
		},
	}
}

func consumerName(p int) string { return "part-" + strconv.Itoa(p) }

// setUp creates the stream and the partitions' consumers, or finds them as
// another hub made them.
func (ps *Partitions) setUp(ctx context.Context) error {
	if _, err := ps.opts.JS.CreateOrUpdateStream(ctx, ps.streamConfig()); err != nil {
		return fmt.Errorf("stream %s: %w", Stream, err)
	}
	for p := range ps.opts.Partitions {
		_, err := ps.opts.JS.CreateOrUpdateConsumer(ctx, Stream, jetstream.ConsumerConfig{
			Durable:        consumerName(p),
			FilterSubject:  fmt.Sprintf("hwpart.%d.>", p),
			AckPolicy:      jetstream.AckExplicitPolicy,
			AckWait:        30 * time.Second,
			MaxAckPending:  20000,
			Replicas:       ps.opts.Replicas,
			PriorityGroups: []string{group},
			PriorityPolicy: jetstream.PriorityPolicyPinned,
			PinnedTTL:      PinnedTTL,
		})
		if err != nil {
			return fmt.Errorf("consumer %s: %w", consumerName(p), err)
		}
	}
	return nil
}

// Run sets the stream up (retrying while the cluster elects its leader),
// then pulls the partitions this hub owns, taking up and handing over
// partitions as hubs come and go, until ctx is done.
func (ps *Partitions) Run(ctx context.Context) error {
	for {
		err := ps.setUp(ctx)
		if err == nil {
			break
		}
		ps.log.Warn("partitions not set up yet; retrying", "err", err)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(time.Second):
		}
	}
	ps.mu.Lock()
	ps.ready = true
	ps.mu.Unlock()
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	for {
		ps.balance(ctx)
		select {
		case <-ctx.Done():
			ps.mu.Lock()
			for p, cc := range ps.pulls {
				cc.Stop()
				delete(ps.pulls, p)
			}
			ps.mu.Unlock()
			return nil
		case <-tick.C:
		}
	}
}

// balance pulls the partitions this hub owns and hands over the others.
func (ps *Partitions) balance(ctx context.Context) {
	online := slices.Clone(ps.opts.Online())
	slices.Sort(online)
	ps.mu.Lock()
	defer ps.mu.Unlock()
	for p := range ps.opts.Partitions {
		mine := Owner(p, online) == ps.opts.Node
		cc, pulling := ps.pulls[p]
		switch {
		case mine && !pulling:
			// Taken from a hub gone offline (its routes down) or handing
			// it over: unpin it now rather than wait out PinnedTTL.
			ps.unpin(ctx, p)
			c, err := ps.opts.JS.Consumer(ctx, Stream, consumerName(p))
			if err == nil {
				cc, err = c.Consume(ps.handle, jetstream.PullPriorityGroup(group), jetstream.PullExpiry(2*time.Second))
			}
			if err != nil {
				ps.log.Warn("cannot pull a partition; retrying", "partition", p, "err", err)
				continue
			}
			ps.pulls[p] = cc
			ps.log.Info("partition taken up", "partition", p)
		case !mine && pulling:
			cc.Stop()
			delete(ps.pulls, p)
			// Hand it over now rather than after PinnedTTL.
			ps.unpin(ctx, p)
			ps.log.Info("partition handed over", "partition", p, "to", Owner(p, online))
		}
	}
}

// unpin frees partition p's consumer for the next hub that pulls it.
func (ps *Partitions) unpin(ctx context.Context, p int) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	st, err := ps.opts.JS.Stream(ctx, Stream)
	if err == nil {
		err = st.UnpinConsumer(ctx, consumerName(p), group)
	}
	if err != nil {
		ps.log.Debug("unpin", "partition", p, "err", err)
	}
}

// handle passes a message on as its MQTT topic.
func (ps *Partitions) handle(m jetstream.Msg) {
	// hwpart.<p>.<vehicle>.<kind>
	parts := strings.SplitN(m.Subject(), ".", 4)
	if len(parts) != 4 {
		_ = m.Term()
		return
	}
	vehicle := strings.ReplaceAll(parts[2], "//", ".")
	topic := ps.opts.Topics.Position(vehicle)
	if parts[3] == "status" {
		topic = ps.opts.Topics.Status(vehicle)
	}
	if !ps.opts.Deliver(topic, m.Data()) {
		_ = m.NakWithDelay(time.Second)
		return
	}
	_ = m.Ack()
}

// Ready reports whether the stream and consumers are set up.
func (ps *Partitions) Ready() bool {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	return ps.ready
}

// Count is how many partitions the vehicles are shared out in (0 for nil:
// no partitions).
func (ps *Partitions) Count() int {
	if ps == nil {
		return 0
	}
	return ps.opts.Partitions
}

// Owned lists the partitions this hub pulls.
func (ps *Partitions) Owned() []int {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	return slices.Sorted(maps.Keys(ps.pulls))
}
