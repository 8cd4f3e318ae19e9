// Package ingest receives vehicle messages from the MQTT broker and hands
// them to the hub's engine through a bounded queue, and publishes the hub's
// retained boards back to the broker.
//
// Paho calls message handlers on its own goroutines; a handler that blocks
// stalls the whole client. So the handler here only copies the message into
// the queue, and when the queue is full it drops the message and counts it.
package ingest

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/headway-transit/headway/internal/mqttconn"
	"github.com/headway-transit/headway/internal/wire"
)

// The QoS the hub subscribes with. Positions are QoS 1: the broker keeps
// each until the hub has it. Statuses (online, offline: retained, so the
// latest comes again at every subscribe) are QoS 0, so that they take none
// of the hub session's allowance of unacknowledged messages: nats-server
// (mqtt.go, trackPublish) sends a session no QoS 1 message beyond
// max_ack_pending (1,024) unacknowledged in all, counting every
// subscription, and leaves the one it holds back to JetStream's redelivery
// after the ack wait, 30 s. With both at QoS 1, a positions backlog of
// about 1,000 (50 ms at 20,000 a second) and statuses in flight made a few
// positions 30 s late.
const (
	PositionQoS = 1
	StatusQoS   = 0
)

// Message is one MQTT message received on a vehicle topic.
type Message struct {
	Topic    string
	Payload  []byte
	Received time.Time
	// Applied, when set, is called once the engine has applied the
	// message (acknowledging it to a cluster's stream).
	Applied func()
	// Stale, when set and true, says the message must not be applied:
	// the hub stalled since it was handed it, and the cluster's stream
	// may have handed it to another hub.
	Stale func() bool
}

// Options configures an Ingest.
type Options struct {
	Conn    mqttconn.Config
	Topics  wire.Topics
	Queue   int
	Factory mqttconn.Factory // nil means mqttconn.NewClient
	// Partitioned: the vehicles' messages reach this hub through its share
	// of a cluster's partitions (Enqueue), not MQTT subscriptions, which
	// would give every hub every vehicle.
	Partitioned bool
	Logger      *slog.Logger
	Now         func() time.Time
}

// Ingest is the hub's MQTT client.
type Ingest struct {
	opts      Options
	client    mqttconn.Client
	queue     chan Message
	dropped   atomic.Uint64
	received  atomic.Uint64
	connected atomic.Bool
	// subscribed is true once the broker has acknowledged every
	// subscription of the current connection; conn numbers connections,
	// so a late acknowledgement of an older one does not count.
	subscribed atomic.Bool
	conn       atomic.Uint64
	log        *slog.Logger

	// Boards waiting to be published, latest per stop, and every board
	// published so far, to publish again after a reconnect.
	bmu      sync.Mutex
	latest   map[string][]byte
	dirty    map[string]bool
	wakeBrd  chan struct{}
	pubFails atomic.Uint64
}

// New builds the client; Run connects it.
func New(opts Options) (*Ingest, error) {
	if opts.Factory == nil {
		opts.Factory = mqttconn.NewClient
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	in := &Ingest{
		opts:    opts,
		queue:   make(chan Message, opts.Queue),
		log:     opts.Logger.With("component", "ingest"),
		latest:  map[string][]byte{},
		dirty:   map[string]bool{},
		wakeBrd: make(chan struct{}, 1),
	}
	if opts.Conn.Logger == nil {
		opts.Conn.Logger = in.log
	}
	o, err := opts.Conn.Options()
	if err != nil {
		return nil, err
	}
	o.SetOnConnectHandler(in.onConnect)
	o.SetConnectionLostHandler(func(_ mqtt.Client, err error) {
		in.connected.Store(false)
		in.subscribed.Store(false)
		in.log.Warn("mqtt connection lost", "err", err)
	})
	in.client = opts.Factory(o)
	return in, nil
}

// onConnect subscribes on every (re)connect: with a clean session the
// broker forgets subscriptions when the connection drops.
func (in *Ingest) onConnect(c mqtt.Client) {
	in.connected.Store(true)
	in.log.Info("mqtt connected")
	// Retained boards published while away never reached the broker.
	in.bmu.Lock()
	for st := range in.latest {
		in.dirty[st] = true
	}
	in.bmu.Unlock()
	in.wakeBoards()
	conn := in.conn.Add(1)
	in.subscribed.Store(false)
	if in.opts.Partitioned {
		in.subscribed.Store(true)
		return
	}
	filters := []struct {
		topic string
		qos   byte
	}{{in.opts.Topics.AllPositions(), PositionQoS}, {in.opts.Topics.AllStatus(), StatusQoS}}
	toks := make([]mqtt.Token, len(filters))
	for i, f := range filters {
		toks[i] = in.client.Subscribe(f.topic, f.qos, in.onMessage)
	}
	// Waiting here would block paho's connect goroutine; check later.
	go func() {
		ok := true
		for i, t := range toks {
			<-t.Done()
			if err := t.Error(); err != nil {
				ok = false
				in.log.Error("mqtt subscribe failed", "filter", filters[i].topic, "err", err)
			}
		}
		if ok && in.conn.Load() == conn && in.connected.Load() {
			in.subscribed.Store(true)
		}
	}()
}

func (in *Ingest) onMessage(_ mqtt.Client, m mqtt.Message) {
	if !in.Enqueue(m.Topic(), m.Payload()) {
		in.dropped.Add(1)
	}
}

// Enqueue queues a vehicle's message for the engine, copying payload; false
// when the queue is full.
func (in *Ingest) Enqueue(topic string, p []byte) bool {
	return in.EnqueueAcked(topic, p, nil, nil)
}

// EnqueueAcked is Enqueue with applied called once the engine has applied
// the message (not when it returns false), and stale asked before.
func (in *Ingest) EnqueueAcked(topic string, p []byte, applied func(), stale func() bool) bool {
	in.received.Add(1)
	msg := Message{Topic: topic, Received: in.opts.Now(), Applied: applied, Stale: stale}
	if len(p) <= wire.MaxPayload {
		msg.Payload = append([]byte(nil), p...)
	} else {
		// Keep a marker so the engine rejects and counts it by reason.
		msg.Payload = p[:wire.MaxPayload+1]
		msg.Payload = append([]byte(nil), msg.Payload...)
	}
	select {
	case in.queue <- msg:
		return true
	default:
		return false
	}
}

// Messages is the queue of received vehicle messages.
func (in *Ingest) Messages() <-chan Message { return in.queue }

// Dropped counts messages lost because the queue was full.
func (in *Ingest) Dropped() uint64 { return in.dropped.Load() }

// Received counts every message received.
func (in *Ingest) Received() uint64 { return in.received.Load() }

// Connected reports whether the client is connected now.
func (in *Ingest) Connected() bool { return in.connected.Load() }

// Subscribed reports whether the broker has acknowledged the vehicle
// subscriptions of the current connection: from then on no fix published
// is missed.
func (in *Ingest) Subscribed() bool { return in.subscribed.Load() }

// Run connects (paho retries until it succeeds) and stays connected until
// ctx is done, publishing boards as they change.
func (in *Ingest) Run(ctx context.Context) error {
	t := in.client.Connect()
	if err := mqttconn.Wait(ctx, t); err != nil && ctx.Err() == nil {
		return fmt.Errorf("mqtt connect: %w", err)
	}
	for {
		select {
		case <-ctx.Done():
			in.client.Disconnect(250)
			return nil
		case <-in.wakeBrd:
			in.publishBoards(ctx)
		}
	}
}

// PublishBoard queues a stop's board for publishing, retained, QoS 1. It
// never blocks the caller: a paho publish can wait seconds on a slow
// broker, and the engine must not. A board not yet sent is replaced by a
// newer one of its stop.
func (in *Ingest) PublishBoard(stop string, payload []byte) {
	in.PublishRetained(in.opts.Topics.Board(stop), payload)
}

// PublishRetained queues a retained QoS 1 message for topic, as boards are
// (the latest one per topic is sent, and sent again after a reconnect):
// the fleet's wanted versions, say.
func (in *Ingest) PublishRetained(topic string, payload []byte) {
	in.bmu.Lock()
	in.latest[topic] = payload
	in.dirty[topic] = true
	in.bmu.Unlock()
	in.wakeBoards()
}

func (in *Ingest) wakeBoards() {
	select {
	case in.wakeBrd <- struct{}{}:
	default:
	}
}

// PublishFailures counts board publishes the broker did not acknowledge.
func (in *Ingest) PublishFailures() uint64 { return in.pubFails.Load() }

func (in *Ingest) publishBoards(ctx context.Context) {
	if !in.client.IsConnectionOpen() {
		return // onConnect queues them all again
	}
	in.bmu.Lock()
	batch := make(map[string][]byte, len(in.dirty))
	for st := range in.dirty {
		batch[st] = in.latest[st]
	}
	clear(in.dirty)
	in.bmu.Unlock()
	for topic, b := range batch {
		t := in.client.Publish(topic, 1, true, b)
		if err := mqttconn.Wait(ctx, t); err != nil {
			if ctx.Err() != nil {
				return
			}
			in.pubFails.Add(1)
			in.log.Warn("publish retained", "topic", topic, "err", err)
			in.bmu.Lock()
			in.dirty[topic] = true // again after the next change or reconnect
			in.bmu.Unlock()
		}
	}
}
