package alerts

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/headway-transit/headway/hub/internal/broker"
	"github.com/headway-transit/headway/internal/wire"
)

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); !cond(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// Two hubs of a cluster (one embedded broker stands for it): an alert
// posted to either is in both stores and both files, a removal too, and an
// alert one hub had in its file before joining becomes the cluster's.
func TestSharedOperators(t *testing.T) {
	b, err := broker.Start(broker.Options{Addr: "127.0.0.1:0", StoreDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	feed := demoFeed(t)
	start := func(node, file string) (*Operators, *Store) {
		nc, js, err := b.JetStream(node)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(nc.Close)
		s := NewStore(feed)
		o, err := OpenOperators(file, s, feed, nil)
		if err != nil {
			t.Fatal(err)
		}
		o.Share(js, 1, nil)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { defer close(done); o.Run(ctx) }()
		t.Cleanup(func() { cancel(); <-done })
		return o, s
	}
	dir := t.TempDir()
	fileA, fileB := filepath.Join(dir, "a.json"), filepath.Join(dir, "b.json")
	// Hub a had an alert in its file from before the cluster.
	before := `[{"id":"old","source":"operator","effect":"detour","header":"Route 3 diverted","entities":[{"route":"3"}]}]`
	if err := os.WriteFile(fileA, []byte(before), 0o600); err != nil {
		t.Fatal(err)
	}
	oa, sa := start("a", fileA)
	ob, sb := start("b", fileB)
	eventually(t, "hub a's old alert at hub b", func() bool { return len(sb.Source(Operator)) == 1 })

	var a Alert
	eventually(t, "hub b's bucket ready for a post", func() bool {
		var err error
		a, err = ob.Put(Alert{Effect: wire.EffectNoService, Header: "HAR closed", Entities: []Entity{{Stop: "HAR"}}})
		return err == nil
	})
	eventually(t, "hub b's alert at hub a, closing HAR there", func() bool {
		return len(sa.Source(Operator)) == 2 && sa.Skip("1-0-0800", "HAR", time.Now())
	})
	if _, err := oa.Put(Alert{ID: "x", Effect: wire.EffectDetour, Header: "h", Entities: []Entity{{Route: "99"}}}); err == nil {
		t.Error("a shared hub took an alert on a route not in the schedule")
	}
	if ok, err := oa.Delete(a.ID); !ok || err != nil {
		t.Fatalf("delete at hub a: %v %v", ok, err)
	}
	eventually(t, "the removal at hub b", func() bool { return len(sb.Source(Operator)) == 1 && !sb.Skip("1-0-0800", "HAR", time.Now()) })
	eventually(t, "hub b's file following the cluster", func() bool {
		b, _ := os.ReadFile(fileB)
		return strings.Contains(string(b), "Route 3 diverted") && !strings.Contains(string(b), "HAR closed")
	})
}
