package signout

import (
	"context"
	"os"
	"time"

	"github.com/headway-transit/headway/agent/internal/signtui"
	"github.com/headway-transit/headway/agent/internal/station"
)

// ttySlot is a tui output: the terminal board on a text console, for a
// screen with no browser (a Pi's HDMI console, /dev/tty1).
type ttySlot struct {
	cfg station.OutputConfig
}

// ttyRetry is how long a tui output waits before opening its console again
// after an error.
const ttyRetry = 5 * time.Second

// runTTY draws the board on the slot's console until ctx is done, opening
// it again after an error; its last frame says the times are as of then.
func (r *Runner) runTTY(ctx context.Context, t *ttySlot) {
	name := t.cfg.OutputName()
	for ctx.Err() == nil {
		err := r.drawTTY(ctx, t)
		if err == nil {
			return
		}
		r.errs.WithLabelValues(name).Inc()
		r.log.Warn("sign output: console", "output", name, "tty", t.cfg.TTY, "err", err, "retry", ttyRetry)
		select {
		case <-ctx.Done():
		case <-time.After(ttyRetry):
		}
	}
}

func (r *Runner) drawTTY(ctx context.Context, t *ttySlot) error {
	f, err := os.OpenFile(t.cfg.TTY, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	w := &frameCounter{w: f, inc: r.frames.WithLabelValues(t.cfg.OutputName()).Inc}
	return signtui.Run(ctx, r.src, w, signtui.Options{Terminal: signtui.IsTerminal(f), Final: true})
}

// frameCounter counts the frames written (signtui writes one a call).
type frameCounter struct {
	w   *os.File
	inc func()
}

func (c *frameCounter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	if err == nil {
		c.inc()
	}
	return n, err
}
