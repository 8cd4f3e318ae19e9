package mqttout_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
	"github.com/nats-io/nats-server/v2/server"

	"github.com/headway-transit/headway/firmware-sim/internal/fleet"
	"github.com/headway-transit/headway/firmware-sim/internal/motion"
	"github.com/headway-transit/headway/firmware-sim/internal/mqttout"
	"github.com/headway-transit/headway/internal/gtfs"
	"github.com/headway-transit/headway/internal/wire"
)

const demoFeed = "../../../configs/demo-feed"

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// mosquitto starts a real Mosquitto on a free port for the test.
func mosquitto(t testing.TB) string {
	t.Helper()
	bin, err := exec.LookPath("mosquitto")
	if err != nil {
		if _, serr := os.Stat("/usr/sbin/mosquitto"); serr != nil {
			t.Skip("mosquitto is not installed (apt-get install mosquitto)")
		}
		bin = "/usr/sbin/mosquitto"
	}
	port := freePort(t)
	conf := filepath.Join(t.TempDir(), "mosquitto.conf")
	if err := os.WriteFile(conf, fmt.Appendf(nil, "listener %d 127.0.0.1\nallow_anonymous true\nmax_queued_messages 10000\n", port), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-c", conf)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	for deadline := time.Now().Add(10 * time.Second); ; {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("mosquitto did not start listening")
		}
		time.Sleep(20 * time.Millisecond)
	}
	return "tcp://" + addr
}

// embedded starts nats-server with its MQTT listener in the test process,
// as the hub embeds it (the hub's own broker package is internal to the
// hub).
func embedded(t testing.TB) string {
	t.Helper()
	srv, err := server.NewServer(&server.Options{ServerName: "mqttout-test", DontListen: true, JetStream: true,
		StoreDir: t.TempDir(), NoSigs: true, MQTT: server.MQTTOpts{Host: "127.0.0.1", Port: -1}})
	if err != nil {
		t.Fatal(err)
	}
	go srv.Start()
	if !srv.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats-server not ready in 10 s")
	}
	t.Cleanup(srv.Shutdown)
	vz, err := srv.Varz(nil)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("tcp://127.0.0.1:%d", vz.MQTT.Port)
}

// collector subscribes to every vehicle topic and keeps what arrives.
type collector struct {
	mu       sync.Mutex
	pos      map[string][]wire.Position
	status   map[string]wire.Status
	bad      []string
	received int
}

func subscribe(t testing.TB, url string, topics wire.Topics) *collector {
	t.Helper()
	c := &collector{pos: map[string][]wire.Position{}, status: map[string]wire.Status{}}
	o := mqtt.NewClientOptions().AddBroker(url).SetClientID("test-collector").SetOrderMatters(true)
	cl := mqtt.NewClient(o)
	if tok := cl.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("collector connect: %v", tok.Error())
	}
	t.Cleanup(func() { cl.Disconnect(100) })
	handler := func(_ mqtt.Client, m mqtt.Message) {
		c.mu.Lock()
		defer c.mu.Unlock()
		vehicle, kind, err := topics.ParseVehicleTopic(m.Topic())
		if err != nil {
			c.bad = append(c.bad, err.Error())
			return
		}
		switch kind {
		case wire.KindPosition:
			p, err := wire.DecodePosition(m.Payload())
			if err != nil || p.Vehicle != vehicle {
				c.bad = append(c.bad, fmt.Sprintf("%s: %v %s", m.Topic(), err, m.Payload()))
				return
			}
			c.pos[vehicle] = append(c.pos[vehicle], p)
			c.received++
		case wire.KindStatus:
			s, err := wire.DecodeStatus(m.Payload())
			if err != nil {
				c.bad = append(c.bad, fmt.Sprintf("%s: %v", m.Topic(), err))
				return
			}
			c.status[vehicle] = s
		}
	}
	for _, f := range []string{topics.AllPositions(), topics.AllStatus()} {
		if tok := cl.Subscribe(f, 1, handler); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
			t.Fatalf("subscribe %s: %v", f, tok.Error())
		}
	}
	return c
}

// A fleet of 20 buses publishes straight to a broker as 20 agents would:
// every message decodes, each vehicle's seq grows by one per fix from 1,
// and each vehicle is announced online, then offline.
func TestFleetPublishes(t *testing.T) {
	if _, err := os.Stat(demoFeed); err != nil {
		t.Skipf("no demo feed: %v", err)
	}
	feed, err := gtfs.Load(demoFeed)
	if err != nil {
		t.Fatal(err)
	}
	const vehicles, seconds = 20, 15
	tests := []struct {
		name    string
		broker  func(testing.TB) string
		clients int
	}{
		{"mosquitto, a client per vehicle", mosquitto, 0},
		{"mosquitto, a pool of 3", mosquitto, 3},
		{"embedded nats-server, a client per vehicle", embedded, 0},
		{"embedded nats-server, a pool of 3", embedded, 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			url := tc.broker(t)
			topics := wire.Topics{Prefix: "test/v1"}
			col := subscribe(t, url, topics)
			var names []string
			for i := range vehicles {
				names = append(names, fmt.Sprintf("sim-%d", i))
			}
			pub, err := mqttout.New(mqttout.Options{URL: url, Prefix: topics.Prefix, Clients: tc.clients, ClientID: "t", SendTrip: true}, names)
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			if err := pub.Connect(ctx); err != nil {
				t.Fatal(err)
			}
			fl, err := fleet.New(fleet.Options{
				Feed: feed, Routes: []string{"1", "2", "3"}, Vehicles: vehicles,
				Start: time.Date(2026, 11, 27, 8, 13, 0, 0, feed.Location), Speedup: 100, Duration: seconds * time.Second,
				Seed: 1, Motion: motion.DefaultConfig(), Publisher: pub,
				Name: func(i int) string { return names[i] },
			})
			if err != nil {
				t.Fatal(err)
			}
			if err := fl.Run(ctx); err != nil {
				t.Fatal(err)
			}
			if err := pub.Close(ctx); err != nil {
				t.Fatal(err)
			}
			if c := pub.Counts(); c.Published != vehicles*seconds || c.Failed != 0 {
				t.Errorf("counts %+v, want %d published, none failed", c, vehicles*seconds)
			}
			// QoS 1 end to end: all acknowledged, so all delivered soon.
			for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
				col.mu.Lock()
				n, off := col.received, 0
				for _, s := range col.status {
					if s.State == wire.StateOffline {
						off++
					}
				}
				col.mu.Unlock()
				if n >= vehicles*seconds && off == vehicles || time.Now().After(deadline) {
					break
				}
			}
			col.mu.Lock()
			defer col.mu.Unlock()
			if len(col.bad) > 0 {
				t.Fatalf("%d bad messages, first: %s", len(col.bad), col.bad[0])
			}
			for i, name := range names {
				got := col.pos[name]
				if len(got) != seconds {
					t.Errorf("%s: %d positions, want %d", name, len(got), seconds)
					continue
				}
				for k, p := range got {
					if p.Seq != uint64(k+1) {
						t.Fatalf("%s: message %d has seq %d, want %d", name, k, p.Seq, k+1)
					}
					if p.Trip == "" || p.Backfill || p.Mode != 3 {
						t.Errorf("%s: %+v", name, p)
					}
				}
				if pub.Seq(i) != seconds {
					t.Errorf("%s: last seq %d", name, pub.Seq(i))
				}
				if s := col.status[name]; s.State != wire.StateOffline {
					t.Errorf("%s: status %q after Close, want offline", name, s.State)
				}
			}
		})
	}
}
