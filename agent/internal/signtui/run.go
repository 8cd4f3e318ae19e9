package signtui

import (
	"bytes"
	"context"
	"io"
	"os"
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
	Interval time.Duration // between redraws; 0 means 1 s
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
	tick := time.NewTicker(interval)
	defer tick.Stop()
	var buf, last bytes.Buffer
	for {
		changed := src.Changed()
		buf.Reset()
		if err := Render(&buf, src.View(), src.Location()); err != nil {
			return err
		}
		var err error
		switch {
		case opts.Terminal:
			// Erase each line's tail rather than the screen: no flicker.
			frame := home + strings.ReplaceAll(buf.String(), "\n", eraseLine+"\n") + eraseBelow
			_, err = io.WriteString(w, frame)
		case !bytes.Equal(buf.Bytes(), last.Bytes()):
			last.Reset()
			last.Write(buf.Bytes())
			buf.WriteString("\n")
			_, err = w.Write(buf.Bytes())
		}
		if err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return nil
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
