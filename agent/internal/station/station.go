package station

import (
	"context"
	"errors"
	"fmt"
	"github.com/prometheus/client_golang/prometheus"
	"log/slog"
	"net"
	"net/http"
	"reflect"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/headway-transit/headway/agent/internal/signcache"
	"github.com/headway-transit/headway/internal/fleetwant"
	"github.com/headway-transit/headway/internal/wire"
)

// Options are a Station's dependencies.
type Options struct {
	Logger  *slog.Logger     // default: discard
	Now     func() time.Time // the clock that decides minutes and staleness; default time.Now
	Version string           // reported in heartbeats; at most wire.MaxIDLen bytes
}

// Station is the station role of the edge agent: it keeps a sign's boards
// fresh from a hub over WebSocket, caches them on disk, and serves the sign
// page. Create it with New and run it once with Run.
type Station struct {
	cfgMu   sync.RWMutex // guards cfg: Reload changes some of it
	cfg     Config
	reload  chan struct{} // Reload asks the hub client to reconnect
	zones   zones         // decide the zone the sign shows times in
	logger  *slog.Logger
	now     func() time.Time
	version string

	state   *state
	metrics *metrics
	handler *handler
	cache   *signcache.Cache // set in Run, before ready
	want    *fleetwant.Want  // the version the hub's operators want signs on

	ready    chan struct{}
	stopping chan struct{} // closed when Run begins shutting down, ends SSE streams
	addr     net.Addr      // set before ready is closed
	started  time.Time
	running  atomic.Bool

	sseClients atomic.Int32

	// Tunable by tests in this package.
	heartbeatEvery time.Duration
	pingEvery      time.Duration
	readTimeout    time.Duration
	ssePeriod      time.Duration
}

// New checks cfg and returns a Station ready to Run.
func New(cfg Config, opts Options) (*Station, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("station config: %w", err)
	}
	if len(opts.Version) > wire.MaxIDLen {
		return nil, fmt.Errorf("version %q: longer than %d bytes", opts.Version, wire.MaxIDLen)
	}
	loc, err := cfg.location()
	if err != nil {
		return nil, fmt.Errorf("station config: %w", err)
	}
	zs := zones{machine: machineZone()}
	if loc != nil {
		zs.config = zone{name: cfg.Timezone, loc: loc}
	}
	cfg.Stops = append([]string(nil), cfg.Stops...)
	cfg.Hub = append([]string(nil), cfg.Hub...)
	s := &Station{
		cfg:            cfg,
		zones:          zs,
		logger:         opts.Logger,
		now:            opts.Now,
		version:        opts.Version,
		state:          newState(),
		reload:         make(chan struct{}, 1),
		ready:          make(chan struct{}),
		stopping:       make(chan struct{}),
		heartbeatEvery: defaultHeartbeatEvery,
		pingEvery:      defaultPingEvery,
		readTimeout:    defaultReadTimeout,
		ssePeriod:      defaultSSEPeriod,
	}
	if s.logger == nil {
		s.logger = slog.New(slog.DiscardHandler)
	}
	s.logger = s.logger.With("role", "station", "display", cfg.Display)
	if s.now == nil {
		s.now = time.Now
	}
	s.metrics = newMetrics(func() float64 {
		_, last := s.state.status()
		return cacheAgeSeconds(s.now(), last)
	})
	s.want = fleetwant.New(opts.Version, "headway-station", "headway_station_update_wanted", s.logger)
	if err := s.Register(s.want.Collector()); err != nil {
		return nil, err
	}
	return s, nil
}

// Probe returns once the sign's state and its cache answer: the systemd
// watchdog's question (a deadlock on the state or a cache that does not
// read stops the answers, and systemd restarts the agent).
func (s *Station) Probe(ctx context.Context) error {
	select {
	case <-s.ready:
	default:
		return errors.New("station: still starting")
	}
	_ = s.View()
	if _, err := s.cache.LastUpdate(); err != nil {
		return fmt.Errorf("station: cache: %w", err)
	}
	return ctx.Err()
}

// View returns what the sign shows now.
func (s *Station) View() View {
	cfg := s.config()
	v, _ := s.state.view(&cfg, s.zones, s.now())
	return v
}

// viewNow is the view at now, with the configuration in force.
func (s *Station) viewNow(now time.Time) (View, <-chan struct{}) {
	cfg := s.config()
	return s.state.view(&cfg, s.zones, now)
}

// config is the configuration in force.
func (s *Station) config() Config {
	s.cfgMu.RLock()
	defer s.cfgMu.RUnlock()
	return s.cfg
}

// Reload applies what of c can change while the sign runs: its stops,
// rows, hubs, token and TLS files (the hub connection is made again at
// once), clock, stale_after and fallback_after. It returns the fields it
// changed, and those that differ but need a restart (display, cache,
// listen, timezone, outputs, power_fail).
func (s *Station) Reload(c Config) (applied, restart []string) {
	s.cfgMu.Lock()
	old := s.cfg
	next := old
	set := func(name string, changed bool, apply func()) {
		if changed {
			apply()
			applied = append(applied, name)
		}
	}
	set("stops", !slices.Equal(old.Stops, c.Stops), func() { next.Stops = slices.Clone(c.Stops) })
	set("rows", old.Rows != c.Rows, func() { next.Rows = c.Rows })
	set("hub", !slices.Equal(old.Hub, c.Hub), func() { next.Hub = slices.Clone(c.Hub) })
	set("token", old.Token != c.Token, func() { next.Token = c.Token })
	set("tls", old.TLS != c.TLS, func() { next.TLS = c.TLS })
	set("clock", old.Clock != c.Clock, func() { next.Clock = c.Clock })
	set("stale_after", old.StaleAfter != c.StaleAfter, func() { next.StaleAfter = c.StaleAfter })
	set("fallback_after", old.FallbackAfter != c.FallbackAfter, func() { next.FallbackAfter = c.FallbackAfter })
	for _, f := range []struct {
		name    string
		changed bool
	}{
		{"display", old.Display != c.Display},
		{"cache", old.Cache != c.Cache},
		{"listen", old.Listen != c.Listen},
		{"timezone", old.Timezone != c.Timezone},
		{"outputs", !reflect.DeepEqual(old.Outputs, c.Outputs)},
		{"power_fail", old.PowerFail != c.PowerFail},
	} {
		if f.changed {
			restart = append(restart, f.name)
		}
	}
	s.cfg = next
	s.cfgMu.Unlock()
	if slices.ContainsFunc(applied, func(f string) bool { return f == "stops" || f == "hub" || f == "token" || f == "tls" }) {
		select {
		case s.reload <- struct{}{}:
		default:
		}
	}
	s.state.touch()
	return applied, restart
}

// Changed returns a channel closed on the next change of the sign's data
// (not on the clock moving): a terminal board redraws on it.
func (s *Station) Changed() <-chan struct{} {
	cfg := s.config()
	_, ch := s.state.view(&cfg, s.zones, s.now())
	return ch
}

// Location is the time zone the sign shows times in now: the config's,
// else the agency's as the hub reported it, else the machine's.
func (s *Station) Location() *time.Location { return s.state.zone(s.zones).loc }

// Ready is closed once Run is serving HTTP; Addr is valid from then on. If
// Run fails before that, Ready is never closed: wait on Run's result too.
func (s *Station) Ready() <-chan struct{} { return s.ready }

// Addr is the address the HTTP server listens on (useful with port 0). It
// is nil until Ready is closed.
func (s *Station) Addr() net.Addr {
	select {
	case <-s.ready:
		return s.addr
	default:
		return nil
	}
}

// Run opens the cache, serves the sign's HTTP endpoints and keeps a hub
// connection until ctx is done; then it closes everything, waits for its
// goroutines and returns nil. It returns an error if it cannot start.
// Run may be called once.
func (s *Station) Run(ctx context.Context) error {
	if !s.running.CompareAndSwap(false, true) {
		return errors.New("station: Run called twice")
	}
	s.started = s.now()

	cache, err := signcache.Open(s.config().Cache, s.logger)
	if err != nil {
		return fmt.Errorf("station: %w", err)
	}
	defer func() {
		if err := cache.Close(); err != nil {
			s.logger.Error("closing cache", "error", err)
		}
	}()
	// Cached data goes on the sign before the first dial, so a sign
	// restarted during a hub outage shows its last boards at once.
	if err := s.loadCache(cache); err != nil {
		return fmt.Errorf("station: %w", err)
	}
	s.cache = cache
	s.handler = &handler{
		stops:      s.config().Stops,
		configZone: s.config().Timezone,
		store:      cache,
		state:      s.state,
		now:        s.now,
		logger:     s.logger,
		metrics:    s.metrics,
		want:       s.want,
	}

	ln, err := net.Listen("tcp", s.config().Listen)
	if err != nil {
		return fmt.Errorf("station: %w (is another agent or service on %s? set listen to a free host:port)", err, s.config().Listen)
	}
	srv := &http.Server{
		Handler:           s.routes(),
		ReadHeaderTimeout: 5 * time.Second,
		ErrorLog:          slog.NewLogLogger(s.logger.Handler(), slog.LevelWarn),
	}
	s.addr = ln.Addr()
	close(s.ready)
	s.logger.Info("sign page serving", "url", "http://"+s.addr.String()+"/")

	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	var serveErr error
	wg.Go(func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			serveErr = err
			cancel()
		}
	})
	wg.Go(func() { s.runHub(rctx) })

	<-rctx.Done()
	close(s.stopping)
	sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer scancel()
	if err := srv.Shutdown(sctx); err != nil {
		srv.Close()
	}
	wg.Wait()
	if serveErr != nil {
		return fmt.Errorf("station: http: %w", serveErr)
	}
	return nil
}

// Register adds collectors to the station's /metrics (its outputs').
func (s *Station) Register(cs ...prometheus.Collector) error {
	for _, c := range cs {
		if err := s.metrics.own.Register(c); err != nil {
			return err
		}
	}
	return nil
}

// Snapshot loads s's cache without running s and returns the view: what
// the sign, restarted now with no hub, would show (agent station -render).
// It fails with signcache.ErrLocked while an agent runs on the cache.
func (s *Station) Snapshot() (View, error) {
	c, err := signcache.Open(s.config().Cache, s.logger)
	if err != nil {
		return View{}, fmt.Errorf("station: %w", err)
	}
	defer c.Close()
	if err := s.loadCache(c); err != nil {
		return View{}, fmt.Errorf("station: %w", err)
	}
	return s.View(), nil
}

func (s *Station) loadCache(c *signcache.Cache) error {
	boards, err := c.Boards()
	if err != nil {
		return err
	}
	tts, err := c.Timetables()
	if err != nil {
		return err
	}
	als, err := c.Alerts()
	if err != nil {
		return err
	}
	last, err := c.LastUpdate()
	if err != nil {
		return err
	}
	name, err := c.Zone()
	if err != nil {
		return err
	}
	var agency zone
	if name != "" {
		// The file is outside input too: a name that does not load now
		// (edited, or a zone database without it) leaves the sign on the
		// config's or the machine's zone until the hub names one again.
		if agency, err = agencyZone(name); err != nil {
			s.logger.Error("ignoring the cached agency time zone", "error", err)
		}
	}
	s.state.load(boards, tts, als, last, agency)
	s.logger.Info("loaded sign cache", "boards", len(boards), "timetables", len(tts), "alerts", len(als), "last_update", last,
		"agency_timezone", agency.name, "timezone", s.state.zone(s.zones).name)
	return nil
}
