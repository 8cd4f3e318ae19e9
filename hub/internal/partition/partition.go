// Package partition shares a cluster's vehicles out among its hubs, so that
// each vehicle's fixes are processed by exactly one live hub at a time.
//
// It is built from what NATS offers, with no consensus of its own:
//
//   - the vehicles' messages are read where nats-server's MQTT listener
//     stores them before it acknowledges them to the bus ($MQTT_msgs, a
//     replicated JetStream stream with interest retention), so that a fix
//     acknowledged to a bus is one a hub will get: a stream of its own
//     taking in what the buses publish would drop it while it elects a new
//     leader (4 to 9 s after the node that led it dies), the bus having
//     been told it was received. The stream's subject transform puts each
//     vehicle's messages in one of N partitions by a hash of its id
//     ({{partition(N,1)}}), set by the hubs on the stream;
//   - one durable pull consumer per partition, in a priority group with the
//     pinned-client policy: the server delivers a partition to one client
//     only, and moves it to another when that one stops pulling for
//     PinnedTTL (its hub died) or is unpinned (it handed the partition
//     over); a message stays in the stream until its partition's consumer
//     has it acknowledged;
//   - each hub pulls the partitions it owns (Roster.Owner): partition p's
//     home is the (p mod n)th of the n hubs the cluster knows, by name; when
//     its home is offline it goes to one of the hubs online, spread evenly.
//     So when a hub dies only its partitions move, and the survivors keep
//     theirs: a partition moving between two live hubs while JetStream
//     elects new leaders is where fixes went astray. Ownership is a
//     preference; the pin is what makes delivery exclusive while hubs
//     disagree for a moment.
//
// A hub acknowledges a message once its engine has applied it (Deliver's
// ack), so a hub killed with messages in its queue leaves them to the next
// owner; one it cannot queue (full) is redelivered a second later, so
// nothing is dropped. A partition handed over is drained first: the
// messages the client had buffered are delivered, not discarded to wait
// out AckWait. Messages a dead hub had received but not applied are
// redelivered to the partition's next owner after AckWait, which drops any
// it has seen by their seq.
//
// MQTT clients other than the hubs that subscribe to the vehicles' topics
// get their messages at QoS 0 only: the listener's QoS 1 delivery reads the
// stream under the vehicles' own subjects, which the transform replaces. So
// do the buses' subscriptions to their commands topic (no command is
// defined in v1): commands, when there are some, need a topic outside
// <prefix>/vehicles/<id>/ or a narrower transform.
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
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/headway-transit/headway/internal/wire"
)

// Stream is where nats-server's MQTT listener stores QoS 1 messages, on
// subjects storedAs + the message's NATS subject.
const (
	Stream   = "$MQTT_msgs"
	storedAs = "$MQTT.msgs."
)

// legacyStream took in the vehicles' messages itself before (see the
// package doc for why no longer); a hub deletes it.
const legacyStream = "HEADWAY_VEHICLES"

// group is the consumers' priority group.
const group = "hubs"

// DefaultPartitions divides evenly among 1, 2, 3, 4 and 6 hubs.
const DefaultPartitions = 12

// DefaultAckWait: a dead hub's unapplied messages reach the next owner this
// long after it was handed them; long enough that a hub's full queue does
// not make them come twice.
const DefaultAckWait = 30 * time.Second

// PinnedTTL is how long a partition stays with a hub that has stopped
// pulling: the time a dead hub's vehicles wait for another.
const PinnedTTL = 4 * time.Second

// A hub whose process stalls (stopped, swapped out, its machine suspended)
// for stallAfter may have lost its partitions meanwhile, and what it was
// handed before may have gone to another hub after AckWait. It notices
// within stallTick of waking, and then holds back for stallHold what it is
// handed and does not apply what it was handed before: the stream hands
// those again (to it, if the partitions are still its).
const (
	stallAfter = 2 * time.Second
	stallTick  = 250 * time.Millisecond
	stallHold  = 2 * time.Second
)

// drainFor bounds how long a hub handing a partition over waits for its
// client to deliver what it holds.
const drainFor = 2 * time.Second

// Options configures a Partitions.
type Options struct {
	JS         jetstream.JetStream
	Topics     wire.Topics
	Partitions int // default DefaultPartitions
	// AckWait is how long a message handed to a hub waits for its ack
	// before it is handed again (to the partition's owner then); default
	// DefaultAckWait.
	AckWait  time.Duration
	Replicas int // the stream's and consumers' (1 to 5)
	// Node is this hub's name; Roster the hubs the cluster knows and the
	// ones online, this one included.
	Node   string
	Roster func() Roster
	// Deliver queues a vehicle's message, by its MQTT topic, for the
	// engine (copying payload), which calls ack once it has applied it;
	// false when it cannot (the queue is full), and the message is
	// redelivered later. The engine asks stale first: true when the hub
	// stalled since it was handed the message (then it neither applies
	// nor acknowledges it: another hub may have it by now).
	Deliver func(topic string, payload []byte, ack func(), stale func() bool) bool
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

	// The stall fence (stallAfter): monotonic times since born.
	born      time.Time
	lastBeat  atomic.Int64
	holdUntil atomic.Int64
	epoch     atomic.Uint64 // counts stalls
	stalls    atomic.Uint64
}

// New checks opts; Run sets the stream up and pulls.
func New(opts Options) (*Partitions, error) {
	if opts.Partitions == 0 {
		opts.Partitions = DefaultPartitions
	}
	if opts.AckWait <= 0 {
		opts.AckWait = DefaultAckWait
	}
	if opts.Partitions < 1 || opts.Partitions > 1024 {
		return nil, fmt.Errorf("cluster.partitions: %d, want 1 to 1024", opts.Partitions)
	}
	if opts.Replicas < 1 || opts.Replicas > 5 {
		return nil, fmt.Errorf("partition: replicas %d, want 1 to 5", opts.Replicas)
	}
	if opts.JS == nil || opts.Roster == nil || opts.Deliver == nil {
		return nil, errors.New("partition: JS, Roster and Deliver are required")
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	vehicles := strings.TrimSuffix(opts.Topics.AllPositions(), "/+/position")
	return &Partitions{opts: opts, log: opts.Logger.With("component", "partition"), pulls: map[int]jetstream.ConsumeContext{},
		prefix: subject(vehicles), born: time.Now()}, nil
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

// Roster is who is in the cluster: Known, every hub the cluster has had
// (online or not), and Online, the ones online now.
type Roster struct {
	Known, Online []string
}

// Owner is the hub partition p belongs to: its home, the (p mod n)th of the
// n hubs known (sorted), while that one is online; else the (p div n mod
// m)th of the m online, so a dead hub's partitions spread evenly over the
// survivors and the survivors' own stay put. "" with no hub online.
func (r Roster) Owner(p int) string {
	online := slices.Sorted(slices.Values(r.Online))
	if len(online) == 0 {
		return ""
	}
	known := slices.Compact(slices.Sorted(slices.Values(append(slices.Clone(r.Known), online...))))
	if home := known[p%len(known)]; slices.Contains(online, home) {
		return home
	}
	return online[(p/len(known))%len(online)]
}

// transform is the subject transform the hubs set on Stream.
func (ps *Partitions) transform() *jetstream.SubjectTransformConfig {
	return &jetstream.SubjectTransformConfig{
		Source:      storedAs + ps.prefix + ".*.*",
		Destination: fmt.Sprintf("%shwpart.{{partition(%d,1)}}.{{wildcard(1)}}.{{wildcard(2)}}", storedAs, ps.opts.Partitions),
	}
}

// setUpStream creates Stream as the MQTT listener would (it takes one it
// finds as it is), with the partitions' transform, or sets the transform on
// the one the listener made.
func (ps *Partitions) setUpStream(ctx context.Context) error {
	st, err := ps.opts.JS.Stream(ctx, Stream)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		_, err = ps.opts.JS.CreateStream(ctx, jetstream.StreamConfig{
			Name:             Stream,
			Subjects:         []string{storedAs + ">"},
			Storage:          jetstream.FileStorage,
			Retention:        jetstream.InterestPolicy,
			Replicas:         ps.opts.Replicas,
			SubjectTransform: ps.transform(),
		})
		if errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
			return ps.setUpStream(ctx) // made meanwhile
		}
		return err
	}
	if err != nil {
		return err
	}
	cfg := st.CachedInfo().Config
	if want := ps.transform(); cfg.SubjectTransform == nil || *cfg.SubjectTransform != *want {
		cfg.SubjectTransform = want
		_, err = ps.opts.JS.UpdateStream(ctx, cfg)
	}
	return err
}

func consumerName(p int) string { return "part-" + strconv.Itoa(p) }

// setUp creates the stream and the partitions' consumers, or finds them as
// another hub made them.
func (ps *Partitions) setUp(ctx context.Context) error {
	if err := ps.setUpStream(ctx); err != nil {
		return fmt.Errorf("stream %s: %w", Stream, err)
	}
	if err := ps.opts.JS.DeleteStream(ctx, legacyStream); err == nil {
		ps.log.Info("deleted the stream earlier hubs took the vehicles' messages in", "stream", legacyStream)
	}
	for p := range ps.opts.Partitions {
		_, err := ps.opts.JS.CreateOrUpdateConsumer(ctx, Stream, jetstream.ConsumerConfig{
			Durable:        consumerName(p),
			FilterSubject:  fmt.Sprintf("%shwpart.%d.>", storedAs, p),
			AckPolicy:      jetstream.AckExplicitPolicy,
			AckWait:        ps.opts.AckWait,
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
	ps.lastBeat.Store(ps.mono())
	go ps.watchStalls(ctx)
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	for {
		ps.balance(ctx)
		select {
		case <-ctx.Done():
			ps.mu.Lock()
			for p, cc := range ps.pulls {
				// Unacknowledged, what it held goes to the next owner.
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
	roster := ps.opts.Roster()
	ps.mu.Lock()
	defer ps.mu.Unlock()
	for p := range ps.opts.Partitions {
		mine := roster.Owner(p) == ps.opts.Node
		cc, pulling := ps.pulls[p]
		if pulling {
			select {
			case <-cc.Closed():
				// The pull ended on its own (its consumer lost, say): take
				// the partition up again rather than leave it unread.
				ps.log.Warn("a partition's pull ended; taking it up again", "partition", p)
				delete(ps.pulls, p)
				pulling = false
			default:
			}
		}
		switch {
		case mine && !pulling:
			// Taken from a hub gone offline (its routes down) or handing
			// it over: unpin it now rather than wait out PinnedTTL.
			ps.unpin(ctx, p)
			c, err := ps.opts.JS.Consumer(ctx, Stream, consumerName(p))
			if err == nil {
				part := p
				cc, err = c.Consume(ps.handle, jetstream.PullPriorityGroup(group), jetstream.PullExpiry(2*time.Second),
					jetstream.ConsumeErrHandler(func(_ jetstream.ConsumeContext, err error) {
						ps.log.Debug("partition pull", "partition", part, "err", err)
					}))
			}
			if err != nil {
				ps.log.Warn("cannot pull a partition; retrying", "partition", p, "err", err)
				continue
			}
			ps.pulls[p] = cc
			ps.log.Info("partition taken up", "partition", p)
		case !mine && pulling:
			// Deliver what the client holds (Stop would discard it, to
			// be redelivered only after AckWait), then hand the partition
			// over now rather than after PinnedTTL.
			cc.Drain()
			select {
			case <-cc.Closed():
			case <-time.After(drainFor):
				ps.log.Warn("partition not drained in time; handing it over anyway", "partition", p)
			}
			delete(ps.pulls, p)
			ps.unpin(ctx, p)
			ps.log.Info("partition handed over", "partition", p, "to", roster.Owner(p))
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

// mono is the monotonic time since ps was made, which runs on while the
// process is stopped.
func (ps *Partitions) mono() int64 { return int64(time.Since(ps.born)) }

// watchStalls beats every stallTick until ctx is done.
func (ps *Partitions) watchStalls(ctx context.Context) {
	t := time.NewTicker(stallTick)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			ps.beat(ps.mono())
		}
	}
}

// beat records that the process ran at now, and reports whether it had
// stalled since the last beat (then bumping the epoch).
func (ps *Partitions) beat(now int64) bool {
	last := ps.lastBeat.Swap(now)
	if gap := time.Duration(now - last); gap > stallAfter {
		ps.stalled(now, gap)
		return true
	}
	return false
}

// stalled fences off what the hub was handed before now.
func (ps *Partitions) stalled(now int64, gap time.Duration) {
	ps.epoch.Add(1)
	ps.stalls.Add(1)
	ps.holdUntil.Store(now + int64(stallHold))
	ps.log.Warn("the hub stalled: what it was handed before is left for the stream to hand again", "stalled_for", gap.Round(time.Millisecond))
}

// Stalls counts the stalls noticed.
func (ps *Partitions) Stalls() uint64 { return ps.stalls.Load() }

// handle passes a message on as its MQTT topic.
func (ps *Partitions) handle(m jetstream.Msg) {
	now := ps.mono()
	if time.Duration(now-ps.lastBeat.Load()) > stallAfter {
		// Woken from a stall before the watch noticed: this message was
		// buffered before it.
		ps.beat(now)
	}
	if now < ps.holdUntil.Load() {
		// Left unacknowledged: handed again after AckWait.
		return
	}
	// $MQTT.msgs.hwpart.<p>.<vehicle>.<kind>
	parts := strings.SplitN(strings.TrimPrefix(m.Subject(), storedAs), ".", 4)
	if len(parts) != 4 || !strings.HasPrefix(m.Subject(), storedAs) {
		_ = m.Term()
		return
	}
	vehicle := strings.ReplaceAll(parts[2], "//", ".")
	var topic string
	switch parts[3] {
	case "position":
		topic = ps.opts.Topics.Position(vehicle)
	case "status":
		topic = ps.opts.Topics.Status(vehicle)
	default:
		// Another topic under the vehicle's (commands, to the bus): not
		// the hub's to take.
		_ = m.Term()
		return
	}
	epoch := ps.epoch.Load()
	stale := func() bool { return ps.epoch.Load() != epoch }
	if !ps.opts.Deliver(topic, m.Data(), func() { _ = m.Ack() }, stale) {
		_ = m.NakWithDelay(time.Second)
	}
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

// Owns reports whether this hub pulls vehicle's partition now: sources
// other than the broker (an agency's feed, which every hub polls) take
// only the vehicles it owns, so that each is still tracked by one hub.
func (ps *Partitions) Owns(vehicle string) bool {
	p := Of(vehicle, ps.opts.Partitions)
	ps.mu.Lock()
	defer ps.mu.Unlock()
	_, ok := ps.pulls[p]
	return ok
}
