package push_test

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/headway-transit/headway/hub/internal/push"
)

// TestIdleSignHasOneGoroutine: an idle sign costs the hub one goroutine,
// its reader; a writer runs only while there is something to write (the
// memory per connection, BENCHMARKS.md, rests on this).
func TestIdleSignHasOneGoroutine(t *testing.T) {
	_, url := start(t, push.Options{})
	const n = 100
	settle := func() int {
		var last int
		for range 50 {
			runtime.GC()
			time.Sleep(20 * time.Millisecond)
			if g := runtime.NumGoroutine(); g == last {
				return g
			} else {
				last = g
			}
		}
		return last
	}
	before := settle()
	for i := range n {
		c := dial(t, url, nil)
		subscribe(t, c, fmt.Sprintf("sign-%d", i), "A")
		read(t, c) // board
		read(t, c) // timetable
	}
	// n client connections in this process add no goroutine (none reads
	// now); the hub adds its readers, and httptest's server nothing more.
	if per := float64(settle()-before) / n; per > 1.05 {
		t.Errorf("%.2f goroutines per idle sign, want 1 (its reader)", per)
	}
}

// TestPings: Run pings every sign every PingEvery.
func TestPings(t *testing.T) {
	s, url := start(t, push.Options{PingEvery: 50 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go s.Run(ctx)
	c := dial(t, url, nil)
	subscribe(t, c, "sign-1", "A")
	var pings atomic.Int64
	c.SetPingHandler(func(string) error { pings.Add(1); return nil })
	go func() {
		for {
			if _, _, err := c.ReadMessage(); err != nil {
				return
			}
		}
	}()
	deadline := time.Now().Add(5 * time.Second)
	for pings.Load() < 3 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if pings.Load() < 3 {
		t.Errorf("%d pings in 5 s at PingEvery 50 ms", pings.Load())
	}
}

// TestMessageFlood: a client that sends messages faster than the hub
// handles them is cut off with a clear error, not queued without end.
func TestMessageFlood(t *testing.T) {
	_, url := start(t, push.Options{})
	c := dial(t, url, nil)
	subscribe(t, c, "sign-1", "A")
	hb := []byte(`{"type":"heartbeat","display":"sign-1","version":"test","cache_age_s":0}`)
	for range 100_000 {
		if err := c.WriteMessage(websocket.TextMessage, hb); err != nil {
			break // cut off
		}
	}
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	var last []byte
	for {
		_, msg, err := c.ReadMessage()
		if err != nil {
			if !websocket.IsCloseError(err, websocket.ClosePolicyViolation) {
				t.Fatalf("flood ended with %v, want close 1008 (policy violation)", err)
			}
			break
		}
		last = msg
	}
	if !strings.Contains(string(last), "messages waiting") {
		t.Errorf("last message before the close: %s", last)
	}
}
