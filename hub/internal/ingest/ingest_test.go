package ingest_test

import (
	"context"
	"log/slog"
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
