// Package vehicle is the agent's vehicle role: it reads fixes from the GPS
// receiver, gates them on quality, commits each accepted fix to the outbox
// with the next seq, and publishes it to the broker on the v1 position
// topic with QoS 1. A fix leaves the outbox only when the broker has
// acknowledged it; after an outage the newest fix goes first (the live
// view), then the backlog oldest first marked backfill, throttled so it
// never starves the live fixes. The vehicle announces itself online with a
// retained status message and offline with its last will.
package vehicle

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"math"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/headway-transit/headway/agent/internal/outbox"
	"github.com/headway-transit/headway/drivers/nmea"
	"github.com/headway-transit/headway/internal/fleetwant"
	"github.com/headway-transit/headway/internal/mqttconn"
	"github.com/headway-transit/headway/internal/watchdog"
	"github.com/headway-transit/headway/internal/wire"
)

// FixSource produces fixes until ctx is done (drivers/gps.Receiver).
type FixSource interface {
	Run(ctx context.Context, out chan<- nmea.Fix) error
}

// Options are the agent's collaborators.
type Options struct {
	GPS     FixSource
	Factory mqttconn.Factory // nil means mqttconn.NewClient
	Logger  *slog.Logger
	Now     func() time.Time
	Version string
}

// Agent is a running vehicle agent.
type Agent struct {
	cfg    Config
	opts   Options
	log    *slog.Logger
	topics wire.Topics
	client mqttconn.Client

	// Owned by Run's goroutine.
	box      *outbox.Outbox
	last     *wire.Position // last accepted fix, for throttling and jump checks
	inflight map[uint64]bool
	needLive bool // after a (re)connect, the newest fix goes out first
	tokens   float64
	refilled time.Time

	acks   chan ack
	probes chan chan struct{} // the watchdog's questions
	want   *fleetwant.Want    // the version the hub's operators want
	events chan bool          // true: connected, false: lost; from paho's goroutines

	connected atomic.Bool
	lastFix   atomic.Int64  // unix nanos (agent clock) of the last accepted fix
	depth     atomic.Int64  // outbox depth, for metrics and health
	lastSeq   atomic.Uint64 // the newest fix's seq (0: none yet), for health

	reg *prometheus.Registry
	m   metrics

	ready chan struct{}
	addr  net.Addr
}

type ack struct {
	seq     uint64
	err     error
	latency time.Duration
}

// New builds an agent.
func New(cfg Config, opts Options) (*Agent, error) {
	if opts.GPS == nil {
		return nil, errors.New("vehicle agent: no GPS source")
	}
	if opts.Factory == nil {
		opts.Factory = mqttconn.NewClient
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	a := &Agent{
		cfg: cfg, opts: opts,
		log:      opts.Logger.With("component", "vehicle", "vehicle", cfg.Vehicle),
		topics:   wire.Topics{Prefix: cfg.MQTT.Prefix},
		inflight: map[uint64]bool{},
		acks:     make(chan ack, 1024),
		events:   make(chan bool, 16),
		probes:   make(chan chan struct{}),
		reg:      prometheus.NewRegistry(),
		ready:    make(chan struct{}),
	}
	a.want = fleetwant.New(opts.Version, "headway-vehicle", "headway_agent_update_wanted", a.log)
	a.m = newMetrics(a)
	o, err := mqttconn.Config{
		URLs: cfg.MQTT.URLs, ClientID: "headway-vehicle-" + cfg.Vehicle,
		Username: cfg.MQTT.Username, Password: cfg.MQTT.Password,
		CAFile: cfg.MQTT.CAFile, CertFile: cfg.MQTT.CertFile, KeyFile: cfg.MQTT.KeyFile,
		// A persistent session keeps the commands topic's messages for the
		// bus while it is away; the outbox, not paho, is what keeps fixes.
		CleanSession: false,
		ReconnectMax: cfg.MQTT.ReconnectMax.D(),
		// A publish racing a lost connection waits this long in paho, and
		// the agent's loop with it: not reading the receiver, not stopping
		// on SIGTERM (the broker outage test saw 30 s of fixes missed). A
		// publish that times out leaves its fix in the outbox, sent again.
		WriteTimeout: time.Second,
		Logger:       a.log,
	}.Options()
	if err != nil {
		return nil, err
	}
	will, _ := json.Marshal(wire.Status{V: wire.Version, State: wire.StateOffline, Time: opts.Now().UTC(), Version: opts.Version})
	o.SetBinaryWill(a.topics.Status(cfg.Vehicle), will, 1, true)
	o.SetOnConnectHandler(a.onConnect)
	o.SetConnectionLostHandler(func(_ mqtt.Client, err error) {
		a.connected.Store(false)
		a.log.Warn("mqtt connection lost", "err", err)
		a.event(false)
	})
	a.client = opts.Factory(o)
	return a, nil
}

// onConnect announces the vehicle and subscribes to its commands topic. It
// must not block: paho calls it on its connection goroutine.
func (a *Agent) onConnect(mqtt.Client) {
	a.connected.Store(true)
	a.m.reconnects.Inc()
	a.log.Info("mqtt connected")
	b, _ := json.Marshal(wire.Status{V: wire.Version, State: wire.StateOnline, Time: a.opts.Now().UTC(), Version: a.opts.Version})
	a.client.Publish(a.topics.Status(a.cfg.Vehicle), 1, true, b)
	// No commands are defined in v1 yet; subscribing now means a hub that
	// sends them later finds every bus listening.
	a.client.Subscribe(a.topics.Commands(a.cfg.Vehicle), 1, func(_ mqtt.Client, m mqtt.Message) {
		a.m.commands.Inc()
	})
	// The version the hub's operators want buses to run (retained).
	a.client.Subscribe(a.topics.Fleet(), 1, func(_ mqtt.Client, m mqtt.Message) {
		f, err := wire.DecodeFleet(m.Payload())
		if err != nil {
			a.log.Warn("fleet message refused", "topic", m.Topic(), "err", err)
			return
		}
		a.want.Set(f.VehicleVersion)
	})
	a.event(true)
}

func (a *Agent) event(up bool) {
	select {
	case a.events <- up:
	default: // Run will see IsConnectionOpen on its next drain
	}
}

func (a *Agent) fixAge() float64 {
	t := a.lastFix.Load()
	if t == 0 {
		return math.Inf(1)
	}
	return a.opts.Now().Sub(time.Unix(0, t)).Seconds()
}

// Ready is closed once the agent's HTTP listener (if any) is bound.
func (a *Agent) Ready() <-chan struct{} { return a.ready }

// Addr is the HTTP listener's address, after Ready.
func (a *Agent) Addr() net.Addr { return a.addr }

// drainEvery paces sending the backlog; pruneEvery the outbox's age limit.
const (
	drainEvery = 100 * time.Millisecond
	pruneEvery = time.Minute
)

// Run reads fixes and publishes them until ctx is done.
func (a *Agent) Run(ctx context.Context) error {
	box, err := outbox.Open(a.cfg.Outbox.Path, outbox.Options{
		MaxFixes: a.cfg.Outbox.MaxFixes, MaxAge: a.cfg.Outbox.MaxAge.D(), Logger: a.opts.Logger,
	})
	if err != nil {
		return err
	}
	defer box.Close()
	a.box = box
	a.noteBox()
	if n := box.Len(); n > 0 {
		a.log.Info("outbox holds fixes from before the restart", "fixes", n, "next_seq", box.NextSeq())
	}

	var wg sync.WaitGroup
	defer wg.Wait() // runs last: after cancel, every goroutine ends
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	if a.cfg.Listen != "" {
		ln, err := net.Listen("tcp", a.cfg.Listen)
		if err != nil {
			return err
		}
		a.addr = ln.Addr()
		srv := &http.Server{Handler: a.handler(), ReadHeaderTimeout: 5 * time.Second}
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = srv.Serve(ln)
		}()
		defer srv.Close()
	}
	close(a.ready)

	connect := a.client.Connect() // paho keeps retrying in the background
	wg.Add(1)
	go func() {
		defer wg.Done()
		select {
		case <-connect.Done():
			if err := connect.Error(); err != nil {
				a.log.Error("mqtt connect", "err", err)
			}
		case <-ctx.Done():
		}
	}()

	fixes := make(chan nmea.Fix, 16)
	gpsErr := make(chan error, 1)
	wg.Add(1)
	go func() {
		defer wg.Done()
		gpsErr <- a.opts.GPS.Run(ctx, fixes)
	}()

	drain := time.NewTicker(drainEvery)
	defer drain.Stop()
	prune := time.NewTicker(pruneEvery)
	defer prune.Stop()
	a.prune()
	for {
		select {
		case <-ctx.Done():
			a.goOffline()
			return nil
		case err := <-gpsErr:
			if err != nil && ctx.Err() == nil {
				a.goOffline()
				return err
			}
		case f := <-fixes:
			a.handleFix(ctx, &wg, f)
		case k := <-a.acks:
			a.acked(k)
		case up := <-a.events:
			if up {
				a.needLive = true
			} else {
				// Whatever was in flight is resent from the outbox; the hub
				// drops the duplicates by seq.
				clear(a.inflight)
			}
			a.drain(ctx, &wg)
		case <-drain.C:
			a.drain(ctx, &wg)
		case <-prune.C:
			a.prune()
		case reply := <-a.probes:
			close(reply)
		}
	}
}

// Probe returns once the event loop answers (it is not stuck on the
// outbox or the broker), or ctx's error: the systemd watchdog's question.
func (a *Agent) Probe(ctx context.Context) error {
	return watchdog.Ask(ctx, a.probes, "vehicle loop")
}

// goOffline says goodbye cleanly: the will is for unclean exits.
func (a *Agent) goOffline() {
	if a.client.IsConnectionOpen() {
		b, _ := json.Marshal(wire.Status{V: wire.Version, State: wire.StateOffline, Time: a.opts.Now().UTC(), Version: a.opts.Version})
		t := a.client.Publish(a.topics.Status(a.cfg.Vehicle), 1, true, b)
		t.WaitTimeout(2 * time.Second)
	}
	a.client.Disconnect(500)
}

func (a *Agent) prune() {
	if _, err := a.box.Prune(a.opts.Now()); err != nil {
		a.log.Error("outbox prune", "err", err)
	}
	a.noteBox()
}

// noteBox publishes the outbox's depth and newest seq to metrics and health.
func (a *Agent) noteBox() {
	a.depth.Store(int64(a.box.Len()))
	a.lastSeq.Store(a.box.NextSeq() - 1)
}
