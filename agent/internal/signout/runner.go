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
}

// Runner drives the outputs.
type Runner struct {
	src   Source
	slots []*slot
	log   *slog.Logger
	now   func() time.Time

	frames, deferred, errs *prometheus.CounterVec
}

// New opens every output of cfgs.
func New(src Source, cfgs []station.OutputConfig, logger *slog.Logger) (*Runner, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	r := &Runner{src: src, log: logger.With("component", "outputs"), now: time.Now,
		frames: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "headway_station_output_frames_total", Help: "Frames put on a sign output (only when what it shows changes).",
		}, []string{"output"}),
		deferred: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "headway_station_output_deferred_total", Help: "Changes held back by an output's refresh budget (min_interval), shown later.",
		}, []string{"output"}),
		errs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "headway_station_output_errors_total", Help: "Failed updates of a sign output (a serial line or a panel gone).",
		}, []string{"output"}),
	}
	for i, c := range cfgs {
		if err := c.Check(); err != nil {
			r.Close()
			return nil, fmt.Errorf("outputs[%d]: %w", i, err)
		}
		o, err := open(c)
		if err != nil {
			r.Close()
			return nil, fmt.Errorf("outputs[%d]: %w", i, err)
		}
		r.slots = append(r.slots, &slot{cfg: c, out: o})
		r.frames.WithLabelValues(c.OutputName())
		r.deferred.WithLabelValues(c.OutputName())
		r.errs.WithLabelValues(c.OutputName())
	}
	return r, nil
}

// Collectors are the runner's metrics, for the station's /metrics.
func (r *Runner) Collectors() []prometheus.Collector {
	return []prometheus.Collector{r.frames, r.deferred, r.errs}
}

// Run updates the outputs until ctx is done, then shows each its final
// frame: the last board with a banner saying the times are as of when the
// agent stopped, what a panel keeps through a power cut.
func (r *Runner) Run(ctx context.Context) error {
	if len(r.slots) == 0 {
		return nil
	}
	tick := time.NewTicker(every)
	defer tick.Stop()
	rotation, ticks := 0, 0
	for {
		var retry <-chan time.Time
		if wait := r.update(rotation); wait > 0 {
			retry = time.After(wait)
		}
		select {
		case <-ctx.Done():
			r.final()
			return nil
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
	}
	return wait
}

func (r *Runner) final() {
	b := r.board(0)
	b.Banner = "TIMES AS OF " + b.Clock + " - MAY BE OUT OF DATE"
	for _, s := range r.slots {
		if err := s.out.final(b, r.now()); err != nil {
			r.log.Warn("sign output: no final frame", "output", s.cfg.OutputName(), "err", err)
		}
	}
}

// Close closes every output.
func (r *Runner) Close() error {
	var errs []error
	for _, s := range r.slots {
		errs = append(errs, s.out.Close())
	}
	return errors.Join(errs...)
}
