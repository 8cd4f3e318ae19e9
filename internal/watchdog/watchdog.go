// Package watchdog tells systemd how a Headway service is doing (the
// sd_notify protocol, through github.com/coreos/go-systemd): READY=1 once
// it serves, STOPPING=1 when it stops, STATUS= lines, and WATCHDOG=1 only
// while every one of its probes says its work goes on. A unit with
// WatchdogSec= then restarts a service whose work loop is stuck, not only
// one that has died.
//
// A probe asks a component's own loop to answer (the vehicle agent's event
// loop, the station's state and cache, the hub's engine): a loop that is
// stuck does not answer within the time, and the watchdog is not fed.
package watchdog

import (
	"context"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/coreos/go-systemd/v22/daemon"
)

// Probe reports whether a component works. It should return when ctx is
// done; a probe that does not is counted as failing all the same.
type Probe func(ctx context.Context) error

// Options configure Run.
type Options struct {
	Probes map[string]Probe
	Logger *slog.Logger
	// Notify sends one sd_notify state; nil: daemon.SdNotify.
	Notify func(state string) error
	// Interval is systemd's WatchdogSec; 0: from $WATCHDOG_USEC, and no
	// watchdog when that is unset.
	Interval time.Duration
}

// Ready tells systemd the service is up (Type=notify units wait for it).
func Ready(status string) { notify(nil, "READY=1\nSTATUS="+status) }

// Stopping tells systemd the service is stopping on purpose.
func Stopping() { notify(nil, "STOPPING=1") }

// Status sets the line systemctl status shows.
func Status(status string) { notify(nil, "STATUS="+status) }

func notify(f func(string) error, state string) error {
	if f != nil {
		return f(state)
	}
	_, err := daemon.SdNotify(false, state)
	return err
}

// Enabled is systemd's watchdog interval for this process, or 0.
func Enabled() time.Duration {
	d, err := daemon.SdWatchdogEnabled(false)
	if err != nil {
		return 0
	}
	return d
}

// Run feeds the watchdog until ctx is done: every third of the interval it
// runs the probes, each given that third to answer, and sends WATCHDOG=1
// only when all of them pass. With no watchdog it returns at once.
func Run(ctx context.Context, o Options) {
	if o.Interval <= 0 {
		o.Interval = Enabled()
	}
	if o.Interval <= 0 {
		return
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	log := o.Logger.With("component", "watchdog")
	every := o.Interval / 3
	log.Info("systemd watchdog on", "interval", o.Interval, "probes", names(o.Probes))
	tick := time.NewTicker(every)
	defer tick.Stop()
	failing := false
	for {
		if err := Check(ctx, o.Probes, every); err != nil {
			if ctx.Err() != nil {
				return
			}
			if !failing {
				log.Error("not feeding the watchdog: systemd restarts the service if this lasts", "err", err, "within", o.Interval)
				_ = notify(o.Notify, "STATUS=not working: "+err.Error())
			}
			failing = true
		} else {
			if failing {
				log.Info("working again: feeding the watchdog")
				_ = notify(o.Notify, "STATUS=working")
			}
			failing = false
			if err := notify(o.Notify, "WATCHDOG=1"); err != nil {
				log.Warn("sd_notify", "err", err)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// Ask is a probe of a loop that answers on probes: it sends a reply
// channel, which the loop closes when it gets to it (a case in its select),
// and waits; ctx's error, named after what, if the loop does not take it.
func Ask(ctx context.Context, probes chan<- chan struct{}, what string) error {
	reply := make(chan struct{})
	select {
	case probes <- reply:
	case <-ctx.Done():
		return fmt.Errorf("%s: %w", what, ctx.Err())
	}
	<-reply
	return nil
}

// Check runs every probe, each with within to answer, and reports those
// that failed or did not answer.
func Check(ctx context.Context, probes map[string]Probe, within time.Duration) error {
	type result struct {
		name string
		err  error
	}
	results := make(chan result, len(probes))
	var wg sync.WaitGroup
	for name, p := range probes {
		wg.Go(func() {
			pctx, cancel := context.WithTimeout(ctx, within)
			defer cancel()
			done := make(chan error, 1)
			go func() { done <- p(pctx) }()
			select {
			case err := <-done:
				results <- result{name, err}
			case <-pctx.Done():
				results <- result{name, fmt.Errorf("no answer within %v", within)}
			}
		})
	}
	wg.Wait()
	close(results)
	var bad []string
	for r := range results {
		if r.err != nil {
			bad = append(bad, fmt.Sprintf("%s: %v", r.name, r.err))
		}
	}
	if len(bad) == 0 {
		return nil
	}
	sort.Strings(bad)
	return fmt.Errorf("%v", bad)
}

func names(m map[string]Probe) []string {
	var out []string
	for n := range m {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}
