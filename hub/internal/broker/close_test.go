//go:build !race

// This test runs without the race detector only (make test runs it so):
// nats-server v2.15.3 reads an MQTT client's id, when it records a closed
// connection (server.go saveClosedClient -> mqtt.go getMQTTClientID), while
// the connection's read loop may still be writing it (mqtt.go
// mqttParseConnect), and a broker closed while clients connect is exactly
// that; the detector then fails the test on the server's race, not ours.

package broker

import (
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
)

// TestCloseWhileClientsChurn: the broker closes while clients connect and
// go, as a hub stops while buses reconnect: Close must return. (The
// broker embedded before nats-server, mochi-mqtt, could deadlock here.)
func TestCloseWhileClientsChurn(t *testing.T) {
	for i := range 20 {
		b, err := Start(Options{Addr: "127.0.0.1:0", Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatal(err)
		}
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for c := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for n := 0; ; n++ {
					select {
					case <-stop:
						return
					default:
					}
					cl := mqtt.NewClient(mqtt.NewClientOptions().AddBroker(b.URL()).
						SetClientID(fmt.Sprintf("churn-%d-%d", c, n%3)). // ids reused: takeovers too
						SetAutoReconnect(false).SetConnectRetry(false).SetConnectTimeout(time.Second))
					if tok := cl.Connect(); tok.WaitTimeout(2*time.Second) && tok.Error() == nil {
						cl.Disconnect(0)
					}
				}
			}()
		}
		time.Sleep(20 * time.Millisecond) // let the churn start
		closed := make(chan error, 1)
		go func() { closed <- b.Close() }()
		select {
		case <-closed:
		case <-time.After(30 * time.Second):
			t.Fatalf("round %d: Close did not return in 30 s with clients churning", i)
		}
		close(stop)
		wg.Wait()
	}
}
