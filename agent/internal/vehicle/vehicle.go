// Package vehicle is the agent's vehicle role: it reads fixes from the GPS
// receiver, gates them on quality, numbers them and publishes them to the
// broker on the v1 position topic with QoS 1, announcing the vehicle online
// with a retained status message and offline with its last will.
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
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/headway-transit/headway/drivers/nmea"
	"github.com/headway-transit/headway/internal/geo"
	"github.com/headway-transit/headway/internal/mqttconn"
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

	seq       uint64
	last      *wire.Position
	connected atomic.Bool
	lastFix   atomic.Int64 // unix nanos of the last accepted fix's arrival

	reg *prometheus.Registry
	m   metrics

	ready chan struct{}
	addr  net.Addr
}

type metrics struct {
	fixes      *prometheus.CounterVec
	published  prometheus.Counter
	pubErrors  prometheus.Counter
	reconnects prometheus.Counter
	latency    prometheus.Histogram
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
		log:    opts.Logger.With("component", "vehicle", "vehicle", cfg.Vehicle),
		topics: wire.Topics{Prefix: cfg.MQTT.Prefix},
		reg:    prometheus.NewRegistry(),
		ready:  make(chan struct{}),
	}
	a.m = metrics{
		fixes:      prometheus.NewCounterVec(prometheus.CounterOpts{Name: "headway_agent_fixes_total", Help: "Fixes from the receiver by outcome."}, []string{"result"}),
		published:  prometheus.NewCounter(prometheus.CounterOpts{Name: "headway_agent_published_total", Help: "Positions acknowledged by the broker."}),
		pubErrors:  prometheus.NewCounter(prometheus.CounterOpts{Name: "headway_agent_publish_errors_total", Help: "Publishes that failed."}),
		reconnects: prometheus.NewCounter(prometheus.CounterOpts{Name: "headway_agent_mqtt_connects_total", Help: "MQTT connections made."}),
		latency:    prometheus.NewHistogram(prometheus.HistogramOpts{Name: "headway_agent_publish_seconds", Help: "Time from publish to broker acknowledgement.", Buckets: prometheus.ExponentialBuckets(0.001, 2, 14)}),
	}
	a.reg.MustRegister(a.m.fixes, a.m.published, a.m.pubErrors, a.m.reconnects, a.m.latency)
	a.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "headway_agent_fix_age_seconds", Help: "Seconds since the last accepted fix."}, a.fixAge))

	o, err := mqttconn.Config{
		URLs: cfg.MQTT.URLs, ClientID: "headway-vehicle-" + cfg.Vehicle,
		Username: cfg.MQTT.Username, Password: cfg.MQTT.Password,
		CAFile: cfg.MQTT.CAFile, CertFile: cfg.MQTT.CertFile, KeyFile: cfg.MQTT.KeyFile,
		// A persistent session keeps unacknowledged QoS 1 publishes alive
		// across reconnects.
		CleanSession: false,
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
	})
	a.client = opts.Factory(o)
	return a, nil
}

// onConnect announces the vehicle. It must not block: paho calls it on its
// connection goroutine.
func (a *Agent) onConnect(mqtt.Client) {
	a.connected.Store(true)
	a.m.reconnects.Inc()
	a.log.Info("mqtt connected")
	b, _ := json.Marshal(wire.Status{V: wire.Version, State: wire.StateOnline, Time: a.opts.Now().UTC(), Version: a.opts.Version})
	a.client.Publish(a.topics.Status(a.cfg.Vehicle), 1, true, b)
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

// Run reads fixes and publishes them until ctx is done.
func (a *Agent) Run(ctx context.Context) error {
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
	go func() {
		<-connect.Done()
		if err := connect.Error(); err != nil {
			a.log.Error("mqtt connect", "err", err)
		}
	}()

	fixes := make(chan nmea.Fix, 16)
	gpsErr := make(chan error, 1)
	wg.Add(1)
	go func() {
		defer wg.Done()
		gpsErr <- a.opts.GPS.Run(ctx, fixes)
	}()

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
		}
	}
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

func (a *Agent) handleFix(ctx context.Context, wg *sync.WaitGroup, f nmea.Fix) {
	if reason := a.gate(f); reason != "" {
		a.m.fixes.WithLabelValues(reason).Inc()
		return
	}
	now := a.opts.Now()
	a.lastFix.Store(now.UnixNano())
	if a.last != nil {
		dt := f.Time.Sub(a.last.Time)
		if dt < 0 {
			// GPS time went backwards: the fix sent last was wrong (a bad
			// date at cold start, say; the hub rejects those). Throttling
			// against it would silence the bus until its time came round.
			a.log.Warn("fix time went backwards", "from", a.last.Time, "to", f.Time)
			a.m.fixes.WithLabelValues("time_backwards").Inc()
			a.last = nil
		}
	}
	if a.last != nil {
		dt := f.Time.Sub(a.last.Time)
		if dt < time.Duration(a.cfg.Publish.Interval) {
			a.m.fixes.WithLabelValues("throttled").Inc()
			return
		}
		if a.cfg.Publish.MinDistance > 0 && dt < 30*time.Second &&
			geo.Distance(geo.Point{Lat: a.last.Lat, Lon: a.last.Lon}, geo.Point{Lat: f.Lat, Lon: f.Lon}) < a.cfg.Publish.MinDistance {
			a.m.fixes.WithLabelValues("throttled").Inc()
			return
		}
	}
	a.seq++
	p := wire.Position{
		V: wire.Version, Vehicle: a.cfg.Vehicle, Seq: a.seq, Time: f.Time.UTC(),
		Lat: f.Lat, Lon: f.Lon, Mode: int(f.Mode), Trip: a.cfg.Trip,
	}
	if !math.IsNaN(f.Speed) {
		p.Speed = wire.Float(f.Speed)
	}
	if !math.IsNaN(f.Track) {
		p.Track = wire.Float(math.Mod(f.Track+360, 360))
	}
	if !math.IsNaN(f.HDOP) {
		p.HDOP = wire.Float(f.HDOP)
	}
	if f.Sats >= 0 {
		p.Sats = wire.Int(f.Sats)
	}
	b, err := p.Encode()
	if err != nil {
		a.m.fixes.WithLabelValues("invalid").Inc()
		a.log.Warn("fix not publishable", "err", err)
		return
	}
	a.m.fixes.WithLabelValues("accepted").Inc()
	a.last = &p
	start := time.Now()
	t := a.client.Publish(a.topics.Position(a.cfg.Vehicle), 1, false, b)
	wg.Add(1)
	go func() {
		defer wg.Done()
		select {
		case <-t.Done():
		case <-ctx.Done():
			return
		}
		if err := t.Error(); err != nil {
			a.m.pubErrors.Inc()
			a.log.Warn("publish failed", "seq", p.Seq, "err", err)
			return
		}
		a.m.published.Inc()
		a.m.latency.Observe(time.Since(start).Seconds())
	}()
}

// gate returns why f is not good enough to publish, or "".
func (a *Agent) gate(f nmea.Fix) string {
	switch {
	case f.Time.IsZero():
		return "no_time"
	case !f.HasPosition():
		return "no_fix"
	case f.Status == nmea.StatusSimulated:
		return "simulated" // a receiver in demo mode: never a bus's position
	case !f.Status.Measured() && f.Status != nmea.StatusUnknown:
		return "estimated" // dead reckoning or a manual position, not a measurement
	case int(f.Mode) < a.cfg.Quality.MinMode:
		return "low_mode"
	case !math.IsNaN(f.HDOP) && f.HDOP > a.cfg.Quality.MaxHDOP:
		return "high_hdop"
	}
	return ""
}

func (a *Agent) handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(a.reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		age := a.fixAge()
		ok := a.connected.Load() && age < 10
		w.Header().Set("Content-Type", "application/json")
		if !ok {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
		ageV := any(age)
		if math.IsInf(age, 1) {
			ageV = nil
		}
		_ = json.NewEncoder(w).Encode(map[string]any{
			"ok": ok, "vehicle": a.cfg.Vehicle, "mqtt_connected": a.connected.Load(),
			"fix_age_s": ageV, "version": a.opts.Version,
		})
	})
	return mux
}
