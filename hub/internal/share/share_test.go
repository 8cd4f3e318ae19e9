package share

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/headway-transit/headway/hub/internal/boards"
	"github.com/headway-transit/headway/hub/internal/broker"
	"github.com/headway-transit/headway/hub/internal/engine"
)

// fakeEngine records what a Share hands it (the engine's side is tested in
// package engine).
type fakeEngine struct {
	mu    sync.Mutex
	runs  map[boards.TripKey]engine.SharedRun
	drops []string
	obs   []engine.Observation
}

func (f *fakeEngine) RemoteObservation(o engine.Observation) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.obs = append(f.obs, o)
}

func (f *fakeEngine) Remote(r engine.SharedRun) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if r.Rows == nil {
		delete(f.runs, r.Key)
		return
	}
	f.runs[r.Key] = r
}

func (f *fakeEngine) DropNode(n string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.drops = append(f.drops, n)
}

func (f *fakeEngine) get(k boards.TripKey) (engine.SharedRun, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	r, ok := f.runs[k]
	return r, ok
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); !cond(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// TestShare: two hubs on one broker. What one puts reaches the other's
// engine, not its own; a run it stops predicting goes; a run put before the
// other joined reaches it when it does; a hub going offline is dropped.
func TestShare(t *testing.T) {
	b, err := broker.Start(broker.Options{Addr: "127.0.0.1:0", StoreDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	var mu sync.Mutex
	online := []string{"a", "b"}
	live := func() []string { mu.Lock(); defer mu.Unlock(); return append([]string(nil), online...) }
	start := func(node string) (*Share, *fakeEngine) {
		nc, js, err := b.JetStream(node)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(nc.Close)
		eng := &fakeEngine{runs: map[boards.TripKey]engine.SharedRun{}}
		s, err := New(Options{NC: nc, JS: js, Node: node, Engine: eng, Online: live, Every: 50 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { defer close(done); s.Run(ctx) }()
		t.Cleanup(func() { cancel(); <-done })
		return s, eng
	}
	sa, ea := start("a")
	eventually(t, "hub a's bucket", sa.Ready)
	early := boards.TripKey{Trip: "T 1/ä", DayStart: 1764201600} // any characters in a trip id
	at := time.Date(2026, 11, 27, 8, 6, 0, 0, time.UTC)
	sa.Put(early, map[int]boards.Realtime{3: {Vehicle: "bus-1", Predicted: at}})

	sb, eb := start("b")
	eventually(t, "hub b's bucket", sb.Ready)
	eventually(t, "the run hub a put before hub b started, at hub b", func() bool {
		r, ok := eb.get(early)
		return ok && r.Node == "a" && r.Rows[3].Vehicle == "bus-1" && r.Rows[3].Predicted.Equal(at)
	})
	later := boards.TripKey{Trip: "T2", DayStart: 1764201600}
	sb.Put(later, map[int]boards.Realtime{0: {Vehicle: "bus-2", Status: boards.StatusAtTerminal}})
	eventually(t, "hub b's run at hub a", func() bool {
		r, ok := ea.get(later)
		return ok && r.Node == "b" && r.Rows[0].Status == boards.StatusAtTerminal
	})
	if _, ok := ea.get(early); ok {
		t.Error("hub a was handed its own run")
	}
	// What hub a's bus taught its model reaches hub b's, not hub a's.
	sa.Observe(engine.Observation{Trip: "T2", DayStart: 1764201600, Next: 3})
	eventually(t, "hub a's observation at hub b", func() bool {
		eb.mu.Lock()
		defer eb.mu.Unlock()
		return len(eb.obs) == 1 && eb.obs[0].Trip == "T2" && eb.obs[0].Next == 3
	})
	ea.mu.Lock()
	if len(ea.obs) != 0 {
		t.Error("hub a was handed its own observation")
	}
	ea.mu.Unlock()

	sa.Put(early, nil)
	eventually(t, "the run hub a stopped predicting gone from hub b", func() bool { _, ok := eb.get(early); return !ok })

	mu.Lock()
	online = []string{"a"}
	mu.Unlock()
	eventually(t, "hub b dropped at hub a", func() bool {
		ea.mu.Lock()
		defer ea.mu.Unlock()
		return len(ea.drops) == 1 && ea.drops[0] == "b"
	})
}

func TestKey(t *testing.T) {
	for _, k := range []boards.TripKey{{Trip: "E0800", DayStart: 1}, {Trip: "a.b c/ä*>", DayStart: 1764201600}} {
		got, err := ParseKey(Key(k))
		if err != nil || got != k {
			t.Errorf("ParseKey(Key(%+v)) = %+v, %v", k, got, err)
		}
	}
	for _, bad := range []string{"", "r.x", "q.RTA.1", "r.!!.1", "r.RTA.x"} {
		if _, err := ParseKey(bad); err == nil {
			t.Errorf("ParseKey(%q) took it", bad)
		}
	}
}
