package push

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/headway-transit/headway/hub/internal/ratelimit"
	"github.com/headway-transit/headway/internal/wire"
)

// Source supplies the current board and timetable of a stop as encoded
// JSON messages. It is called from connection goroutines.
type Source interface {
	KnownStop(stop string) bool
	Board(stop string) []byte
	Timetable(stop string) []byte
}

// Options configures a Server.
type Options struct {
	Source Source
	// Alerts, when set, is stop's alerts message, sent on subscribe after
	// the board and timetable (PublishAlerts sends the changes).
	Alerts func(stop string) []byte
	// Fleet, when set, is the fleet message (the versions operators want
	// the signs to run), sent on subscribe; PublishFleet sends changes.
	Fleet          func() []byte
	AllowedOrigins []string
	Logger         *slog.Logger
	Registerer     prometheus.Registerer
	Now            func() time.Time
	// WriteTimeout bounds one write to a sign; a sign that does not take a
	// message within it is dropped. PingEvery is the keep-alive period.
	WriteTimeout time.Duration
	PingEvery    time.Duration
	// TimetableEvery is how often timetables are re-sent (at most an hour).
	TimetableEvery time.Duration
	// SubscribeTimeout is how long a connection may stay open without
	// subscribing: a connection flood of idle sockets is shed by it.
	SubscribeTimeout time.Duration
	// Auth, when set, checks a sign's token (the upgrade request's
	// Authorization: Bearer) before anything else: the display it belongs
	// to and the stops it may show, or why it is refused.
	Auth func(token string) (display string, stops []string, err error)
	// MaxConns caps the open sign connections (default DefaultMaxConns):
	// past it a new one is refused with 503 and Retry-After, so a flood
	// cannot take the hub's memory or file descriptors from the signs
	// already connected.
	MaxConns int
}

// DefaultMaxConns is twice the 10,000 signs measured on one hub (about
// 31 KiB each, BENCHMARKS.md).
const DefaultMaxConns = 20000

// retryAfter is what a refused sign is told to wait, in seconds. The agent
// backs off on its own; this is for other clients.
const retryAfter = "30"

// Defaults for the connection timings. A sign must answer within
// readTimeout; pings every 25 s keep it well inside that.
const (
	defaultPingEvery    = 25 * time.Second
	readTimeout         = 60 * time.Second
	defaultWriteTimeout = 10 * time.Second
	// A sign subscribes as its first message; 10 s is ample on any link.
	defaultSubscribeTimeout = 10 * time.Second
)

// Server is the /ws endpoint.
type Server struct {
	opts     Options
	log      *slog.Logger
	upgrader websocket.Upgrader

	mu       sync.Mutex
	open     int // connections being served, upgraded or not yet
	conns    map[*conn]struct{}
	byStop   map[string]map[*conn]struct{}
	displays map[string]*Display
	closed   bool
	// deniedLog: a refusal from one address is logged at most once a minute.
	deniedLog ratelimit.LogEvery
	wg        sync.WaitGroup

	m metrics
	// fanned, when set (tests, benchmarks), hears each publish's fan-out
	// time as headway_ws_fanout_seconds does.
	fanned func(kind string, signs int, took time.Duration)
}

// Display is a sign the hub has heard from.
type Display struct {
	ID            string    `json:"display"`
	Stops         []string  `json:"stops"`
	Remote        string    `json:"remote"`
	Connected     bool      `json:"connected"`
	ConnectedAt   time.Time `json:"connected_at"`
	LastHeartbeat time.Time `json:"last_heartbeat,omitzero"`
	CacheAgeS     float64   `json:"cache_age_s"`
	Version       string    `json:"version"`
}

type metrics struct {
	conns     prometheus.Gauge
	sent      prometheus.Counter
	coalesced prometheus.Counter
	dropped   prometheus.Counter
	badFrames *prometheus.CounterVec
	refused   prometheus.Counter
	denied    *prometheus.CounterVec
	fanout    *prometheus.HistogramVec
}

// New builds a Server.
func New(opts Options) *Server {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.WriteTimeout <= 0 {
		opts.WriteTimeout = defaultWriteTimeout
	}
	if opts.SubscribeTimeout <= 0 {
		opts.SubscribeTimeout = defaultSubscribeTimeout
	}
	if opts.PingEvery <= 0 {
		opts.PingEvery = defaultPingEvery
	}
	if opts.TimetableEvery <= 0 || opts.TimetableEvery > time.Hour {
		opts.TimetableEvery = time.Hour
	}
	if opts.MaxConns <= 0 {
		opts.MaxConns = DefaultMaxConns
	}
	s := &Server{
		opts:     opts,
		log:      opts.Logger.With("component", "push"),
		conns:    map[*conn]struct{}{},
		byStop:   map[string]map[*conn]struct{}{},
		displays: map[string]*Display{},

		deniedLog: ratelimit.LogEvery{Every: time.Minute},
	}
	s.upgrader = websocket.Upgrader{
		ReadBufferSize:  512, // a subscribe or a heartbeat; longer messages are read in pieces
		WriteBufferSize: 4096,
		// Signs idle between boards: a pooled write buffer is held only
		// while a message is written, 4 kB less per connection.
		WriteBufferPool: &sync.Pool{},
		CheckOrigin:     s.checkOrigin,
	}
	s.m = metrics{
		conns:     prometheus.NewGauge(prometheus.GaugeOpts{Name: "headway_ws_connections", Help: "Open sign WebSocket connections."}),
		sent:      prometheus.NewCounter(prometheus.CounterOpts{Name: "headway_ws_messages_sent_total", Help: "Messages queued to signs."}),
		coalesced: prometheus.NewCounter(prometheus.CounterOpts{Name: "headway_ws_messages_coalesced_total", Help: "Messages replaced by a newer one of the same stop before they were written."}),
		dropped:   prometheus.NewCounter(prometheus.CounterOpts{Name: "headway_ws_slow_clients_dropped_total", Help: "Sign connections dropped because a write timed out."}),
		badFrames: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "headway_ws_bad_messages_total", Help: "Messages from signs rejected, by reason."}, []string{"reason"}),
		refused:   prometheus.NewCounter(prometheus.CounterOpts{Name: "headway_ws_refused_total", Help: "Sign connections refused because MaxConns were open."}),
		denied:    prometheus.NewCounterVec(prometheus.CounterOpts{Name: "headway_ws_denied_total", Help: "Sign connections and subscriptions refused by the sign register, by reason."}, []string{"reason"}),
		fanout: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "headway_ws_fanout_seconds",
			Help:    "Time from a message published to a stop (board, timetable, alerts) until every sign subscribed to it has been written it, sent a newer one instead, or gone, by kind.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 14)}, []string{"kind"}),
	}
	if opts.Registerer != nil {
		opts.Registerer.MustRegister(s.m.conns, s.m.sent, s.m.coalesced, s.m.dropped, s.m.badFrames, s.m.refused, s.m.denied, s.m.fanout)
	}
	return s
}

// checkOrigin lets in clients that send no Origin (sign agents, tools),
// pages served by the hub itself, and the configured origins.
func (s *Server) checkOrigin(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	u, err := url.Parse(origin)
	if err != nil {
		return false
	}
	if strings.EqualFold(u.Host, r.Host) {
		return true
	}
	for _, o := range s.opts.AllowedOrigins {
		if strings.EqualFold(strings.TrimSuffix(o, "/"), origin) {
			return true
		}
	}
	return false
}

// ServeHTTP upgrades the request and serves the connection until it closes.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		http.Error(w, "shutting down", http.StatusServiceUnavailable)
		return
	}
	if s.open >= s.opts.MaxConns {
		s.mu.Unlock()
		s.m.refused.Inc()
		w.Header().Set("Retry-After", retryAfter)
		http.Error(w, fmt.Sprintf("too many sign connections (%d)", s.opts.MaxConns), http.StatusServiceUnavailable)
		return
	}
	s.open++
	s.wg.Add(1)
	s.mu.Unlock()
	ws, err := s.upgrader.Upgrade(w, r, nil)
	if err != nil {
		s.m.badFrames.WithLabelValues("upgrade").Inc()
		s.closed1()
		return // the upgrader has answered with an HTTP error
	}
	c := newConn(s, ws, r.RemoteAddr)
	if s.opts.Auth != nil {
		display, stops, err := s.opts.Auth(bearer(r))
		if err != nil {
			s.deny(c, "token", err)
			c.fail(wire.CodeUnauthorized, err.Error(), wire.CloseUnauthorized)
		} else {
			c.grant = &grant{display: display, stops: stops}
		}
	}
	s.mu.Lock()
	s.conns[c] = struct{}{}
	s.mu.Unlock()
	s.m.conns.Inc()
	// The connection is read on a goroutine of its own, and this one, with
	// net/http's request state and buffers, ends: an idle sign costs its
	// reader's small stack and little else.
	go s.serve(c)
}

// serve reads c until it closes, then forgets it.
func (s *Server) serve(c *conn) {
	defer s.closed1()
	// Not kept: fired once, the timer is garbage.
	time.AfterFunc(s.opts.SubscribeTimeout, func() {
		if !c.subscribed.Load() && !c.isClosing() {
			s.m.badFrames.WithLabelValues("no_subscribe").Inc()
			c.fail(wire.CodeBadMessage, fmt.Sprintf("no subscribe within %v", s.opts.SubscribeTimeout), websocket.ClosePolicyViolation)
		}
	})
	c.readLoop()
	c.close()
	<-c.done
	s.remove(c)
	s.m.conns.Dec()
}

// closed1 counts a connection served to its end.
func (s *Server) closed1() {
	s.mu.Lock()
	s.open--
	s.mu.Unlock()
	s.wg.Done()
}

// bearer is the request's Authorization: Bearer token.
func bearer(r *http.Request) string {
	h := r.Header.Get("Authorization")
	if len(h) > 7 && strings.EqualFold(h[:7], "Bearer ") {
		return strings.TrimSpace(h[7:])
	}
	return ""
}

// deny counts a refusal and logs it, at most once a minute per address.
func (s *Server) deny(c *conn, what string, err error) {
	reason := what
	switch {
	case strings.HasPrefix(err.Error(), "no token"):
		reason = "no_token"
	case strings.HasPrefix(err.Error(), "unknown token"):
		reason = "unknown_token"
	case strings.HasPrefix(err.Error(), "token revoked"):
		reason = "revoked"
	}
	s.m.denied.WithLabelValues(reason).Inc()
	host, _, herr := net.SplitHostPort(c.remote)
	if herr != nil {
		host = c.remote
	}
	if s.deniedLog.Due(host, time.Now()) {
		s.log.Warn("sign refused (logged at most once a minute per address)", "remote", host, "reason", reason, "err", err)
	}
}

// Revoked closes the connections of displays whose tokens were revoked or
// replaced.
func (s *Server) Revoked(displays []string) {
	s.mu.Lock()
	var out []*conn
	for c := range s.conns {
		if c.grant != nil && slices.Contains(displays, c.grant.display) {
			out = append(out, c)
		}
	}
	s.mu.Unlock()
	for _, c := range out {
		s.m.denied.WithLabelValues("revoked").Inc()
		c.fail(wire.CodeUnauthorized, fmt.Sprintf("display %q's token was revoked", c.grant.display), wire.CloseUnauthorized)
	}
}

func (s *Server) remove(c *conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.conns, c)
	for _, st := range c.stops {
		if m := s.byStop[st]; m != nil {
			delete(m, c)
			if len(m) == 0 {
				delete(s.byStop, st)
			}
		}
	}
	if c.display != "" {
		if d := s.displays[c.display]; d != nil && d.Remote == c.remote {
			d.Connected = false
		}
	}
}

// subscribe replaces c's stops.
func (s *Server) subscribe(c *conn, sub wire.Subscribe) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, st := range c.stops {
		delete(s.byStop[st], c)
	}
	c.stops = dedupe(sub.Stops)
	c.display = sub.Display
	for _, st := range c.stops {
		m := s.byStop[st]
		if m == nil {
			m = map[*conn]struct{}{}
			s.byStop[st] = m
		}
		m[c] = struct{}{}
	}
	d := s.displays[sub.Display]
	if d == nil {
		d = &Display{ID: sub.Display}
		s.displays[sub.Display] = d
	}
	d.Stops, d.Remote, d.Connected, d.ConnectedAt = c.stops, c.remote, true, s.opts.Now().UTC()
}

func (s *Server) heartbeat(c *conn, h wire.Heartbeat) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.displays[h.Display]
	if d == nil {
		return // only a subscribe registers a display
	}
	d.LastHeartbeat, d.CacheAgeS, d.Version = s.opts.Now().UTC(), h.CacheAgeS, h.Version
}

// displayMemory is how long a disconnected sign stays listed.
const displayMemory = 24 * time.Hour

// forgetDisplays drops disconnected displays not heard from since before.
func (s *Server) forgetDisplays(before time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, d := range s.displays {
		last := d.ConnectedAt
		if d.LastHeartbeat.After(last) {
			last = d.LastHeartbeat
		}
		if !d.Connected && last.Before(before) {
			delete(s.displays, id)
		}
	}
}

// Displays lists the signs the hub knows, sorted by id.
func (s *Server) Displays() []Display {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Display, 0, len(s.displays))
	for _, d := range s.displays {
		out = append(out, *d)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Subscribed reports whether any sign is subscribed to stop.
func (s *Server) Subscribed(stop string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.byStop[stop]) > 0
}

// SubscribedStops lists the stops some sign is subscribed to.
func (s *Server) SubscribedStops() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, 0, len(s.byStop))
	for st := range s.byStop {
		out = append(out, st)
	}
	sort.Strings(out)
	return out
}

// Publish sends stop's encoded board to every sign subscribed to it.
func (s *Server) Publish(stop string, msg []byte) { s.publish(msgKey{stop, wire.TypeBoard}, msg) }

// PublishTimetable sends stop's encoded timetable to its signs.
func (s *Server) PublishTimetable(stop string, msg []byte) {
	s.publish(msgKey{stop, wire.TypeTimetable}, msg)
}

// PublishFleet sends the fleet message to every subscribed sign.
func (s *Server) PublishFleet(msg []byte) {
	s.mu.Lock()
	targets := make([]*conn, 0, len(s.conns))
	for c := range s.conns {
		if c.subscribed.Load() {
			targets = append(targets, c)
		}
	}
	s.mu.Unlock()
	s.sendAll(targets, msgKey{kind: wire.TypeFleet}, msg)
}

// PublishAlerts sends stop's encoded alerts message to its signs.
func (s *Server) PublishAlerts(stop string, msg []byte) {
	s.publish(msgKey{stop, wire.TypeAlerts}, msg)
}

func (s *Server) publish(k msgKey, msg []byte) {
	stop := k.stop
	s.mu.Lock()
	targets := make([]*conn, 0, len(s.byStop[stop]))
	for c := range s.byStop[stop] {
		targets = append(targets, c)
	}
	s.mu.Unlock()
	s.sendAll(targets, k, msg)
}

// sendAll queues msg for every target, framed once for all of them.
func (s *Server) sendAll(targets []*conn, k msgKey, msg []byte) {
	if len(targets) == 0 {
		return
	}
	pm, err := websocket.NewPreparedMessage(websocket.TextMessage, msg)
	if err != nil {
		s.log.Error("message not framed", "kind", k.kind, "stop", k.stop, "err", err)
		return
	}
	f := &fanout{s: s, kind: k.kind, n: len(targets), start: time.Now()}
	f.left.Store(int64(len(targets)))
	for _, c := range targets {
		c.sendPrepared(k, pm, f)
	}
}

// Run re-sends every subscribed stop's timetable periodically and pings every
// sign every PingEvery (keep-alive; a dead one fails the write), until ctx is
// done; then it closes every connection and waits for them.
func (s *Server) Run(ctx context.Context) error {
	t := time.NewTicker(s.opts.TimetableEvery)
	defer t.Stop()
	ping := time.NewTicker(s.opts.PingEvery)
	defer ping.Stop()
	for {
		select {
		case <-ctx.Done():
			s.Close()
			return nil
		case <-ping.C:
			s.mu.Lock()
			conns := make([]*conn, 0, len(s.conns))
			for c := range s.conns {
				conns = append(conns, c)
			}
			s.mu.Unlock()
			for _, c := range conns {
				c.keepAlive()
			}
		case <-t.C:
			s.forgetDisplays(s.opts.Now().Add(-displayMemory))
			for _, st := range s.SubscribedStops() {
				if tt := s.opts.Source.Timetable(st); tt != nil {
					s.PublishTimetable(st, tt)
				}
			}
		}
	}
}

// Close closes every connection and waits for their goroutines.
func (s *Server) Close() {
	s.mu.Lock()
	s.closed = true
	conns := make([]*conn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	for _, c := range conns {
		c.closeWith(websocket.CloseGoingAway, "hub shutting down")
	}
	s.wg.Wait()
}

func dedupe(in []string) []string {
	seen := make(map[string]bool, len(in))
	out := make([]string, 0, len(in))
	for _, s := range in {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}
