package avlfeed

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/headway-transit/headway/hub/internal/feedpoll"
	"github.com/headway-transit/headway/internal/wire"
)

// Config is one feed of vehicle positions (hub.yaml feeds.vehicles[]).
type Config struct {
	Name     string            // names it in metrics, logs and /api/feeds
	URL      string            // http(s)://... ; or File
	File     string            // a file some other process keeps current
	Format   string            // gtfs-rt (default) or siri-vm
	Every    time.Duration     // poll interval
	Timeout  time.Duration     // per request
	Headers  map[string]string // sent with every request (API keys)
	Prefix   string            // put before the feed's vehicle ids
	MaxAge   time.Duration     // fixes older than this are stale
	MaxBytes int64             // documents larger than this are refused
}

// Options configures a Source.
type Options struct {
	Feed   Config
	Topics wire.Topics
	// Enqueue hands a position message to the engine; false when its
	// queue is full (ingest.Ingest.Enqueue).
	Enqueue func(topic string, payload []byte) bool
	// Owns, when set, says whether this hub tracks vehicle (a partitioned
	// cluster: every hub polls the feed, each takes its own vehicles).
	Owns    func(vehicle string) bool
	Client  *http.Client // nil: a client with the feed's timeout
	Metrics *Metrics
	Logger  *slog.Logger
	Now     func() time.Time
}

// Health is a feed's state for operators (/api/feeds, the dashboard).
type Health struct {
	feedpoll.Status        // Kind "vehicles"
	Source          string `json:"source"` // URL without its query, or the file
	Format          string `json:"format"`
	// FeedTime is the producer's own timestamp of the last document read.
	FeedTime time.Time `json:"feed_time,omitzero"`
	// Vehicles is how many vehicles the last document read listed with a
	// usable position.
	Vehicles int `json:"vehicles"`
	// Positions counts fixes by result since the hub started.
	Positions map[string]uint64 `json:"positions"`
}

// Source polls one feed and hands its new fixes to the engine.
type Source struct {
	opts  Options
	fetch *feedpoll.Fetcher
	order *orderer
	log   *slog.Logger

	mu     sync.Mutex
	health Health
}

// Check reports what is wrong with c, naming its fields as hub.yaml does.
func (c Config) Check() error {
	if (c.URL == "") == (c.File == "") {
		return errors.New("give url or file, one of them")
	}
	if _, err := Decode(c.Format, nil); err != nil && !errors.Is(err, ErrEmpty) {
		return fmt.Errorf("format: %w", err)
	}
	if c.URL != "" {
		u, err := url.Parse(c.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("url %q: want http:// or https://", c.URL)
		}
	}
	if c.Every <= 0 || c.Timeout <= 0 || c.MaxAge <= 0 || c.MaxBytes <= 0 {
		return errors.New("every, timeout, max_age and max_bytes must be above zero")
	}
	if c.Prefix != "" && wire.ValidID("vehicle_prefix", c.Prefix) != nil {
		return fmt.Errorf("vehicle_prefix %q: %w", c.Prefix, wire.ValidID("vehicle_prefix", c.Prefix))
	}
	return nil
}

// New checks cfg and builds its source.
func New(opts Options) (*Source, error) {
	c := opts.Feed
	if err := c.Check(); err != nil {
		return nil, fmt.Errorf("feed %q: %w", c.Name, err)
	}
	if c.Format == "" {
		c.Format = FormatGTFSRT
	}
	src := c.File
	if c.URL != "" {
		u, _ := url.Parse(c.URL)
		// The query may hold an API key: not shown to operators.
		u.RawQuery, u.User = "", nil
		src = u.String()
	}
	if opts.Client == nil {
		opts.Client = &http.Client{}
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	opts.Feed = c
	s := &Source{
		opts:   opts,
		fetch:  fetcherFor(c, opts.Client),
		order:  newOrderer(c.Prefix, c.MaxAge),
		log:    opts.Logger.With("component", "feed", "feed", c.Name),
		health: Health{Status: feedpoll.Status{Name: c.Name, Kind: "vehicles"}, Source: src, Format: c.Format, Positions: map[string]uint64{}},
	}
	return s, nil
}

// fetcherFor is the fetcher of a feed of c's format.
func fetcherFor(c Config, client *http.Client) *feedpoll.Fetcher {
	f := &feedpoll.Fetcher{URL: c.URL, File: c.File, Kind: c.Format, Headers: c.Headers,
		Client: client, Timeout: c.Timeout, MaxBytes: c.MaxBytes}
	if c.Format == FormatSIRI {
		f.Accept = "application/xml, text/xml"
		f.Types = func(mt string) bool {
			return mt == "application/xml" || mt == "text/xml" || strings.HasSuffix(mt, "+xml")
		}
	} else {
		f.Accept, f.Types = feedpoll.ProtobufAccept, feedpoll.Protobuf
	}
	return f
}

// Name is the feed's name.
func (s *Source) Name() string { return s.opts.Feed.Name }

// Health returns a copy of the feed's state.
func (s *Source) Health() Health {
	s.mu.Lock()
	defer s.mu.Unlock()
	h := s.health
	h.Positions = make(map[string]uint64, len(s.health.Positions))
	for k, v := range s.health.Positions {
		h.Positions[k] = v
	}
	return h
}

// Run polls until ctx is done: every Every while the feed works, backing
// off (doubling, at most 5 minutes) while it fails. A failing feed never
// stops the hub: its buses go stale on the boards like any silent bus.
func (s *Source) Run(ctx context.Context) error {
	feedpoll.Run(ctx, s.opts.Feed.Every, s.Poll, func(err error, n int, wait time.Duration) {
		s.log.Warn("feed poll failed", "err", err, "failures", n, "next_in", wait)
	})
	return nil
}

// Poll fetches the feed once and hands on what is new. Its error says what
// was wrong with the fetch or the document; the entities it skipped are
// counted (and the first logged), not returned.
func (s *Source) Poll(ctx context.Context) error {
	now := s.opts.Now()
	body, notModified, err := s.fetch.Fetch(ctx)
	if err != nil {
		return s.fail(now, feedpoll.KindOf(err), err)
	}
	if notModified {
		s.opts.Metrics.poll(s.Name(), "not_modified")
		s.succeed(now, nil)
		return nil
	}
	snap, err := Decode(s.opts.Feed.Format, body)
	if err != nil {
		s.fetch.Forget() // a file may have been half written: read it whole next time
		return s.fail(now, "decode", err)
	}
	if snap.SkippedCount > 0 {
		s.count(Skipped, snap.SkippedCount)
		s.log.Debug("feed entities skipped", "count", snap.SkippedCount, "first", snap.Skipped[0])
	}
	s.take(snap.Fixes, now)
	s.opts.Metrics.poll(s.Name(), "ok")
	s.succeed(now, &snap)
	if !snap.Time.IsZero() && now.Sub(snap.Time) > s.opts.Feed.MaxAge {
		// Read, but the producer is stuck: say so rather than show a
		// green feed whose buses all go stale.
		err := fmt.Errorf("feed's timestamp %s is %v old, more than max_age %v: is the producer stuck?",
			snap.Time.Format(time.RFC3339), now.Sub(snap.Time).Round(time.Second), s.opts.Feed.MaxAge)
		s.mu.Lock()
		s.health.OK, s.health.Error = false, err.Error()
		s.mu.Unlock()
		s.opts.Metrics.poll(s.Name(), "stale")
		return nil
	}
	return nil
}

// take orders the snapshot's fixes by time and hands on each new one.
func (s *Source) take(fixes []Fix, now time.Time) {
	slices.SortStableFunc(fixes, func(a, b Fix) int { return a.Time.Compare(b.Time) })
	counts := map[string]int{}
	for _, f := range fixes {
		p, res := s.order.admit(f, now)
		if res == Accepted && s.opts.Owns != nil && !s.opts.Owns(p.Vehicle) {
			res = OtherHub
		}
		if res == Accepted {
			b, err := p.Encode()
			switch {
			case err != nil:
				res = Skipped
				s.log.Debug("feed fix not encodable", "vehicle", p.Vehicle, "err", err)
			case !s.opts.Enqueue(s.opts.Topics.Position(p.Vehicle), b):
				res = Dropped
			default:
				s.order.commit(p)
			}
		}
		counts[res]++
	}
	s.order.forget(now)
	for res, n := range counts {
		s.count(res, n)
	}
}

func (s *Source) count(res string, n int) {
	s.mu.Lock()
	s.health.Positions[res] += uint64(n)
	s.mu.Unlock()
	s.opts.Metrics.positions(s.Name(), res, n)
}

func (s *Source) fail(now time.Time, kind string, err error) error {
	err = fmt.Errorf("feed %q: %w", s.Name(), err)
	s.mu.Lock()
	s.health.Failed(now, err)
	s.mu.Unlock()
	s.opts.Metrics.poll(s.Name(), "error_"+kind)
	return err
}

func (s *Source) succeed(now time.Time, snap *Snapshot) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.health.Succeeded(now)
	if snap != nil {
		s.health.FeedTime = snap.Time
		s.health.Vehicles = len(snap.Fixes)
		s.opts.Metrics.state(s.Name(), snap.Time, now, len(snap.Fixes))
	} else {
		s.opts.Metrics.state(s.Name(), s.health.FeedTime, now, s.health.Vehicles)
	}
}

// Metrics are the feeds' Prometheus series, labelled by feed name.
type Metrics struct {
	polls    *prometheus.CounterVec
	fixes    *prometheus.CounterVec
	feedTime *prometheus.GaugeVec
	success  *prometheus.GaugeVec
	vehicles *prometheus.GaugeVec
}

// NewMetrics registers the feeds' series on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		polls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "headway_feed_polls_total",
			Help: "Polls of the vehicle feeds by result: ok, not_modified, stale (read, but the producer's timestamp is older than max_age), error_<kind> (network, timeout, http, content_type, too_large, file, decode).",
		}, []string{"feed", "result"}),
		fixes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "headway_feed_positions_total",
			Help: "Vehicle positions read from the feeds by result: accepted, repeat, backwards, stale, future, bad_id, skipped, other_hub, queue_full.",
		}, []string{"feed", "result"}),
		feedTime: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "headway_feed_timestamp_seconds",
			Help: "The producer's timestamp of the last document read from the feed (unix seconds); time() minus it is the feed's age.",
		}, []string{"feed"}),
		success: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "headway_feed_last_success_timestamp_seconds",
			Help: "When the hub last polled the feed successfully (unix seconds).",
		}, []string{"feed"}),
		vehicles: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "headway_feed_vehicles",
			Help: "Vehicles with a usable position in the last document read from the feed.",
		}, []string{"feed"}),
	}
	if reg != nil {
		reg.MustRegister(m.polls, m.fixes, m.feedTime, m.success, m.vehicles)
	}
	return m
}

func (m *Metrics) poll(feed, result string) {
	if m != nil {
		m.polls.WithLabelValues(feed, result).Inc()
	}
}

func (m *Metrics) positions(feed, result string, n int) {
	if m != nil {
		m.fixes.WithLabelValues(feed, result).Add(float64(n))
	}
}

func (m *Metrics) state(feed string, feedTime, now time.Time, vehicles int) {
	if m == nil {
		return
	}
	if !feedTime.IsZero() {
		m.feedTime.WithLabelValues(feed).Set(float64(feedTime.Unix()))
	}
	m.success.WithLabelValues(feed).Set(float64(now.Unix()))
	m.vehicles.WithLabelValues(feed).Set(float64(vehicles))
}
