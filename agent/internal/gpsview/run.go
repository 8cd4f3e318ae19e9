package gpsview

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/headway-transit/headway/drivers/gps"
	"github.com/headway-transit/headway/drivers/nmea"
)

// Receiver is what the view needs of a drivers/gps.Receiver.
type Receiver interface {
	Run(ctx context.Context, out chan<- nmea.Fix) error
	Stats() gps.Stats
}

// Options configures Run. The zero value refreshes plain snapshots every
// second.
type Options struct {
	Port     string        // the device, shown in the header
	Interval time.Duration // between frames; 0 means 1 s
	Window   time.Duration // sentence rates are averaged over it; 0 means 5 s
	// Terminal redraws the frame in place with ANSI escapes; otherwise
	// each frame is printed after the previous one, for files and pipes.
	Terminal bool
	// Once prints a single snapshot and returns: at the first frame after
	// a fix arrived, or after Wait. Without a fix by then Run prints the
	// snapshot anyway and returns an error.
	Once bool
	Wait time.Duration    // Once: how long to wait for a fix; 0 means 10 s
	Now  func() time.Time // the clock for ages and rates; nil means time.Now
}

// ANSI escapes: cursor home, erase to the end of the line, erase below,
// erase the screen.
const (
	home       = "\x1b[H"
	eraseLine  = "\x1b[K"
	eraseBelow = "\x1b[J"
	eraseAll   = "\x1b[2J"
)

// Run runs rx and draws its state on w every opts.Interval until ctx is
// done (or once, with opts.Once). It stops rx and waits for it before
// returning. It returns nil when ctx ends it, and rx's error if rx stops
// on its own.
func Run(ctx context.Context, rx Receiver, w io.Writer, opts Options) error {
	interval := cmpOr(opts.Interval, time.Second)
	window := cmpOr(opts.Window, 5*time.Second)
	wait := cmpOr(opts.Wait, 10*time.Second)
	now := opts.Now
	if now == nil {
		now = time.Now
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	fixes := make(chan nmea.Fix)
	rxDone := make(chan error, 1)
	go func() { rxDone <- rx.Run(ctx, fixes) }()
	defer func() {
		cancel()
		<-rxDone
	}()

	r := rates{window: window}
	start := now()
	r.add(start, sentenceCounts(rx.Stats()))
	tick := time.NewTicker(interval)
	defer tick.Stop()
	var frame bytes.Buffer
	first := true
	for {
		select {
		case <-ctx.Done():
			return nil
		case err := <-rxDone:
			rxDone <- err // for the deferred wait
			if ctx.Err() != nil {
				return nil // it stopped because we are stopping
			}
			if err == nil {
				err = errors.New("no error")
			}
			return fmt.Errorf("gps receiver stopped: %w", err)
		case <-fixes:
			// The view shows Stats, which carry the latest fix.
			continue
		case <-tick.C:
		}
		t := now()
		st := rx.Stats()
		rt, span := r.add(t, sentenceCounts(st))
		snap := Snapshot{Port: opts.Port, Stats: st, Rates: rt, Span: span}
		frame.Reset()
		if err := Render(&frame, snap, t); err != nil {
			return err
		}
		switch {
		case opts.Once:
			gotFix := !st.LastFixAt.IsZero()
			if !gotFix && t.Sub(start) < wait {
				continue
			}
			if _, err := w.Write(frame.Bytes()); err != nil {
				return err
			}
			if !gotFix {
				return fmt.Errorf("no position fix from %s within %v (see the snapshot above)", opts.Port, wait)
			}
			return nil
		case opts.Terminal:
			if err := writeInPlace(w, frame.Bytes(), first); err != nil {
				return err
			}
		default:
			if !first {
				frame.WriteString("\n")
			}
			if _, err := w.Write(frame.Bytes()); err != nil {
				return err
			}
		}
		first = false
	}
}

// writeInPlace redraws frame over the previous one: the cursor goes home,
// each line erases what remains of the longer line before it, and what
// is below the frame is erased. Clearing the whole screen each second
// would flicker.
func writeInPlace(w io.Writer, frame []byte, first bool) error {
	var b bytes.Buffer
	if first {
		b.WriteString(eraseAll)
	}
	b.WriteString(home)
	b.Write(bytes.ReplaceAll(frame, []byte("\n"), []byte(eraseLine+"\n")))
	b.WriteString(eraseBelow)
	_, err := w.Write(b.Bytes())
	return err
}

func cmpOr(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

// IsTerminal reports whether f is a character device, such as a terminal:
// then the view redraws in place. It needs no terminal library; /dev/null
// passes too, which is harmless.
func IsTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
