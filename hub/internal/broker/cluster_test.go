package broker

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/headway-transit/headway/internal/tlsfiles"
	"github.com/headway-transit/headway/internal/tlsfiles/tlstest"
	"github.com/headway-transit/headway/internal/wire"
)

// startCluster starts n brokers forming one cluster, each given every
// route as a deployment's hub.yaml would.
func startCluster(t *testing.T, n int, topics wire.Topics) []*Broker {
	return startClusterSecret(t, n, topics, testSecret)
}

const testSecret = "route-secret-for-tests"

func startClusterSecret(t *testing.T, n int, topics wire.Topics, secret string) []*Broker {
	t.Helper()
	return startClusterTLS(t, n, topics, secret, nil)
}

// startClusterTLS is startClusterSecret with each server's routes on the
// TLS configuration tlsFor(i) gives (nil: plain).
func startClusterTLS(t *testing.T, n int, topics wire.Topics, secret string, tlsFor func(i int) *tls.Config) []*Broker {
	t.Helper()
	var listen, routes []string
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		listen = append(listen, ln.Addr().String())
		routes = append(routes, "nats-route://"+ln.Addr().String())
		ln.Close()
	}
	var out []*Broker
	for i := range n {
		c := &Cluster{Name: "test", Node: fmt.Sprintf("hub-%c", 'a'+i), Listen: listen[i], Routes: routes, Secret: secret}
		if tlsFor != nil {
			c.TLS = tlsFor(i)
		}
		b, err := Start(Options{Addr: "127.0.0.1:0", Topics: topics, StoreDir: t.TempDir(), Cluster: c})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { b.Close() })
		out = append(out, b)
	}
	return out
}

// connectEventually connects once the cluster lets MQTT clients in: MQTT
// needs JetStream, which needs a leader elected among the servers.
func connectEventually(t *testing.T, o *mqtt.ClientOptions) mqtt.Client {
	t.Helper()
	deadline := time.Now().Add(wait)
	for {
		c := mqtt.NewClient(o)
		tok := c.Connect()
		if tok.WaitTimeout(wait) && tok.Error() == nil {
			t.Cleanup(func() { c.Disconnect(100) })
			return c
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: connect: %v", o.ClientID, tok.Error())
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// TestCluster: three hubs' brokers form one cluster. A fix published on one
// reaches a subscriber on another; a retained board published on one is
// kept for a sign on another, and outlives the server it was published
// on; a bus whose server dies goes on through another.
func TestCluster(t *testing.T) {
	topics := wire.Topics{}
	bs := startCluster(t, 3, topics)
	for _, b := range bs {
		if !strings.HasPrefix(b.ClusterAddr(), "127.0.0.1:") {
			t.Fatalf("cluster address %q", b.ClusterAddr())
		}
	}
	hub := connectEventually(t, connectOpts(bs[2], "hub", "", ""))
	var st ClusterState
	for deadline := time.Now().Add(wait); ; time.Sleep(100 * time.Millisecond) {
		st = bs[2].ClusterState()
		if online(st) == 3 || time.Now().After(deadline) {
			break
		}
	}
	if !st.Clustered || st.Cluster != "test" || st.Node != "hub-c" || st.Leader == "" || online(st) != 3 || !st.Nodes[2].Self {
		t.Errorf("cluster state %+v: want hub-a, hub-b and hub-c online, hub-c itself, a leader", st)
	}
	got := make(chan mqtt.Message, 16)
	subscribe(t, hub, topics.AllPositions(), got)

	// A replicated stream's leader is reported.
	nc, js, err := bs[2].JetStream("test")
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "TEST", Subjects: []string{"test.>"}, Replicas: 3}); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(wait); ; time.Sleep(100 * time.Millisecond) {
		st = bs[2].ClusterState()
		if l := st.Streams["TEST"]; strings.HasPrefix(l, "hub-") || time.Now().After(deadline) {
			break
		}
	}
	if l := st.Streams["TEST"]; !strings.HasPrefix(l, "hub-") {
		t.Errorf("streams %v: want TEST led by a hub", st.Streams)
	}

	// The bus knows every hub, as a vehicle agent's mqtt.urls would.
	bo := connectOpts(bs[0], "bus-1", "", "")
	bo.AddBroker(bs[1].URL())
	bo.SetAutoReconnect(true).SetConnectRetry(true).SetMaxReconnectInterval(time.Second)
	bus := connectEventually(t, bo)
	publish(t, bus, topics.Position("bus-1"), false, "1")
	if m := next(t, got, "the fix published on another server"); string(m.Payload()) != "1" {
		t.Errorf("got %q", m.Payload())
	}
	publish(t, connectEventually(t, connectOpts(bs[1], "board-writer", "", "")), topics.Board("S1"), true, "board S1")

	bs[0].Close()
	for deadline := time.Now().Add(wait); online(bs[2].ClusterState()) != 2; time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("cluster state %+v: hub-a still online after it stopped", bs[2].ClusterState())
		}
	}
	// The bus's connection died with its server; paho reconnects to the
	// other. Publishes made meanwhile wait for it.
	publish(t, bus, topics.Position("bus-1"), false, "2")
	if m := next(t, got, "the fix after its server died"); string(m.Payload()) != "2" {
		t.Errorf("got %q", m.Payload())
	}
	sign := connectEventually(t, connectOpts(bs[2], "sign", "", ""))
	boards := make(chan mqtt.Message, 4)
	subscribe(t, sign, topics.AllBoards(), boards)
	if m := next(t, boards, "the retained board"); string(m.Payload()) != "board S1" || !m.Retained() {
		t.Errorf("sign got %q retained %v", m.Payload(), m.Retained())
	}
}

func TestClusterBad(t *testing.T) {
	for _, c := range []struct {
		cluster Cluster
		want    string
	}{
		{Cluster{Node: "a", Listen: "127.0.0.1:0", Secret: testSecret}, "cluster.name: is required"},
		{Cluster{Name: "x", Listen: "127.0.0.1:0", Secret: testSecret}, "cluster.node: is required"},
		{Cluster{Name: "x", Node: "a", Listen: "127.0.0.1:0", Secret: "short"}, "cluster.secret: shorter than 16"},
		{Cluster{Name: "x", Node: "a", Listen: "6222", Secret: testSecret}, `cluster.listen "6222": want host:port`},
		{Cluster{Name: "x", Node: "a", Listen: "127.0.0.1:0", Routes: []string{"hub-b:6222"}, Secret: testSecret}, `cluster.routes[0] "hub-b:6222": want nats-route://host:port`},
	} {
		_, err := Start(Options{Addr: "127.0.0.1:0", Cluster: &c.cluster})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: error %v, want one saying %q", c.cluster, err, c.want)
		}
	}
}

func online(st ClusterState) int {
	n := 0
	for _, nd := range st.Nodes {
		if nd.Online {
			n++
		}
	}
	return n
}

func TestClusterStateSingle(t *testing.T) {
	b := start(t, Options{Addr: "127.0.0.1:0"})
	st := b.ClusterState()
	if st.Clustered || len(st.Nodes) != 1 || !st.Nodes[0].Self || st.Tracking != "all" {
		t.Errorf("single broker's cluster state %+v", st)
	}
}

// TestClusterWrongSecret: a server with another secret cannot route to the
// cluster, and the cluster does not count it.
func TestClusterWrongSecret(t *testing.T) {
	topics := wire.Topics{}
	bs := startCluster(t, 2, topics)
	for deadline := time.Now().Add(wait); online(bs[0].ClusterState()) != 2; time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("two servers with the secret never saw each other: %+v", bs[0].ClusterState())
		}
	}
	intruder, err := Start(Options{Addr: "127.0.0.1:0", StoreDir: t.TempDir(), Cluster: &Cluster{Name: "test", Node: "intruder",
		Listen: "127.0.0.1:0", Routes: []string{"nats-route://" + bs[0].ClusterAddr()}, Secret: "not-the-route-secret"}})
	if err != nil {
		t.Fatal(err)
	}
	defer intruder.Close()
	// Routes are retried every second: three tries refused.
	time.Sleep(3 * time.Second)
	if n := online(bs[0].ClusterState()); n != 2 {
		t.Errorf("%d servers online, want 2: one with a wrong secret joined: %+v", n, bs[0].ClusterState())
	}
	if n := online(intruder.ClusterState()); n != 1 {
		t.Errorf("the intruder sees %d servers", n)
	}
}

// TestClusterTLS: routes over TLS, each hub verifying the other's
// certificate against the agency's CA. Two hubs with certificates from it
// form the cluster and relay a fix; a server with the secret but a
// certificate from another CA, or with no TLS at all, is kept out.
func TestClusterTLS(t *testing.T) {
	topics := wire.Topics{}
	ca := tlstest.NewCA(t, "agency")
	until := time.Now().Add(24 * time.Hour)
	peer := func(ca *tlstest.CA, name string) *tls.Config {
		cert, key := ca.Peer(t, name, []string{"127.0.0.1"}, until)
		s, err := tlsfiles.NewServer(cert, key, "")
		if err != nil {
			t.Fatal(err)
		}
		c, err := s.Mutual(ca.File)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	bs := startClusterTLS(t, 2, topics, testSecret, func(i int) *tls.Config { return peer(ca, fmt.Sprintf("hub-%c", 'a'+i)) })
	for deadline := time.Now().Add(wait); online(bs[0].ClusterState()) != 2; time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("two hubs with the agency's certificates never routed: %+v", bs[0].ClusterState())
		}
	}
	got := make(chan mqtt.Message, 4)
	sub := connectEventually(t, connectOpts(bs[1], "hub", "", ""))
	subscribe(t, sub, topics.AllPositions(), got)
	bus := connectEventually(t, connectOpts(bs[0], "bus-1", "", ""))
	publish(t, bus, topics.Position("bus-1"), false, "over tls")
	if m := next(t, got, "bus-1's position across the TLS route"); string(m.Payload()) != "over tls" {
		t.Errorf("got %q", m.Payload())
	}

	other := tlstest.NewCA(t, "other")
	for name, c := range map[string]*tls.Config{"another CA": peer(other, "intruder"), "no TLS": nil} {
		intruder, err := Start(Options{Addr: "127.0.0.1:0", StoreDir: t.TempDir(), Cluster: &Cluster{Name: "test", Node: "intruder",
			Listen: "127.0.0.1:0", Routes: []string{"nats-route://" + bs[0].ClusterAddr()}, Secret: testSecret, TLS: c}})
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(3 * time.Second) // routes are retried every second
		if n := online(bs[0].ClusterState()); n != 2 {
			t.Errorf("%s: %d servers online, want 2: %+v", name, n, bs[0].ClusterState())
		}
		if n := online(intruder.ClusterState()); n != 1 {
			t.Errorf("%s: the intruder sees %d servers", name, n)
		}
		intruder.Close()
	}
}

// TestClusterOptions: a clustered hub's server pings its routes often and
// waits ClusterJSAPITimeout, not nats-server's 5 s, for JetStream's answers
// to its MQTT listener (a bus reconnecting while a dead hub's stream elects
// a leader asks again sooner: BENCHMARKS.md, "Hubs on NATS").
func TestClusterOptions(t *testing.T) {
	so := &server.Options{}
	if err := clusterOptions(so, &Cluster{Name: "x", Node: "a", Listen: "127.0.0.1:0", Secret: testSecret}); err != nil {
		t.Fatal(err)
	}
	if so.MQTT.JSAPITimeout != ClusterJSAPITimeout || ClusterJSAPITimeout >= 5*time.Second {
		t.Errorf("MQTT JetStream API timeout %v, want ClusterJSAPITimeout (%v), under nats-server's 5 s", so.MQTT.JSAPITimeout, ClusterJSAPITimeout)
	}
	if so.Cluster.PingInterval != RoutePingInterval || so.Cluster.MaxPingsOut != RouteMaxPingsOut {
		t.Errorf("route pings every %v, %d out; want %v, %d", so.Cluster.PingInterval, so.Cluster.MaxPingsOut, RoutePingInterval, RouteMaxPingsOut)
	}
}
