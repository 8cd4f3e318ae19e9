package broker

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"
)

// quiet is a slog.Handler that passes a record on once per every for each
// distinct message (level, text and attributes), counting the ones it
// holds back and saying how many with the next one it passes. The broker logs
// each refused login: a bus with a wrong password retries every second,
// and the hub's log would be nothing else.
type quiet struct {
	next  slog.Handler
	every time.Duration
	now   func() time.Time
	st    *quietState
}

type quietState struct {
	mu   sync.Mutex
	seen map[string]*quietEntry
}

type quietEntry struct {
	at   time.Time
	held int
}

// quietKeys bounds the distinct messages remembered; past it they are
// forgotten at once (messages with addresses in them are all distinct).
const quietKeys = 256

func newQuiet(next slog.Handler, every time.Duration, now func() time.Time) *quiet {
	return &quiet{next: next, every: every, now: now, st: &quietState{seen: map[string]*quietEntry{}}}
}

func (q *quiet) Enabled(ctx context.Context, l slog.Level) bool { return q.next.Enabled(ctx, l) }

func (q *quiet) Handle(ctx context.Context, r slog.Record) error {
	if r.Level < slog.LevelWarn {
		return q.next.Handle(ctx, r)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%v\x00%s", r.Level, r.Message)
	r.Attrs(func(a slog.Attr) bool {
		fmt.Fprintf(&b, "\x00%s=%v", a.Key, a.Value)
		return true
	})
	key := b.String()
	now := q.now()
	q.st.mu.Lock()
	e := q.st.seen[key]
	if e != nil && now.Sub(e.at) < q.every {
		e.held++
		q.st.mu.Unlock()
		return nil
	}
	held := 0
	if e != nil {
		held = e.held
	}
	if len(q.st.seen) >= quietKeys {
		clear(q.st.seen)
	}
	q.st.seen[key] = &quietEntry{at: now}
	q.st.mu.Unlock()
	if held > 0 {
		r = r.Clone()
		r.AddAttrs(slog.Int("repeated", held))
	}
	return q.next.Handle(ctx, r)
}

func (q *quiet) WithAttrs(as []slog.Attr) slog.Handler {
	return &quiet{next: q.next.WithAttrs(as), every: q.every, now: q.now, st: &quietState{seen: map[string]*quietEntry{}}}
}

func (q *quiet) WithGroup(name string) slog.Handler {
	return &quiet{next: q.next.WithGroup(name), every: q.every, now: q.now, st: &quietState{seen: map[string]*quietEntry{}}}
}
