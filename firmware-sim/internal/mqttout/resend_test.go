package mqttout_test

import (
	"context"
	"errors"
	"math"
	"sync"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/headway-transit/headway/drivers/nmea"
	"github.com/headway-transit/headway/firmware-sim/internal/mqttout"
	"github.com/headway-transit/headway/internal/mqttconn"
)

// token is a finished publish, failed or not.
type token struct{ err error }

func (t token) Wait() bool                     { return true }
func (t token) WaitTimeout(time.Duration) bool { return true }
func (t token) Done() <-chan struct{}          { c := make(chan struct{}); close(c); return c }
func (t token) Error() error                   { return t.err }

// flaky is a client whose broker drops every message's first send (the
// connection closed before the acknowledgement, as a clustered broker does
// while its stream elects a leader) and acknowledges the second.
type flaky struct {
	mu    sync.Mutex
	tries map[string]int // payload -> sends
}

func (f *flaky) Connect() mqtt.Token { return token{} }
func (f *flaky) Disconnect(uint)     {}
func (f *flaky) Subscribe(string, byte, mqtt.MessageHandler) mqtt.Token {
	return token{}
}
func (f *flaky) IsConnectionOpen() bool { return true }
func (f *flaky) Publish(topic string, qos byte, retained bool, payload any) mqtt.Token {
	f.mu.Lock()
	defer f.mu.Unlock()
	k := topic + string(payload.([]byte))
	f.tries[k]++
	if f.tries[k] == 1 {
		return token{errors.New("connection lost before Publish completed")}
	}
	return token{}
}

// TestResendUnacknowledged: a fix the broker did not acknowledge is sent
// again, as a vehicle agent's outbox does, and counted as a failed send.
func TestResendUnacknowledged(t *testing.T) {
	f := &flaky{tries: map[string]int{}}
	p, err := mqttout.New(mqttout.Options{URL: "tcp://127.0.0.1:1", Clients: 1, ClientID: "t",
		Factory: func(*mqtt.ClientOptions) mqttconn.Client { return f }}, []string{"bus-1"})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Connect(context.Background()); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		p.Publish(0, nmea.Fix{Mode: nmea.Mode3D, Lat: 45, Lon: 9 + float64(i)/1000, Time: time.Now(),
			Speed: math.NaN(), Track: math.NaN(), HDOP: math.NaN(), Sats: -1}, "")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := p.Close(ctx); err != nil {
		t.Fatal(err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	// The online status, three fixes, the offline status: each sent twice.
	if len(f.tries) != 5 {
		t.Errorf("%d distinct messages, want 5", len(f.tries))
	}
	for k, n := range f.tries {
		if n != 2 {
			t.Errorf("%q sent %d times, want 2", k, n)
		}
	}
	if c := p.Counts(); c.Failed != 5 || c.Published != 3 {
		t.Errorf("counts %+v, want 3 published, 5 failed sends", c)
	}
}
