package signtui

import (
	"bytes"
	"context"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/headway-transit/headway/agent/internal/station"
)

// Source is what the board needs of a running station.
type Source interface {
	View() station.View
	Changed() <-chan struct{}
	Location() *time.Location
}

// Options configures Run.
type Options struct {
	// Terminal redraws in place with ANSI escapes; otherwise a frame is
	// printed each time its text changes, for files and pipes.
	Terminal bool
	Interval time.Duration // between looks at the view; 0 means 1 s
	// Repaint: a terminal is redrawn whole this often even with nothing
	// changed (a console's kernel messages overwrite it); 0 means 1 min.
	Repaint time.Duration
	// Final: when ctx is done, draw the last frame saying the times are as
	// of then (a console keeps what it shows).
	Final bool
}

// ANSI escapes: cursor home, erase to the end of the line, erase below.
const (
	home       = "\x1b[H"
	eraseLine  = "\x1b[K"
	eraseBelow = "\x1b[J"
	eraseAll   = "\x1b[2J"
)

// Run draws src on w until ctx is done, then returns nil; it returns a
// write error (a closed terminal) at once.
func Run(ctx context.Context, src Source, w io.Writer, opts Options) error {
	interval := opts.Interval
	if interval <= 0 {
		interval = time.Second
	}
	if opts.Terminal {
		if _, err := io.WriteString(w, eraseAll); err != nil {
			return err
		}
	}
	repaint := opts.Repaint
	if repaint <= 0 {
		repaint = time.Minute
	}
	tick := time.NewTicker(interval)
	defer tick.Stop()
	var buf, last bytes.Buffer
	var painted time.Time
	// write puts the frame in buf on w when it differs from the last one
	// (or, on a terminal, when a repaint is due).
	write := func(force bool) error {
		changed := !bytes.Equal(buf.Bytes(), last.Bytes())
		var err error
		switch {
		case opts.Terminal && (changed || force || time.Since(painted) >= repaint):
			// Erase each line's tail rather than the screen: no flicker.
			frame := home + strings.ReplaceAll(buf.String(), "\n", eraseLine+"\n") + eraseBelow
			_, err = io.WriteString(w, frame)
			painted = time.Now()
		case !opts.Terminal && changed:
			_, err = w.Write(append(slices.Clone(buf.Bytes()), '\n'))
		}
		last.Reset()
		last.Write(buf.Bytes())
		return err
	}
	for {
		changed := src.Changed()
		buf.Reset()
		if err := Render(&buf, src.View(), src.Location()); err != nil {
			return err
		}
		if err := write(false); err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			if !opts.Final {
				return nil
			}
			buf.Reset()
			if err := Final(&buf, src.View(), src.Location()); err != nil {
				return err
			}
			return write(true)
		case <-tick.C:
		case <-changed:
		}
	}
}

// IsTerminal reports whether f is a character device, such as a terminal.
func IsTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
