package ingest_test

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/headway-transit/headway/hub/internal/broker"
	"github.com/headway-transit/headway/hub/internal/ingest"
	"github.com/headway-transit/headway/internal/mqttconn"
	"github.com/headway-transit/headway/internal/wire"
)

func TestReceivesAndDropsWhenFull(t *testing.T) {
	b, in := start(t, 4)
	deadline := time.Now().Add(10 * time.Second)
	for !in.Subscribed() {
		if time.Now().After(deadline) {
			t.Fatal("ingest never subscribed")
		}
		time.Sleep(10 * time.Millisecond)
	}

	pub := mqtt.NewClient(mqtt.NewClientOptions().AddBroker(b.URL()).SetClientID("bus"))
	if tok := pub.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatal(tok.Error())
	}
	defer pub.Disconnect(100)
	topic := wire.Topics{}.Position("bus-1")
	for i := 0; i < 20; i++ {
		if tok := pub.Publish(topic, 1, false, []byte(`{"n":1}`)); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
			t.Fatal(tok.Error())
		}
	}
	pub.Publish("headway/v1/other", 1, false, []byte("ignored")).WaitTimeout(time.Second)
	deadline = time.Now().Add(10 * time.Second)
	for in.Received() < 20 {
		if time.Now().After(deadline) {
			t.Fatalf("received %d of 20", in.Received())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if got := len(in.Messages()); got != 4 {
		t.Errorf("queue holds %d, want 4 (its bound)", got)
	}
	if d := in.Dropped(); d != 16 {
		t.Errorf("dropped %d, want 16", d)
	}
	m := <-in.Messages()
	if m.Topic != topic || string(m.Payload) != `{"n":1}` || m.Received.IsZero() {
		t.Errorf("message %+v", m)
	}
}

func TestBoardsAreRetained(t *testing.T) {
	b, in := start(t, 4)
	// Queued before the connection may be up: the broker ends up
	// retaining the latest board of the stop.
	in.PublishBoard("S1", []byte(`{"n":1}`))
	in.PublishBoard("S1", []byte(`{"n":2}`))
	got := make(chan string, 4)
	deadline := time.Now().Add(10 * time.Second)
	for {
		sub := mqtt.NewClient(mqtt.NewClientOptions().AddBroker(b.URL()).SetClientID("sign"))
		if tok := sub.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
			t.Fatal(tok.Error())
		}
		tok := sub.Subscribe(wire.Topics{}.Board("S1"), 1, func(_ mqtt.Client, m mqtt.Message) {
			if m.Retained() {
				got <- string(m.Payload())
			}
		})
		tok.WaitTimeout(5 * time.Second)
		select {
		case p := <-got:
			sub.Disconnect(100)
			if p != `{"n":2}` {
				t.Fatalf("retained board %s, want the latest", p)
			}
			return
		case <-time.After(300 * time.Millisecond):
		}
		sub.Disconnect(100)
		if time.Now().After(deadline) {
			t.Fatal("no retained board")
		}
	}
}

// start runs an embedded broker and an Ingest with a queue of n on it, both
// stopped when the test ends.
func start(t *testing.T, n int) (*broker.Broker, *ingest.Ingest) {
	t.Helper()
	b, err := broker.Start(broker.Options{Addr: "127.0.0.1:0", Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	in, err := ingest.New(ingest.Options{
		Conn:   mqttconn.Config{URLs: []string{b.URL()}, ClientID: "hub-test", CleanSession: true},
		Topics: wire.Topics{},
		Queue:  n,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- in.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
	return b, in
}

// TestStatusesDoNotHoldBackPositions subscribes as the hub does
// (PositionQoS, StatusQoS) on the embedded broker, with the subscriber
// stalled (as a hub starved of CPU: no acknowledgements) while buses send
// statuses and then more positions than the broker lets a session have
// unacknowledged. Once it reads again, every position arrives at once: none
// is held back for the broker's 30 s redelivery, as some were when
// statuses, at QoS 1 too, took part of the session's allowance.
func TestStatusesDoNotHoldBackPositions(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: publishes 1,500 QoS 1 messages")
	}
	b, err := broker.Start(broker.Options{Addr: "127.0.0.1:0", Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	topics := wire.Topics{}
	release := make(chan struct{})
	var once sync.Once
	var positions atomic.Int64
	stall := func() { once.Do(func() { <-release }) }
	hub := mqtt.NewClient(mqtt.NewClientOptions().AddBroker(b.URL()).SetClientID("hub"))
	if tok := hub.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatal(tok.Error())
	}
	defer hub.Disconnect(100)
	for _, s := range []struct {
		filter string
		qos    byte
		count  *atomic.Int64
	}{{topics.AllPositions(), ingest.PositionQoS, &positions}, {topics.AllStatus(), ingest.StatusQoS, nil}} {
		tok := hub.Subscribe(s.filter, s.qos, func(_ mqtt.Client, m mqtt.Message) {
			stall() // paho acknowledges once the handler returns
			if s.count != nil {
				s.count.Add(1)
			}
		})
		if !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
			t.Fatalf("subscribe %s: %v", s.filter, tok.Error())
		}
	}

	bus := mqtt.NewClient(mqtt.NewClientOptions().AddBroker(b.URL()).SetClientID("buses"))
	if tok := bus.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatal(tok.Error())
	}
	defer bus.Disconnect(100)
	publish := func(topic string, payload string) {
		if tok := bus.Publish(topic, 1, false, payload); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
			t.Fatalf("publish %s: %v", topic, tok.Error())
		}
	}
	const statuses, sent = 100, 1500
	for i := range statuses {
		publish(topics.Status(fmt.Sprintf("bus-%d", i)), `{"state":"online"}`)
	}
	for i := range sent {
		publish(topics.Position(fmt.Sprintf("bus-%d", i%statuses)), fmt.Sprintf(`{"seq":%d}`, i/statuses+1))
	}
	close(release)
	deadline := time.Now().Add(15 * time.Second)
	for positions.Load() < sent {
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d positions 15 s after the hub read again: the rest wait for the broker's redelivery", positions.Load(), sent)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
