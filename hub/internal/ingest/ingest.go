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
	"sync/atomic"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/headway-transit/headway/internal/mqttconn"
	"github.com/headway-transit/headway/internal/wire"
)

// Message is one MQTT message received on a vehicle topic.
type Message struct {
	Topic    string
	Payload  []byte
	Received time.Time
}

// Options configures an Ingest.
type Options struct {
	Conn    mqttconn.Config
	Topics  wire.Topics
	Queue   int
	Factory mqttconn.Factory // nil means mqttconn.NewClient
	Logger  *slog.Logger
	Now     func() time.Time
}

// Ingest is the hub's MQTT client.
type Ingest struct {
	opts      Options
	client    mqttconn.Client
	queue     chan Message
	dropped   atomic.Uint64
	received  atomic.Uint64
	connected atomic.Bool
	log       *slog.Logger
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
		opts:  opts,
		queue: make(chan Message, opts.Queue),
		log:   opts.Logger.With("component", "ingest"),
	}
	o, err := opts.Conn.Options()
	if err != nil {
		return nil, err
	}
	o.SetOnConnectHandler(in.onConnect)
	o.SetConnectionLostHandler(func(_ mqtt.Client, err error) {
		in.connected.Store(false)
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
	for _, f := range []string{in.opts.Topics.AllPositions(), in.opts.Topics.AllStatus()} {
		f := f
		t := in.client.Subscribe(f, 1, in.onMessage)
		// Waiting here would block paho's connect goroutine; check later.
		go func() {
			<-t.Done()
			if err := t.Error(); err != nil {
				in.log.Error("mqtt subscribe failed", "filter", f, "err", err)
			}
		}()
	}
}

func (in *Ingest) onMessage(_ mqtt.Client, m mqtt.Message) {
	in.received.Add(1)
	msg := Message{Topic: m.Topic(), Received: in.opts.Now()}
	if p := m.Payload(); len(p) <= wire.MaxPayload {
		msg.Payload = append([]byte(nil), p...)
	} else {
		// Keep a marker so the engine rejects and counts it by reason.
		msg.Payload = p[:wire.MaxPayload+1]
		msg.Payload = append([]byte(nil), msg.Payload...)
	}
	select {
	case in.queue <- msg:
	default:
		in.dropped.Add(1)
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

// Run connects (paho retries until it succeeds) and stays connected until
// ctx is done.
func (in *Ingest) Run(ctx context.Context) error {
	t := in.client.Connect()
	if err := mqttconn.Wait(ctx, t); err != nil && ctx.Err() == nil {
		return fmt.Errorf("mqtt connect: %w", err)
	}
	<-ctx.Done()
	in.client.Disconnect(250)
	return nil
}

// PublishBoard publishes a stop's board, retained, QoS 1. It does not wait
// for the broker: boards are superseded by the next one, and the engine
// must not stall on a slow broker.
func (in *Ingest) PublishBoard(stop string, payload []byte) {
	if !in.client.IsConnectionOpen() {
		return
	}
	in.client.Publish(in.opts.Topics.Board(stop), 1, true, payload)
}
