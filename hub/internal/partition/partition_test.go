package partition

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/headway-transit/headway/hub/internal/broker"
	"github.com/headway-transit/headway/internal/wire"
)

const wait = 30 * time.Second

// hub is one Partitions, as a hub runs it, recording what it is given.
type hub struct {
	name   string
	ps     *Partitions
	cancel context.CancelFunc
	done   chan struct{}
	mu     sync.Mutex
	got    map[string][]string // vehicle -> payloads applied
	full   atomic.Bool         // its queue refuses messages
	// stopped: its engine has stopped, as a hub's does on SIGTERM, and
	// applies nothing more (nats.go may still hand the stopped pull a
	// message it had buffered: it must go back, not be counted here).
	stopped atomic.Bool
	stuck   atomic.Bool   // its engine applies nothing it queues
	queued  atomic.Int64  // queued while stuck
	stale   []func() bool // of the messages queued while stuck
}

func startHub(t *testing.T, b *broker.Broker, name string, roster func() Roster, partitions int) *hub {
	t.Helper()
	nc, js, err := b.JetStream("test-" + name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	h := &hub{name: name, got: map[string][]string{}, done: make(chan struct{})}
	topics := wire.Topics{}
	h.ps, err = New(Options{JS: js, Topics: topics, Partitions: partitions, Replicas: 1, Node: name, Roster: roster, AckWait: time.Second,
		Deliver: func(topic string, payload []byte, applied func(), stale func() bool) bool {
			if h.full.Load() || h.stopped.Load() {
				return false
			}
			if h.stuck.Load() {
				h.queued.Add(1)
				h.mu.Lock()
				h.stale = append(h.stale, stale)
				h.mu.Unlock()
				return true
			}
			v, kind, err := topics.ParseVehicleTopic(topic)
			if err != nil || kind != "position" {
				t.Errorf("%s got topic %q (%v)", name, topic, err)
			}
			h.mu.Lock()
			h.got[v] = append(h.got[v], string(payload))
			h.mu.Unlock()
			applied()
			return true
		}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	go func() { defer close(h.done); h.ps.Run(ctx) }()
	t.Cleanup(h.stop)
	return h
}

func (h *hub) stop() {
	h.stopped.Store(true)
	h.cancel()
	<-h.done
}

func (h *hub) count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, ps := range h.got {
		n += len(ps)
	}
	return n
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(wait); !cond(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// publishAll publishes one QoS 1 position from each vehicle, payload tag.
func publishAll(t *testing.T, c mqtt.Client, vehicles []string, tag string) {
	t.Helper()
	for _, v := range vehicles {
		if tok := c.Publish(wire.Topics{}.Position(v), 1, false, tag); !tok.WaitTimeout(wait) || tok.Error() != nil {
			t.Fatalf("publish: %v", tok.Error())
		}
	}
}

// TestPartitions: two hubs share the vehicles by partition, each message
// reaching exactly one of them, each vehicle always the same one; when one
// stops, the other takes its partitions over and gets what was published
// meanwhile; a hub whose queue is full gets its messages again later.
func TestPartitions(t *testing.T) {
	b, err := broker.Start(broker.Options{Addr: "127.0.0.1:0", StoreDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	var online atomic.Value
	online.Store([]string{"a", "b"})
	live := func() Roster { return Roster{Known: []string{"a", "b"}, Online: online.Load().([]string)} }
	const partitions = 6
	a := startHub(t, b, "a", live, partitions)
	bb := startHub(t, b, "b", live, partitions)
	eventually(t, "each hub pulling its 3 partitions", func() bool { return len(a.ps.Owned()) == 3 && len(bb.ps.Owned()) == 3 })

	c := mqtt.NewClient(mqtt.NewClientOptions().AddBroker(b.URL()).SetClientID("fleet").SetProtocolVersion(4))
	if tok := c.Connect(); !tok.WaitTimeout(wait) || tok.Error() != nil {
		t.Fatal(tok.Error())
	}
	t.Cleanup(func() { c.Disconnect(100) })
	var vehicles []string
	for i := range 60 {
		vehicles = append(vehicles, fmt.Sprintf("bus.%d", i)) // a '.' in ids, as MQTT allows
	}
	publishAll(t, c, vehicles, "1")
	eventually(t, "60 messages delivered", func() bool { return a.count()+bb.count() >= 60 })
	time.Sleep(200 * time.Millisecond) // any duplicate would arrive by now
	if n := a.count() + bb.count(); n != 60 {
		t.Errorf("%d deliveries of 60 messages", n)
	}
	for _, v := range vehicles {
		want := live().Owner(Of(v, partitions))
		for _, h := range []*hub{a, bb} {
			h.mu.Lock()
			n := len(h.got[v])
			h.mu.Unlock()
			if (h.name == want) != (n == 1) {
				t.Errorf("vehicle %s (partition %d, owner %s): %d messages at hub %s", v, Of(v, partitions), want, n, h.name)
			}
		}
	}
	if a.count() == 0 || bb.count() == 0 {
		t.Errorf("one hub got every vehicle: a %d, b %d", a.count(), bb.count())
	}

	// Hub b dies; a sees it gone and takes everything over, b's pins
	// expiring.
	bb.stop()
	online.Store([]string{"a"})
	before := a.count()
	publishAll(t, c, vehicles, "2")
	eventually(t, "hub a getting every vehicle's second message", func() bool { return a.count() == before+60 })

	// A full queue: messages come back until it has room.
	a.full.Store(true)
	publishAll(t, c, vehicles[:5], "3")
	time.Sleep(300 * time.Millisecond)
	a.full.Store(false)
	eventually(t, "the refused messages redelivered", func() bool { return a.count() == before+65 })
}

func TestOf(t *testing.T) {
	// nats-server's partition(): FNV-1a 32 of the token, modulo N.
	seen := map[int]bool{}
	for i := range 100 {
		p := Of(fmt.Sprintf("bus-%d", i), 12)
		if p < 0 || p >= 12 {
			t.Fatalf("partition %d", p)
		}
		seen[p] = true
	}
	if len(seen) < 10 {
		t.Errorf("100 vehicles in %d of 12 partitions", len(seen))
	}
}

// TestOwner: a partition stays with its home while it is online; a dead
// hub's partitions spread evenly over the survivors, and the survivors keep
// their own.
func TestOwner(t *testing.T) {
	all := []string{"c", "a", "b"}
	whole := Roster{Known: all, Online: all}
	count := func(r Roster) map[string][]int {
		out := map[string][]int{}
		for p := range 12 {
			out[r.Owner(p)] = append(out[r.Owner(p)], p)
		}
		return out
	}
	if got := count(whole); len(got["a"]) != 4 || len(got["b"]) != 4 || len(got["c"]) != 4 || whole.Owner(7) != "b" {
		t.Errorf("three hubs: %v, want 4 each, partition 7 b's", got)
	}
	noC := Roster{Known: all, Online: []string{"b", "a"}}
	got := count(noC)
	if len(got["a"]) != 6 || len(got["b"]) != 6 {
		t.Errorf("c offline: %v, want 6 each", got)
	}
	for p := range 12 {
		if h := whole.Owner(p); h != "c" && noC.Owner(p) != h {
			t.Errorf("c offline: partition %d moved from %s to %s", p, h, noC.Owner(p))
		}
	}
	if got := count(Roster{Known: all, Online: []string{"b"}}); len(got["b"]) != 12 {
		t.Errorf("b alone: %v", got)
	}
	// A hub online but not known yet (just joined) counts as known.
	if got := count(Roster{Known: []string{"a"}, Online: []string{"a", "b"}}); len(got["a"]) != 6 || len(got["b"]) != 6 {
		t.Errorf("b joined: %v", got)
	}
	if (Roster{Known: all}).Owner(3) != "" {
		t.Error("no hub online: want no owner")
	}
}

// TestUnappliedGoToTheNextOwner: a hub killed with messages in its queue,
// not yet applied, has not acknowledged them: the partition's next owner
// gets every one.
func TestUnappliedGoToTheNextOwner(t *testing.T) {
	b, err := broker.Start(broker.Options{Addr: "127.0.0.1:0", StoreDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	var online atomic.Value
	online.Store([]string{"a"})
	roster := func() Roster { return Roster{Known: []string{"a", "b"}, Online: online.Load().([]string)} }
	a := startHub(t, b, "a", roster, 4)
	eventually(t, "hub a pulling every partition", func() bool { return len(a.ps.Owned()) == 4 })
	c := mqtt.NewClient(mqtt.NewClientOptions().AddBroker(b.URL()).SetClientID("fleet").SetProtocolVersion(4))
	if tok := c.Connect(); !tok.WaitTimeout(wait) || tok.Error() != nil {
		t.Fatal(tok.Error())
	}
	t.Cleanup(func() { c.Disconnect(100) })
	var vehicles []string
	for i := range 20 {
		vehicles = append(vehicles, fmt.Sprintf("bus-%d", i))
	}
	a.stuck.Store(true)
	publishAll(t, c, vehicles, "1")
	eventually(t, "hub a queueing all 20", func() bool { return a.queued.Load() == 20 })
	a.stop() // killed with all 20 in its queue
	online.Store([]string{"b"})
	bb := startHub(t, b, "b", roster, 4)
	eventually(t, "hub b applying the 20 hub a never did", func() bool { return bb.count() >= 20 })
	time.Sleep(1500 * time.Millisecond) // past AckWait: any second delivery would be here
	for _, v := range vehicles {
		bb.mu.Lock()
		n := len(bb.got[v])
		bb.mu.Unlock()
		if n != 1 {
			t.Errorf("vehicle %s: applied %d times at hub b, want once", v, n)
		}
	}
}

// TestListenerStreamFirst: the MQTT listener made its stream before any
// hub ran (a bus connected first): the hub sets the partitions on it. Then,
// with no hub running, what the buses publish (acknowledged to them by the
// listener) waits in the stream, and a hub started later gets every message
// once.
func TestListenerStreamFirst(t *testing.T) {
	b, err := broker.Start(broker.Options{Addr: "127.0.0.1:0", StoreDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	c := mqtt.NewClient(mqtt.NewClientOptions().AddBroker(b.URL()).SetClientID("fleet").SetProtocolVersion(4))
	if tok := c.Connect(); !tok.WaitTimeout(wait) || tok.Error() != nil {
		t.Fatal(tok.Error())
	}
	t.Cleanup(func() { c.Disconnect(100) })
	nc, js, err := b.JetStream("test")
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if st, err := js.Stream(ctx, Stream); err != nil || st.CachedInfo().Config.SubjectTransform != nil {
		t.Fatalf("the listener's stream before any hub: %v: want one, with no transform", err)
	}
	online := func() Roster { return Roster{Online: []string{"a"}} }
	a := startHub(t, b, "a", online, 4)
	eventually(t, "hub a pulling its partitions", func() bool { return len(a.ps.Owned()) == 4 })
	a.stop()

	var vehicles []string
	for i := range 30 {
		vehicles = append(vehicles, fmt.Sprintf("bus-%d", i))
	}
	// A command to a bus is not the hubs' to take.
	if tok := c.Publish(wire.Topics{}.Commands("bus-0"), 1, false, "cmd"); !tok.WaitTimeout(wait) || tok.Error() != nil {
		t.Fatalf("publish: %v", tok.Error())
	}
	publishAll(t, c, vehicles, "1") // each acknowledged by the listener, no hub running
	a = startHub(t, b, "a", online, 4)
	for deadline := time.Now().Add(wait); a.count() < 30; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			// What the stream and its consumers hold, to tell why.
			var state []string
			dctx, dcancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer dcancel()
			for p := range 4 {
				c, err := js.Consumer(dctx, Stream, consumerName(p))
				if err != nil {
					state = append(state, fmt.Sprintf("partition %d: %v", p, err))
					continue
				}
				ci := c.CachedInfo()
				state = append(state, fmt.Sprintf("partition %d: pending %d, ack pending %d, redelivered %d, waiting %d, pinned %v",
					p, ci.NumPending, ci.NumAckPending, ci.NumRedelivered, ci.NumWaiting, ci.PriorityGroups))
			}
			t.Fatalf("%d of 30 messages delivered to the hub started later in %v; owned %v\n%s", a.count(), wait, a.ps.Owned(), strings.Join(state, "\n"))
		}
	}
	time.Sleep(300 * time.Millisecond)
	if n := a.count(); n != 30 {
		t.Errorf("%d deliveries of 30 messages", n)
	}
	for _, v := range vehicles {
		a.mu.Lock()
		n := len(a.got[v])
		a.mu.Unlock()
		if n != 1 {
			t.Errorf("vehicle %s: %d messages, want 1", v, n)
		}
	}
	// Each message acknowledged, the command terminated: the stream
	// empties. Not at once: a message the first hub's client was handed
	// as it stopped (the command, as it may be) comes again to the second
	// only after AckWait.
	for deadline := time.Now().Add(wait); ; time.Sleep(50 * time.Millisecond) {
		sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
		st, err := js.Stream(sctx, Stream)
		scancel()
		state := fmt.Sprint(err)
		if err == nil {
			if st.CachedInfo().State.Msgs == 0 {
				break
			}
			state = fmt.Sprintf("%+v", st.CachedInfo().State)
		}
		if time.Now().After(deadline) {
			t.Fatalf("stream %v after delivery: %s: want empty (each message acknowledged or terminated)", wait, state)
		}
	}
}

// TestStallFence: a hub that stalls (its process stopped) does not apply
// what it was handed before, which the stream may have handed another hub
// meanwhile, and holds back what comes just after; a hub that did not
// stall applies everything.
func TestStallFence(t *testing.T) {
	b, err := broker.Start(broker.Options{Addr: "127.0.0.1:0", StoreDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	roster := func() Roster { return Roster{Online: []string{"a"}} }
	a := startHub(t, b, "a", roster, 2)
	eventually(t, "hub a pulling its partitions", func() bool { return len(a.ps.Owned()) == 2 })
	c := mqtt.NewClient(mqtt.NewClientOptions().AddBroker(b.URL()).SetClientID("fleet").SetProtocolVersion(4))
	if tok := c.Connect(); !tok.WaitTimeout(wait) || tok.Error() != nil {
		t.Fatal(tok.Error())
	}
	t.Cleanup(func() { c.Disconnect(100) })
	a.stuck.Store(true)
	publishAll(t, c, []string{"bus-1", "bus-2", "bus-3"}, "1")
	eventually(t, "3 queued", func() bool { return a.queued.Load() == 3 })
	a.mu.Lock()
	for i, st := range a.stale {
		if st() {
			t.Errorf("message %d stale with no stall", i)
		}
	}
	a.mu.Unlock()

	// No stall: beats within stallAfter.
	now := a.ps.mono()
	if a.ps.beat(now) || a.ps.beat(now+int64(stallAfter/2)) {
		t.Fatal("a stall seen in beats stallAfter/2 apart")
	}
	// Stopped for 5 s.
	if !a.ps.beat(now + int64(stallAfter/2) + int64(5*time.Second)) {
		t.Fatal("no stall seen after 5 s without a beat")
	}
	a.mu.Lock()
	for i, st := range a.stale {
		if !st() {
			t.Errorf("message %d, handed before the stall, not stale after it", i)
		}
	}
	a.mu.Unlock()
	if a.ps.Stalls() != 1 {
		t.Errorf("%d stalls counted, want 1", a.ps.Stalls())
	}
}
