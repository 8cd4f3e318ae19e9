// Package engine is the hub's core loop: it takes vehicle messages from
// MQTT, feeds them to the tracker, predicts arrivals, rebuilds the boards of
// the stops whose arrivals changed and hands each changed board to the
// publishers (WebSocket signs, retained MQTT topics).
//
// One goroutine (Run) owns the tracker and the predictions. Boards and
// snapshots for the HTTP API are published under a mutex for readers.
package engine

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/headway-transit/headway/hub/internal/boards"
	"github.com/headway-transit/headway/hub/internal/ingest"
	"github.com/headway-transit/headway/hub/internal/predict"
	"github.com/headway-transit/headway/hub/internal/tracker"
	"github.com/headway-transit/headway/internal/gtfs"
	"github.com/headway-transit/headway/internal/watchdog"
	"github.com/headway-transit/headway/internal/wire"
)

// Publisher receives every changed board as an encoded message.
type Publisher func(stop string, msg []byte)

// Options configures an Engine.
type Options struct {
	Feed    *gtfs.Feed
	Tracker tracker.Config
	Topics  wire.Topics
	Horizon time.Duration // how far ahead boards look
	MaxRows int
	Refresh time.Duration // rebuild period for boards whose schedule moved on
	Stale   time.Duration // vehicles silent this long stop feeding predictions
	// MaxStand is how long a vehicle may stand still past its trip's first
	// stop and still feed predictions; 0 means DefaultMaxStand.
	MaxStand time.Duration
	// TerminalLead is how long before its trip's departure a vehicle
	// waiting at the first stop starts to feed predictions; until then its
	// trip shows as scheduled with the bus at the terminal. 0 means
	// DefaultTerminalLead.
	TerminalLead time.Duration
	// Settle is how long a newly tracked vehicle whose inferred trip is a
	// guess (another block's trip fits it about as well) feeds no
	// predictions; 0 means DefaultSettle.
	Settle time.Duration
	// MissedAfter is how long past its departure a trip run with no
	// vehicle on it is labelled no_bus on the boards; 0 means
	// DefaultMissedAfter.
	MissedAfter time.Duration
	// Skip takes calls off the boards (boards.Builder.Skip); call
	// Changed when its answers change.
	Skip func(trip, stop string, at time.Time) bool
	// Predictor is the arrival model; nil means delay propagation
	// (predict.Delay).
	Predictor  predict.Predictor
	Publish    []Publisher
	Logger     *slog.Logger
	Registerer prometheus.Registerer
	Now        func() time.Time
	// Checkpoint, when set, is called from Run's goroutine (so it may read
	// the Predictor) every CheckpointEvery and when Run stops: the hub
	// saves the learned model with it.
	Checkpoint      func(now time.Time)
	CheckpointEvery time.Duration
	// Share, when set, is given (from Run's goroutine, at each Flush) the
	// rows of every trip run this hub's vehicles started, changed or
	// stopped (nil rows) predicting: other hubs of a cluster show them
	// (see share.go). It must not block.
	Share func(k boards.TripKey, rows map[int]boards.Realtime)
	// ShareObservation, when set, is given (from Run's goroutine) what each
	// of this hub's vehicles taught the arrival model, for the other hubs'
	// models (RemoteObservation). It must not block.
	ShareObservation func(Observation)
}

// ForgetAfter is how long a silent vehicle stays listed.
const ForgetAfter = 24 * time.Hour

// TimetableSpan is how far ahead timetables reach; the contract asks for at
// least 24 hours, a little more covers the hour until the next resend.
const TimetableSpan = 26 * time.Hour

// maxBatch bounds how many queued messages are applied before the boards
// they touched are rebuilt. A bus's fix changes every stop ahead of it:
// under load, draining the queue first means one rebuild per stop for many
// fixes; when idle, a lone fix is on the signs at once.
const maxBatch = 1024

// Engine turns positions into boards.
type Engine struct {
	opts    Options
	log     *slog.Logger
	tracker *tracker.Tracker
	builder boards.Builder
	live    *liveScore       // the hub's judgement of its own predictions
	layover map[string]bool  // vehicles waiting at their trip's first stop (the map's "laying over")
	acc     *accuracy        // the hub's live scores of its predictions
	noBus   []boards.TripKey // trip runs under way with no vehicle on them, as of Refresh
	// Options.MaxStand, TerminalLead and Settle, defaulted.
	maxStand, terminalLead, settle time.Duration

	// Owned by Run.
	preds    boards.Predictions
	runOf    map[string]boards.TripKey // vehicle -> trip run it predicts
	owner    map[boards.TripKey]string // trip run -> vehicle predicting it
	dirty    map[string]bool
	remoteOf map[boards.TripKey]string // trip run -> the hub predicting it (share.go)
	shared   map[boards.TripKey]bool   // trip runs to hand to Options.Share
	snapshot bool                      // the vehicles' API view is out of date
	// rtDirty: the GTFS-Realtime view is out of date; viewsAt: when the
	// views (vehicles, GTFS-Realtime) were last built (viewsEvery).
	rtDirty  bool
	viewsAt  time.Time
	lastRows map[string]string // stop -> encoded arrivals of its last board

	mu        sync.RWMutex
	boardMsg  map[string][]byte
	ttMsg     map[string]timetable
	views     map[string]VehicleView // /api/vehicles, by vehicle id
	lastFixAt time.Time
	realtime  *RealtimeSnapshot // GTFS-Realtime view, see realtime.go

	// watch carries stops first asked for by a sign to Run, which builds
	// their boards with realtime rows and keeps them current.
	watch chan string
	// poke asks Run to rebuild every board now (Changed).
	poke chan struct{}
	// remote carries other hubs' runs to Run (share.go).
	remote chan remoteOp
	// probes: the watchdog's questions, answered by the Run loop.
	probes chan chan struct{}

	m metrics
}

type timetable struct {
	from time.Time
	msg  []byte
}

// New builds an engine over a loaded feed.
func New(opts Options) *Engine {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Predictor == nil {
		opts.Predictor = predict.Delay{}
	}
	e := &Engine{
		opts:     opts,
		log:      opts.Logger.With("component", "engine"),
		tracker:  tracker.New(opts.Feed, opts.Tracker),
		builder:  boards.Builder{Feed: opts.Feed, Horizon: opts.Horizon, MaxRows: opts.MaxRows},
		preds:    boards.Predictions{},
		runOf:    map[string]boards.TripKey{},
		owner:    map[boards.TripKey]string{},
		dirty:    map[string]bool{},
		lastRows: map[string]string{},
		boardMsg: map[string][]byte{},
		ttMsg:    map[string]timetable{},
		watch:    make(chan string, 1024),
		poke:     make(chan struct{}, 1),
		remote:   make(chan remoteOp, 4096),
		probes:   make(chan chan struct{}),
		remoteOf: map[boards.TripKey]string{},
		shared:   map[boards.TripKey]bool{},
		m:        newMetrics(),
		live:     newLiveScore(),
		acc:      newAccuracy(),
		layover:  map[string]bool{},
	}
	e.maxStand, e.terminalLead = opts.MaxStand, opts.TerminalLead
	if e.maxStand <= 0 {
		e.maxStand = DefaultMaxStand
	}
	if e.terminalLead <= 0 {
		e.terminalLead = DefaultTerminalLead
	}
	if e.settle = opts.Settle; e.settle <= 0 {
		e.settle = DefaultSettle
	}
	e.builder.MissedAfter = opts.MissedAfter
	e.builder.Skip = opts.Skip
	if e.builder.MissedAfter <= 0 {
		e.builder.MissedAfter = DefaultMissedAfter
	}
	if opts.Registerer != nil {
		e.m.register(opts.Registerer, e)
	}
	return e
}

// KnownStop reports whether stop is in the schedule.
func (e *Engine) KnownStop(stop string) bool { return e.opts.Feed.Stops[stop] != nil }

// Board returns stop's current board message, or nil when none has been
// built yet: then Run builds it, with realtime rows, and publishes it to
// the signs that asked within moments.
func (e *Engine) Board(stop string) []byte {
	e.mu.RLock()
	b := e.boardMsg[stop]
	e.mu.RUnlock()
	if b == nil && e.KnownStop(stop) {
		select {
		case e.watch <- stop:
		default:
		}
	}
	return b
}

// CurrentBoard is Board for callers that need an answer now (the HTTP API):
// a schedule-only board when none has been built yet.
func (e *Engine) CurrentBoard(stop string) []byte {
	if b := e.Board(stop); b != nil || !e.KnownStop(stop) {
		return b
	}
	msg, _ := json.Marshal(e.builder.Board(stop, e.opts.Now(), nil))
	return msg
}

// Timetable returns stop's timetable message, rebuilt when older than an hour.
func (e *Engine) Timetable(stop string) []byte {
	if !e.KnownStop(stop) {
		return nil
	}
	now := e.opts.Now()
	e.mu.RLock()
	tt, ok := e.ttMsg[stop]
	e.mu.RUnlock()
	if ok && now.Sub(tt.from) < 30*time.Minute && !now.Before(tt.from) {
		return tt.msg
	}
	msg, err := json.Marshal(e.builder.Timetable(stop, now, TimetableSpan))
	if err != nil {
		return nil
	}
	e.mu.Lock()
	e.ttMsg[stop] = timetable{from: now, msg: msg}
	e.mu.Unlock()
	return msg
}

// SetPrior replaces the predictions taken from the agency's own TripUpdates
// (boards.Builder.Prior) and rebuilds every board.
func (e *Engine) SetPrior(p boards.Predictions) {
	e.builder.Prior.Store(&p)
	e.Changed()
}

// Changed tells the engine that what Options.Skip says has changed (a
// service alert): every board is rebuilt at once, timetables when next
// asked for.
func (e *Engine) Changed() {
	select {
	case e.poke <- struct{}{}:
	default:
	}
}

// Run consumes msgs until ctx is done.
func (e *Engine) Run(ctx context.Context, msgs <-chan ingest.Message) error {
	refresh := time.NewTicker(e.opts.Refresh)
	defer refresh.Stop()
	views := time.NewTicker(viewsEvery)
	defer views.Stop()
	var checkpoint <-chan time.Time
	if e.opts.Checkpoint != nil && e.opts.CheckpointEvery > 0 {
		t := time.NewTicker(e.opts.CheckpointEvery)
		defer t.Stop()
		checkpoint = t.C
	}
	for {
		select {
		case <-ctx.Done():
			if e.opts.Checkpoint != nil {
				e.opts.Checkpoint(e.opts.Now())
			}
			return nil
		case <-checkpoint:
			e.opts.Checkpoint(e.opts.Now())
		case m := <-msgs:
			e.apply(m)
		drain:
			for n := 1; n < maxBatch; n++ {
				select {
				case m = <-msgs:
					e.apply(m)
				default:
					break drain
				}
			}
			e.flush(false)
		case st := <-e.watch:
			e.dirty[st] = true
			e.flush(false)
		case op := <-e.remote:
			e.applyRemote(op)
		remote:
			for n := 1; n < maxBatch; n++ {
				select {
				case op = <-e.remote:
					e.applyRemote(op)
				default:
					break remote
				}
			}
			e.flush(false)
		case <-e.poke:
			e.mu.Lock()
			clear(e.ttMsg)
			e.mu.Unlock()
			e.Refresh()
		case <-views.C:
			e.buildViews(true)
		case <-refresh.C:
			e.Refresh()
		case reply := <-e.probes:
			close(reply)
		}
	}
}

// Probe returns once the Run loop answers (it is not stuck), or ctx's
// error: the systemd watchdog's question.
func (e *Engine) Probe(ctx context.Context) error {
	return watchdog.Ask(ctx, e.probes, "engine loop")
}

// apply handles m and tells its sender; not one gone stale.
func (e *Engine) apply(m ingest.Message) {
	if m.Stale != nil && m.Stale() {
		e.m.messages.WithLabelValues("stale_after_stall").Inc()
		return
	}
	e.Handle(m)
	if m.Applied != nil {
		m.Applied()
	}
}

// Handle applies one MQTT message. Exported for tests and replay, which
// drive the engine without its Run loop.
func (e *Engine) Handle(m ingest.Message) {
	vehicle, kind, err := e.opts.Topics.ParseVehicleTopic(m.Topic)
	if err != nil {
		e.reject("topic", m, err)
		return
	}
	now := e.opts.Now()
	switch kind {
	case wire.KindStatus:
		s, err := wire.DecodeStatus(m.Payload)
		if err != nil {
			e.reject("status", m, err)
			return
		}
		e.tracker.SetStatus(vehicle, s, now)
		e.m.messages.WithLabelValues("status").Inc()
	case wire.KindPosition:
		p, err := wire.DecodePosition(m.Payload)
		if err != nil {
			e.reject("payload", m, err)
			return
		}
		if p.Vehicle != vehicle {
			e.reject("vehicle_mismatch", m, errors.New("payload vehicle differs from topic"))
			return
		}
		before := e.nearEndOf(vehicle)
		changed, err := e.tracker.Update(p, now)
		switch {
		case errors.Is(err, tracker.ErrDuplicate), errors.Is(err, tracker.ErrStale):
			e.m.messages.WithLabelValues("duplicate").Inc()
		case errors.Is(err, tracker.ErrFuture):
			e.reject("future", m, err)
		case errors.Is(err, tracker.ErrFarAway):
			e.reject("far_away", m, err)
		case err != nil:
			e.reject("other", m, err)
		case p.Backfill:
			e.m.messages.WithLabelValues("backfill").Inc()
		default:
			e.m.messages.WithLabelValues("accepted").Inc()
			e.mu.Lock()
			e.lastFixAt = now
			e.mu.Unlock()
		}
		if changed {
			v := e.tracker.Vehicle(vehicle)
			e.judgePassages(v, before)
			e.opts.Predictor.Observe(v)
			e.shareObservation(v)
			e.predict(v, now)
		}
	}
	// This vehicle's row of /api/vehicles now; the whole view (others a
	// fix may have changed) at the next buildViews.
	e.updateView(vehicle)
	e.snapshot = true
}

func (e *Engine) reject(reason string, m ingest.Message, err error) {
	e.m.messages.WithLabelValues("rejected_" + reason).Inc()
	e.log.Debug("message rejected", "reason", reason, "topic", m.Topic, "err", err)
}

// predict replaces v's predictions and marks the stops they touch. One
// vehicle predicts a trip run: if two claim the same run, the one whose trip
// was reported or configured wins over an inferred one, then the one that
// claimed it first, while its fixes are fresh.
func (e *Engine) predict(v *tracker.Vehicle, now time.Time) {
	e.release(v.ID)
	delete(e.layover, v.ID)
	if v.Trip == nil || now.Sub(v.FixTime) > e.opts.Stale {
		return
	}
	key := boards.TripKey{Trip: v.Trip.ID, DayStart: v.DayStart.Unix()}
	switch e.standing(v) {
	case standingTooLong:
		e.m.standing.Inc()
		return
	case unsure:
		e.m.unsure.Inc()
		return
	case waitingAtTerminal:
		e.layover[v.ID] = true
		e.atTerminal(v, key)
		return
	}
	if other, ok := e.owner[key]; ok {
		ov := e.tracker.Vehicle(other)
		if ov != nil && now.Sub(ov.FixTime) <= e.opts.Stale && rank(ov) >= rank(v) && !e.waiting(key) {
			e.m.conflicts.Inc()
			e.log.Debug("trip run already predicted by another vehicle", "trip", key.Trip, "vehicle", v.ID, "by", other)
			return
		}
		e.release(other)
	}
	run := map[int]boards.Realtime{}
	for _, a := range e.opts.Predictor.Predict(v, now) {
		run[a.Index] = boards.Realtime{Vehicle: v.ID, Predicted: a.Predicted}
		e.live.predicted(key, a.Index, now, a.Predicted)
		e.acc.predicted(key, a.Index, v.Trip.RouteID, now, a.Predicted)
	}
	e.preds[key] = run
	e.runOf[v.ID] = key
	e.owner[key] = v.ID
	e.markTrip(key)
	e.shareChanged(key)
}

// release removes the predictions vehicle made.
func (e *Engine) release(vehicle string) {
	key, ok := e.runOf[vehicle]
	if !ok {
		return
	}
	delete(e.runOf, vehicle)
	if e.owner[key] == vehicle {
		delete(e.owner, key)
		delete(e.preds, key)
		e.markTrip(key)
		e.shareChanged(key)
	}
}

func rank(v *tracker.Vehicle) int {
	if v.TripSource == tracker.SourceInferred {
		return 1
	}
	return 2
}

func (e *Engine) markTrip(k boards.TripKey) {
	tr := e.opts.Feed.Trips[k.Trip]
	if tr == nil {
		return
	}
	for _, st := range tr.StopTimes {
		e.dirty[st.StopID] = true
	}
}

// viewsEvery is how often, at most, Run rebuilds the views that cover the
// whole fleet (/api/vehicles, GTFS-Realtime): they are read by people and
// by feed consumers polling every few seconds, so rebuilding them for each
// batch of fixes would make each fix's cost grow with the fleet.
const viewsEvery = time.Second

// Flush rebuilds the boards of dirty stops and publishes those that
// changed, and brings the views up to date.
func (e *Engine) Flush() { e.flush(true) }

// flush is Flush; the views are rebuilt only when now is their time
// (views false: Run's batches) or at once (views true).
func (e *Engine) flush(views bool) {
	e.shareFlush()
	if len(e.dirty) > 0 || e.snapshot {
		e.rtDirty = true
	}
	e.buildViews(views || e.opts.Now().Sub(e.viewsAt) >= viewsEvery)
	if len(e.dirty) == 0 {
		return
	}
	now := e.opts.Now()
	stops := make([]string, 0, len(e.dirty))
	for st := range e.dirty {
		stops = append(stops, st)
	}
	sort.Strings(stops)
	clear(e.dirty)
	for _, st := range stops {
		e.rebuild(st, now)
	}
}

// buildViews rebuilds the fleet-wide views that are out of date, if now.
func (e *Engine) buildViews(now bool) {
	if !now {
		return
	}
	if e.rtDirty || e.realtimeDue() {
		e.publishRealtime()
		e.rtDirty = false
	}
	if e.snapshot {
		e.snapshotVehicles()
		e.snapshot = false
	}
	e.viewsAt = e.opts.Now()
}

// Refresh drops predictions of silent vehicles and rebuilds every board
// that has been built, so schedule-only rows move on with the clock.
func (e *Engine) Refresh() {
	now := e.opts.Now()
	e.live.expire(now)
	e.acc.expire(now)
	for _, v := range e.tracker.Vehicles() {
		if _, ok := e.runOf[v.ID]; ok && now.Sub(v.FixTime) > e.opts.Stale {
			e.release(v.ID)
		}
	}
	before := len(e.tracker.Vehicles())
	e.tracker.Forget(now.Add(-ForgetAfter))
	for id := range e.layover {
		if e.tracker.Vehicle(id) == nil {
			delete(e.layover, id)
		}
	}
	if len(e.tracker.Vehicles()) != before {
		e.snapshot = true
	}
	e.mu.RLock()
	for st := range e.boardMsg {
		e.dirty[st] = true
	}
	e.mu.RUnlock()
	if nb := e.findNoBus(now); !slices.Equal(nb, e.noBus) {
		e.noBus, e.snapshot = nb, true
	}
	e.Flush()
}

// rebuild builds stop's board and publishes it if its arrivals changed.
func (e *Engine) rebuild(stop string, now time.Time) {
	b := e.builder.Board(stop, now, e.preds)
	rows, _ := json.Marshal(b.Arrivals)
	if string(rows) == e.lastRows[stop] {
		return
	}
	e.lastRows[stop] = string(rows)
	msg, err := json.Marshal(b)
	if err != nil {
		e.log.Error("encode board", "stop", stop, "err", err)
		return
	}
	e.mu.Lock()
	e.boardMsg[stop] = msg
	e.mu.Unlock()
	e.m.boards.Inc()
	for _, p := range e.opts.Publish {
		p(stop, msg)
	}
}

// SavedVehicles is what the tracker keeps of each vehicle across a
// restart. Call it from Checkpoint (Run's goroutine) or before Run.
func (e *Engine) SavedVehicles() map[string]tracker.Saved { return e.tracker.Save() }

// RestoreVehicles puts back what SavedVehicles returned; call it before Run.
func (e *Engine) RestoreVehicles(saved map[string]tracker.Saved) error {
	if err := e.tracker.Restore(saved); err != nil {
		return err
	}
	e.snapshot = true
	e.snapshotVehicles()
	return nil
}
