package display

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/headway-transit/headway/drivers/display/alpha"
)

// LEDTexts is b as an LED sign of lines lines shows it, one Alpha text
// file a line ('A' the first): the banner or alert first, in red, when
// there is one; then a row per departure, live ones green, scheduled amber,
// stale red; "No departures" when there are none. Lines past the sign's
// rows are sent empty, so that an old row does not linger.
func LEDTexts(b Board, lines, width int) []alpha.Text {
	var out []alpha.Text
	add := func(segs ...alpha.Segment) {
		if len(out) < lines {
			out = append(out, alpha.Text{File: byte('A' + len(out)), Position: alpha.PosFill, Mode: alpha.ModeHold, Segments: segs})
		}
	}
	switch {
	case b.Banner != "":
		add(alpha.Segment{Color: alpha.Red, Text: fit(b.Banner, width)})
	case b.Alert != "":
		add(alpha.Segment{Color: alpha.Red, Text: fit("! "+b.Alert, width)})
	}
	for _, r := range b.Rows {
		c := byte(alpha.Amber)
		switch {
		case r.Live && r.Stale:
			c = alpha.Red
		case r.Live:
			c = alpha.Green
		}
		when := r.When
		head := fit(r.Headsign, max(1, width-len(r.Route)-len(when)-2))
		pad := max(1, width-len(r.Route)-1-len(head)-len(when))
		add(alpha.Segment{Color: c, Text: r.Route + " " + head + strings.Repeat(" ", pad) + when})
	}
	if len(b.Rows) == 0 && len(out) < lines {
		add(alpha.Segment{Color: alpha.Amber, Text: fit(b.Empty, width)})
	}
	for len(out) < lines {
		add()
	}
	return out
}

// LED is a sign on a serial line. Show sends only the lines that changed;
// a line that fails is opened again on the next Show, after a pause that
// doubles up to a minute, as drivers/gps does for receivers.
type LED struct {
	Lines, Width int
	Open         func() (io.ReadWriteCloser, error) // e.g. gps.Open(path, 9600)

	mu      sync.Mutex
	port    io.ReadWriteCloser
	sent    map[byte]string // what each file shows now
	retryAt time.Time
	wait    time.Duration
	// Counters for /metrics.
	Frames, Writes, Errors uint64
}

// Show puts b on the sign.
func (l *LED) Show(b Board, now time.Time) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.port == nil {
		if now.Before(l.retryAt) {
			return fmt.Errorf("led: line closed, trying again at %s", l.retryAt.Format(time.TimeOnly))
		}
		p, err := l.Open()
		if err != nil {
			l.fail(now)
			return fmt.Errorf("led: %w", err)
		}
		l.port, l.sent, l.wait = p, map[byte]string{}, 0
	}
	l.Frames++
	for _, t := range LEDTexts(b, l.Lines, l.Width) {
		s := t.String()
		if prev, ok := l.sent[t.File]; ok && prev == s {
			continue // the sign shows it already
		}
		pkt, err := alpha.Encode(t)
		if err != nil {
			return err
		}
		if _, err := l.port.Write(pkt); err != nil {
			l.port.Close()
			l.port = nil
			l.fail(now)
			return fmt.Errorf("led: %w", err)
		}
		l.sent[t.File] = s
		l.Writes++
	}
	return nil
}

func (l *LED) fail(now time.Time) {
	l.Errors++
	l.wait = min(max(2*l.wait, time.Second), time.Minute)
	l.retryAt = now.Add(l.wait)
}

// Close closes the line.
func (l *LED) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.port == nil {
		return nil
	}
	err := l.port.Close()
	l.port = nil
	return err
}
