// Package share carries the arrival predictions each hub of a cluster makes
// for its own vehicles to every other hub, so that a sign connected to any
// hub shows every bus (engine/share.go merges them into the boards).
//
// The runs live in a JetStream key-value bucket, one key per trip run,
// replicated across the cluster: a hub puts the rows its vehicles predict
// (at most once per Every per run, the latest winning) and watches the
// whole bucket, so a hub that joins gets every run at once. (What the
// buses teach the arrival model goes out on a plain subject, Observe.)
// Entries of a
// hub that went offline are dropped from the engine (its vehicles move to
// the others, which put their runs anew), and entries older than MaxAge
// are not taken.
package share

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/headway-transit/headway/hub/internal/kvbucket"

	"github.com/headway-transit/headway/hub/internal/boards"
	"github.com/headway-transit/headway/hub/internal/engine"
)

// Bucket is the key-value bucket of the shared runs.
const Bucket = "HEADWAY_RUNS"

// Engine is where other hubs' runs and observations go.
type Engine interface {
	Remote(engine.SharedRun)
	DropNode(node string)
	RemoteObservation(engine.Observation)
}

// observations is the subject hubs tell each other what their buses taught
// their arrival models on (core NATS: a hub that is down misses some, and
// its model still has what it learned before).
const observations = "headway.cluster.observations"

// observation is a message on it.
type observation struct {
	Node string             `json:"node"`
	Obs  engine.Observation `json:"obs"`
}

// Options configures a Share.
type Options struct {
	NC       *nats.Conn // for observations
	JS       jetstream.JetStream
	Node     string // this hub
	Replicas int
	Engine   Engine
	// Online lists the hubs online, this one included.
	Online func() []string
	// Every is the least time between two puts of one run (default 1 s).
	Every time.Duration
	// MaxAge: older entries are not taken (a hub's that died long ago);
	// default 5 min.
	MaxAge time.Duration
	Logger *slog.Logger
	Now    func() time.Time
}

// entry is a bucket value.
type entry struct {
	Node string                  `json:"node"`
	At   time.Time               `json:"at"`
	Rows map[int]boards.Realtime `json:"rows"`
}

// Share puts this hub's runs and hands the others' to the engine.
type Share struct {
	opts Options
	log  *slog.Logger

	mu      sync.Mutex
	pending map[boards.TripKey]map[int]boards.Realtime
	ready   bool
	failed  uint64
}

// New checks opts; Run sets the bucket up and shares.
func New(opts Options) (*Share, error) {
	if opts.NC == nil || opts.JS == nil || opts.Engine == nil || opts.Online == nil || opts.Node == "" {
		return nil, errors.New("share: NC, JS, Engine, Online and Node are required")
	}
	if opts.Every <= 0 {
		opts.Every = time.Second
	}
	if opts.MaxAge <= 0 {
		opts.MaxAge = 5 * time.Minute
	}
	if opts.Replicas < 1 {
		opts.Replicas = 1
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Share{opts: opts, log: opts.Logger.With("component", "share"),
		pending: map[boards.TripKey]map[int]boards.Realtime{}}, nil
}

// Put queues the rows this hub predicts for k (nil: no more); it never
// blocks (engine.Options.Share).
func (s *Share) Put(k boards.TripKey, rows map[int]boards.Realtime) {
	s.mu.Lock()
	s.pending[k] = rows
	s.mu.Unlock()
}

// Key is the bucket key of a trip run: trip ids may hold any character,
// keys only a few.
func Key(k boards.TripKey) string {
	return "r." + base64.RawURLEncoding.EncodeToString([]byte(k.Trip)) + "." + strconv.FormatInt(k.DayStart, 10)
}

// ParseKey is Key's inverse.
func ParseKey(s string) (boards.TripKey, error) {
	parts := strings.Split(s, ".")
	if len(parts) != 3 || parts[0] != "r" {
		return boards.TripKey{}, fmt.Errorf("share: key %q is not r.TRIP.DAY", s)
	}
	trip, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return boards.TripKey{}, fmt.Errorf("share: key %q: trip: %w", s, err)
	}
	day, err := strconv.ParseInt(parts[2], 10, 64)
	if err != nil {
		return boards.TripKey{}, fmt.Errorf("share: key %q: day: %w", s, err)
	}
	return boards.TripKey{Trip: string(trip), DayStart: day}, nil
}

// Ready reports whether the bucket is set up and watched.
func (s *Share) Ready() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ready
}

// Run sets the bucket up (retrying while the cluster elects its leader),
// then puts and watches until ctx is done.
func (s *Share) Run(ctx context.Context) error {
	kv := kvbucket.Open(ctx, s.opts.JS, jetstream.KeyValueConfig{
		Bucket: Bucket, History: 1, TTL: time.Hour, Storage: jetstream.MemoryStorage, Replicas: s.opts.Replicas,
	}, "shared runs bucket", s.log)
	if kv == nil {
		return nil
	}
	w, err := kv.WatchAll(ctx)
	if err != nil {
		return fmt.Errorf("share: watch: %w", err)
	}
	defer w.Stop()
	sub, err := s.opts.NC.Subscribe(observations, s.takeObservation)
	if err != nil {
		return fmt.Errorf("share: observations: %w", err)
	}
	defer sub.Unsubscribe()
	s.mu.Lock()
	s.ready = true
	s.mu.Unlock()

	tick := time.NewTicker(s.opts.Every)
	defer tick.Stop()
	seen := map[string]bool{} // hubs whose runs the engine has
	for {
		select {
		case <-ctx.Done():
			return nil
		case e, ok := <-w.Updates():
			if !ok {
				return errors.New("share: watch ended")
			}
			if e != nil {
				if node := s.take(e); node != "" {
					seen[node] = true
				}
			}
		case <-tick.C:
			s.flush(ctx)
			online := map[string]bool{}
			for _, n := range s.opts.Online() {
				online[n] = true
			}
			for n := range seen {
				if !online[n] {
					s.log.Info("hub offline: its runs dropped until its vehicles are predicted again", "node", n)
					s.opts.Engine.DropNode(n)
					delete(seen, n)
				}
			}
		}
	}
}

// Observe tells the other hubs what one of this hub's vehicles taught the
// arrival model (engine.Options.ShareObservation); it never blocks.
func (s *Share) Observe(o engine.Observation) {
	b, err := json.Marshal(observation{Node: s.opts.Node, Obs: o})
	if err == nil {
		err = s.opts.NC.Publish(observations, b)
	}
	if err != nil {
		s.mu.Lock()
		s.failed++
		s.mu.Unlock()
	}
}

func (s *Share) takeObservation(m *nats.Msg) {
	var o observation
	if err := json.Unmarshal(m.Data, &o); err != nil {
		s.log.Warn("observation ignored", "err", err)
		return
	}
	if o.Node == s.opts.Node {
		return
	}
	s.opts.Engine.RemoteObservation(o.Obs)
}

// take hands another hub's entry to the engine, returning that hub.
func (s *Share) take(e jetstream.KeyValueEntry) string {
	k, err := ParseKey(e.Key())
	if err != nil {
		s.log.Warn("shared run ignored", "err", err)
		return ""
	}
	if e.Operation() != jetstream.KeyValuePut {
		s.opts.Engine.Remote(engine.SharedRun{Key: k})
		return ""
	}
	var v entry
	if err := json.Unmarshal(e.Value(), &v); err != nil {
		s.log.Warn("shared run ignored", "key", e.Key(), "err", err)
		return ""
	}
	if v.Node == s.opts.Node || v.Node == "" || s.opts.Now().Sub(v.At) > s.opts.MaxAge {
		return ""
	}
	s.opts.Engine.Remote(engine.SharedRun{Node: v.Node, Key: k, Rows: v.Rows})
	return v.Node
}

// flush puts the runs queued since the last one.
func (s *Share) flush(ctx context.Context) {
	s.mu.Lock()
	if len(s.pending) == 0 {
		s.mu.Unlock()
		return
	}
	batch := s.pending
	s.pending = map[boards.TripKey]map[int]boards.Realtime{}
	s.mu.Unlock()
	now := s.opts.Now()
	// Published asynchronously, as kv.Put would one by one: thousands of
	// runs a second are a round trip each otherwise.
	acks := make(map[boards.TripKey]jetstream.PubAckFuture, len(batch))
	for k, rows := range batch {
		b, err := json.Marshal(entry{Node: s.opts.Node, At: now, Rows: rows})
		if err != nil {
			s.log.Error("encode shared run", "trip", k.Trip, "err", err)
			continue
		}
		f, err := s.opts.JS.PublishAsync("$KV."+Bucket+"."+Key(k), b)
		if err != nil {
			s.retry(k, rows, err)
			continue
		}
		acks[k] = f
	}
	deadline := time.After(5 * time.Second)
	late := false
	for k, f := range acks {
		if late {
			s.retry(k, batch[k], errors.New("no acknowledgement in 5 s"))
			continue
		}
		select {
		case <-f.Ok():
		case err := <-f.Err():
			s.retry(k, batch[k], err)
		case <-deadline:
			late = true
			s.retry(k, batch[k], errors.New("no acknowledgement in 5 s"))
		case <-ctx.Done():
			return
		}
	}
}

// retry queues a run whose put failed again, unless a newer one is queued.
func (s *Share) retry(k boards.TripKey, rows map[int]boards.Realtime, err error) {
	s.mu.Lock()
	s.failed++
	if _, newer := s.pending[k]; !newer {
		s.pending[k] = rows
	}
	s.mu.Unlock()
	s.log.Warn("sharing a run failed; retrying", "trip", k.Trip, "err", err)
}
