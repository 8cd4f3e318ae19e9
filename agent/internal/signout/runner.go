// Package signout drives a station's hardware sign outputs from its view:
// an LED sign on a serial line (Alpha protocol), an e-paper panel on SPI,
// or a PNG file (what a panel would show, for a screen grabber, a
// technician, or a test). Each output is given the sign's board when it
// changes, and not more often than its refresh budget allows.
package signout

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/headway-transit/headway/agent/internal/signframe"
	"github.com/headway-transit/headway/agent/internal/station"
	"github.com/headway-transit/headway/drivers/display"
	"github.com/headway-transit/headway/drivers/display/epaper"
)

// Source is the sign: *station.Station.
type Source interface {
	View() station.View
	Changed() <-chan struct{}
	Location() *time.Location
}

// every is how often the runner looks at the view without a change: the
// minutes count down and the sign's mode turns stale or scheduled with
// time alone, which no change announces. The alerts rotate every
// rotateEvery looks.
const (
	every       = time.Second
	rotateEvery = 10
)

type slot struct {
	cfg   station.OutputConfig
	out   output
	shown *display.Board
	last  time.Time
	// partials and fulls: the panel's refreshes already counted.
	partials, fulls uint64
}

// Runner drives the outputs.
type Runner struct {
	src   Source
	slots []*slot
	ttys  []*ttySlot
	log   *slog.Logger
	now   func() time.Time

	// power carries the power-fail state (true: failing), latest wins.
	power chan bool

	frames, deferred, errs, refreshes *prometheus.CounterVec
	powerFails                        prometheus.Counter
	powerFailing                      prometheus.Gauge
}

// New opens every output of cfgs.
func New(src Source, cfgs []station.OutputConfig, logger *slog.Logger) (*Runner, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	r := &Runner{src: src, log: logger.With("component", "outputs"), now: time.Now, power: make(chan bool, 1),
		frames: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "headway_station_output_frames_total", Help: "Frames put on a sign output (only when what it shows changes).",
		}, []string{"output"}),
		deferred: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "headway_station_output_deferred_total", Help: "Changes held back by an output's refresh budget (min_interval), shown later.",
		}, []string{"output"}),
		errs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "headway_station_output_errors_total", Help: "Failed updates of a sign output (a serial line or a panel gone).",
		}, []string{"output"}),
		refreshes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "headway_station_output_refreshes_total", Help: "E-paper panel refreshes by kind: partial (countdowns) or full (against ghosting, and every refresh of a red panel).",
		}, []string{"output", "kind"}),
		powerFails: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "headway_station_power_failures_total", Help: "Power-fail warnings (the power_fail pin or SIGPWR): each drew the outputs' honest last frame.",
		}),
		powerFailing: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "headway_station_power_failing", Help: "1 while the power is failing: the outputs hold their last frame.",
		}),
	}
	for i, c := range cfgs {
		if err := c.Check(); err != nil {
			r.Close()
			return nil, fmt.Errorf("outputs[%d]: %w", i, err)
		}
		if c.Type == "tui" {
			r.ttys = append(r.ttys, &ttySlot{cfg: c})
		} else {
			o, err := open(c)
			if err != nil {
				r.Close()
				return nil, fmt.Errorf("outputs[%d]: %w", i, err)
			}
			r.slots = append(r.slots, &slot{cfg: c, out: o})
			if c.Type == "epaper" {
				r.refreshes.WithLabelValues(c.OutputName(), "partial")
				r.refreshes.WithLabelValues(c.OutputName(), "full")
			}
		}
		r.frames.WithLabelValues(c.OutputName())
		r.deferred.WithLabelValues(c.OutputName())
		r.errs.WithLabelValues(c.OutputName())
	}
	return r, nil
}

// Collectors are the runner's metrics, for the station's /metrics.
func (r *Runner) Collectors() []prometheus.Collector {
	return []prometheus.Collector{r.frames, r.deferred, r.errs, r.refreshes, r.powerFails, r.powerFailing}
}

// PowerFail tells the runner the power is failing (true) or back (false).
// Failing, the outputs draw their final frame at once (the one a panel
// keeps through the cut) and hold it until the power is back.
func (r *Runner) PowerFail(failing bool) {
	for {
		select {
		case r.power <- failing:
			return
		default:
		}
		select { // replace a state not yet taken: the latest wins
		case <-r.power:
		default:
		}
	}
}

// Run updates the outputs until ctx is done, then shows each its final
// frame: the last board with a banner saying the times are as of when the
// agent stopped, what a panel keeps through a power cut.
func (r *Runner) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	defer wg.Wait()
	for _, t := range r.ttys {
		wg.Go(func() { r.runTTY(ctx, t) })
	}
	if len(r.slots) == 0 {
		<-ctx.Done()
		return nil
	}
	tick := time.NewTicker(every)
	defer tick.Stop()
	rotation, ticks := 0, 0
	held := false // the power is failing: the final frame stays
	for {
		var retry <-chan time.Time
		if !held {
			if wait := r.update(rotation); wait > 0 {
				retry = time.After(wait)
			}
		}
		select {
		case <-ctx.Done():
			if !held {
				r.final()
			}
			return nil
		case failing := <-r.power:
			switch {
			case failing && !held:
				r.log.Warn("power failing: the sign outputs show their last frame, times as of now")
				r.powerFails.Inc()
				r.powerFailing.Set(1)
				r.final()
			case !failing && held:
				r.log.Info("power back: the sign outputs follow the sign again")
				r.powerFailing.Set(0)
			}
			held = failing
		case <-r.src.Changed():
		case <-retry:
		case <-tick.C:
			ticks++
			if ticks%rotateEvery == 0 {
				rotation++
			}
		}
	}
}

func (r *Runner) board(rotation int) display.Board {
	return signframe.Board(r.src.View(), r.src.Location(), rotation)
}

// update shows the board on every output whose picture changed, and
// returns how soon one held back by its budget may go (0: none).
func (r *Runner) update(rotation int) time.Duration {
	b := r.board(rotation)
	now := r.now()
	var wait time.Duration
	for _, s := range r.slots {
		if s.shown != nil && reflect.DeepEqual(*s.shown, b) {
			continue
		}
		if left := s.cfg.Budget() - now.Sub(s.last); !s.last.IsZero() && left > 0 {
			r.deferred.WithLabelValues(s.cfg.OutputName()).Inc()
			if wait == 0 || left < wait {
				wait = left
			}
			continue // shown when the budget allows
		}
		err := s.out.show(b, now)
		switch {
		case errors.Is(err, epaper.ErrBudget):
			r.deferred.WithLabelValues(s.cfg.OutputName()).Inc()
		case err != nil:
			r.errs.WithLabelValues(s.cfg.OutputName()).Inc()
			r.log.Warn("sign output not updated", "output", s.cfg.OutputName(), "err", err)
		default:
			bb := b
			s.shown, s.last = &bb, now
			r.frames.WithLabelValues(s.cfg.OutputName()).Inc()
		}
		r.countRefreshes(s)
	}
	return wait
}

// final shows every output the board saying its times are as of now: the
// frame a panel keeps when the agent stops or the power goes.
func (r *Runner) final() {
	b := r.board(0)
	b.Banner = "TIMES AS OF " + b.Clock + " - MAY BE OUT OF DATE"
	now := r.now()
	for _, s := range r.slots {
		if err := s.out.final(b, now); err != nil {
			r.errs.WithLabelValues(s.cfg.OutputName()).Inc()
			r.log.Warn("sign output: no final frame", "output", s.cfg.OutputName(), "err", err)
		} else {
			bb := b
			s.shown, s.last = &bb, now
			r.frames.WithLabelValues(s.cfg.OutputName()).Inc()
		}
		r.countRefreshes(s)
	}
}

// refresher is an output that counts its panel's refreshes (e-paper).
type refresher interface {
	refreshCounts() (partial, full uint64)
}

func (r *Runner) countRefreshes(s *slot) {
	rf, ok := s.out.(refresher)
	if !ok {
		return
	}
	partial, full := rf.refreshCounts()
	r.refreshes.WithLabelValues(s.cfg.OutputName(), "partial").Add(float64(partial - s.partials))
	r.refreshes.WithLabelValues(s.cfg.OutputName(), "full").Add(float64(full - s.fulls))
	s.partials, s.fulls = partial, full
}

// Close closes every output.
func (r *Runner) Close() error {
	var errs []error
	for _, s := range r.slots {
		errs = append(errs, s.out.Close())
	}
	return errors.Join(errs...)
}
