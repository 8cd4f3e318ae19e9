package broker

import (
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/headway-transit/headway/internal/wire"
)

// wait bounds each MQTT round trip: generous, as a bcrypt check under the
// race detector on a loaded machine takes seconds; only a bug reaches it.
const wait = 30 * time.Second

func connectOpts(b *Broker, id, user, pass string) *mqtt.ClientOptions {
	return mqtt.NewClientOptions().AddBroker(b.URL()).SetClientID(id).SetUsername(user).SetPassword(pass).
		SetAutoReconnect(false).SetConnectRetry(false).SetConnectTimeout(wait).SetProtocolVersion(4)
}

func connect(t *testing.T, o *mqtt.ClientOptions) (mqtt.Client, error) {
	t.Helper()
	c := mqtt.NewClient(o)
	tok := c.Connect()
	if !tok.WaitTimeout(wait) {
		t.Fatalf("%s: connect timed out", o.ClientID)
	}
	if tok.Error() != nil {
		return nil, tok.Error()
	}
	t.Cleanup(func() { c.Disconnect(100) })
	return c, nil
}

func mustConnect(t *testing.T, o *mqtt.ClientOptions) mqtt.Client {
	t.Helper()
	c, err := connect(t, o)
	if err != nil {
		t.Fatalf("%s: %v", o.ClientID, err)
	}
	return c
}

func subscribe(t *testing.T, c mqtt.Client, filter string, got chan<- mqtt.Message) byte {
	t.Helper()
	tok := c.Subscribe(filter, 1, func(_ mqtt.Client, m mqtt.Message) { got <- m })
	if !tok.WaitTimeout(wait) || tok.Error() != nil {
		t.Fatalf("subscribe %s: %v", filter, tok.Error())
	}
	return tok.(*mqtt.SubscribeToken).Result()[filter]
}

func publish(t *testing.T, c mqtt.Client, topic string, retained bool, payload string) {
	t.Helper()
	if tok := c.Publish(topic, 1, retained, payload); !tok.WaitTimeout(wait) || tok.Error() != nil {
		t.Fatalf("publish %s: %v", topic, tok.Error())
	}
}

func next(t *testing.T, got <-chan mqtt.Message, what string) mqtt.Message {
	t.Helper()
	select {
	case m := <-got:
		return m
	case <-time.After(wait):
		t.Fatalf("never got %s", what)
		return nil
	}
}

func start(t *testing.T, o Options) *Broker {
	t.Helper()
	b, err := Start(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

// TestMQTT: the v1 contract's traffic through the embedded NATS server:
// QoS 1 positions to the hub's subscription, and a retained board to a
// subscriber that comes later.
func TestMQTT(t *testing.T) {
	topics := wire.Topics{}
	b := start(t, Options{Addr: "127.0.0.1:0", Topics: topics})
	if !strings.HasPrefix(b.URL(), "tcp://127.0.0.1:") || strings.HasSuffix(b.URL(), ":0") {
		t.Fatalf("URL %q: want the port really bound", b.URL())
	}
	hub := mustConnect(t, connectOpts(b, "hub", "", ""))
	got := make(chan mqtt.Message, 16)
	subscribe(t, hub, topics.AllPositions(), got)
	subscribe(t, hub, topics.AllStatus(), got)

	bus := mustConnect(t, connectOpts(b, "bus-1", "", ""))
	publish(t, bus, topics.Position("bus-1"), false, `{"seq":1}`)
	if m := next(t, got, "the position"); m.Topic() != topics.Position("bus-1") || string(m.Payload()) != `{"seq":1}` || m.Qos() != 1 {
		t.Errorf("hub got %s %q qos %d", m.Topic(), m.Payload(), m.Qos())
	}

	publish(t, hub, topics.Board("S1"), true, `{"stop":"S1"}`)
	sign := mustConnect(t, connectOpts(b, "sign", "", ""))
	boards := make(chan mqtt.Message, 4)
	// nats-server acknowledges the publish before the retained message is
	// in the set it gives new subscriptions (it is stored in JetStream
	// first): a subscription made at once may come before it, on a busy
	// machine (the CPU-hog CI run saw it). A subscriber that comes again
	// gets it; a sign gets the next board in any case.
	var m mqtt.Message
	for deadline := time.Now().Add(wait); m == nil; {
		subscribe(t, sign, topics.AllBoards(), boards)
		select {
		case m = <-boards:
		case <-time.After(2 * time.Second):
			if time.Now().After(deadline) {
				t.Fatal("never got the retained board")
			}
			sign.Unsubscribe(topics.AllBoards()).WaitTimeout(wait)
		}
	}
	if m.Topic() != topics.Board("S1") || !m.Retained() {
		t.Errorf("sign got %s retained %v", m.Topic(), m.Retained())
	}
}

// TestLastWill: a vehicle whose connection drops without a DISCONNECT gets
// its will published, retained: the hub learns it is offline.
func TestLastWill(t *testing.T) {
	topics := wire.Topics{}
	b := start(t, Options{Addr: "127.0.0.1:0", Topics: topics})
	hub := mustConnect(t, connectOpts(b, "hub", "", ""))
	got := make(chan mqtt.Message, 4)
	subscribe(t, hub, topics.AllStatus(), got)

	// A raw MQTT 3.1.1 CONNECT with a will, then the socket closed.
	conn, err := net.Dial("tcp", b.Addr())
	if err != nil {
		t.Fatal(err)
	}
	conn.Write(connectPacket("bus-9", topics.Status("bus-9"), `{"state":"offline"}`))
	ack := make([]byte, 4)
	conn.SetReadDeadline(time.Now().Add(wait))
	if _, err := conn.Read(ack); err != nil || ack[0] != 0x20 || ack[3] != 0 {
		t.Fatalf("CONNACK %x: %v", ack, err)
	}
	conn.Close()
	if m := next(t, got, "the will"); m.Topic() != topics.Status("bus-9") || string(m.Payload()) != `{"state":"offline"}` {
		t.Errorf("hub got %s %q", m.Topic(), m.Payload())
	}
}

// connectPacket is an MQTT 3.1.1 CONNECT for client id with a retained QoS 1
// will, clean session, keepalive 60 s.
func connectPacket(id, willTopic, will string) []byte {
	str := func(s string) []byte { return append([]byte{byte(len(s) >> 8), byte(len(s))}, s...) }
	var body []byte
	body = append(body, str("MQTT")...)
	body = append(body, 4, 0x02|0x04|0x08|0x20, 0, 60) // clean, will, will QoS 1, will retain
	body = append(body, str(id)...)
	body = append(body, str(willTopic)...)
	body = append(body, str(will)...)
	return append([]byte{0x10, byte(len(body))}, body...)
}

// TestUsers: with users configured, the server lets in only them, with their
// passwords (bcrypt hashes as hub passwd makes them), and keeps each to its
// role's topics.
func TestUsers(t *testing.T) {
	topics := wire.Topics{}
	hash, err := HashPassword("bus-1-secret-pw")
	if err != nil {
		t.Fatal(err)
	}
	b := start(t, Options{Addr: "127.0.0.1:0", Topics: topics, Users: []User{
		{Username: "bus-1", PasswordHash: hash},
		{Username: "bus-2", Password: "bus-2-secret-pw", Role: RoleVehicle},
		{Username: "signs", Password: "signs-secret-pw", Role: RoleReader},
	}})
	for _, bad := range []struct{ user, pass string }{{"", ""}, {"bus-1", ""}, {"bus-1", "bus-2-secret-pw"}, {"nobody", "bus-1-secret-pw"}} {
		// Refused with CONNACK "not authorized", so the agent can say why.
		if _, err := connect(t, connectOpts(b, "x", bad.user, bad.pass)); err == nil || !strings.Contains(strings.ToLower(err.Error()), "not authorized") {
			t.Errorf("user %q password %q: %v, want refused as not authorized", bad.user, bad.pass, err)
		}
	}
	hubUser, hubPass := b.Credentials()
	if hubUser == "" || len(hubPass) < 32 {
		t.Fatalf("hub credentials %q/%q", hubUser, hubPass)
	}
	hub := mustConnect(t, connectOpts(b, "hub", hubUser, hubPass))
	got := make(chan mqtt.Message, 16)
	subscribe(t, hub, topics.AllPositions(), got)

	bus1 := mustConnect(t, connectOpts(b, "bus-1", "bus-1", "bus-1-secret-pw"))
	subscribe(t, hub, topics.AllStatus(), got)
	for _, topic := range []string{topics.Status("bus-1"), topics.Position("bus-1")} {
		publish(t, bus1, topic, false, "1")
		if m := next(t, got, topic); m.Topic() != topic {
			t.Errorf("hub got %s, want %s", m.Topic(), topic)
		}
	}
	// Speaking for another bus: not delivered. bus-2's own position, sent
	// after it, is the next the hub gets.
	rogue := mustConnect(t, connectOpts(b, "bus-1-rogue", "bus-1", "bus-1-secret-pw"))
	rogue.Publish(topics.Position("bus-2"), 1, false, "forged").WaitTimeout(5 * time.Second)
	bus2 := mustConnect(t, connectOpts(b, "bus-2", "bus-2", "bus-2-secret-pw"))
	publish(t, bus2, topics.Position("bus-2"), false, "real")
	if m := next(t, got, "bus-2's position"); string(m.Payload()) != "real" {
		t.Errorf("hub got %q on %s: bus-1 spoke for bus-2", m.Payload(), m.Topic())
	}
	// Nor may a bus read the fleet.
	if code := subscribe(t, bus1, topics.AllPositions(), make(chan mqtt.Message, 1)); code < 0x80 {
		t.Errorf("bus-1 subscribed to every position: code %#x", code)
	}
	// A reader subscribes to boards, and to nothing else.
	signs := mustConnect(t, connectOpts(b, "signs", "signs", "signs-secret-pw"))
	for filter, allowed := range map[string]bool{topics.AllBoards(): true, topics.Board("S1"): true, "#": false, topics.AllPositions(): false,
		strings.TrimSuffix(topics.AllBoards(), "+/board") + "#": false} {
		if code := subscribe(t, signs, filter, make(chan mqtt.Message, 1)); (code < 0x80) != allowed {
			t.Errorf("reader subscribing to %s: code %#x, allowed %v", filter, code, allowed)
		}
	}
}

// TestSessionSurvivesRestart: the hub's persistent session (clean session
// off) keeps QoS 1 positions published while the hub's client is away,
// across a restart of the server on the same store: no fix lost.
func TestSessionSurvivesRestart(t *testing.T) {
	topics := wire.Topics{}
	dir := t.TempDir()
	b, err := Start(Options{Addr: "127.0.0.1:0", Topics: topics, StoreDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	addr := b.Addr()
	hubOpts := func(b *Broker) *mqtt.ClientOptions {
		return connectOpts(b, "hub", "", "").SetCleanSession(false)
	}
	hub := mustConnect(t, hubOpts(b))
	subscribe(t, hub, topics.AllPositions(), make(chan mqtt.Message, 16))
	hub.Disconnect(100)
	bus := mustConnect(t, connectOpts(b, "bus-1", "", ""))
	for i := 1; i <= 3; i++ {
		publish(t, bus, topics.Position("bus-1"), false, fmt.Sprint(i))
	}
	bus.Disconnect(100)
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}

	b = start(t, Options{Addr: addr, Topics: topics, StoreDir: dir})
	got := make(chan mqtt.Message, 16)
	o := hubOpts(b).SetDefaultPublishHandler(func(_ mqtt.Client, m mqtt.Message) { got <- m })
	// paho routes the session's redeliveries by subscription: subscribe
	// again (the session has it; this only adds the handler).
	o.SetOnConnectHandler(func(c mqtt.Client) {})
	hub = mustConnect(t, o)
	for i := 1; i <= 3; i++ {
		if m := next(t, got, fmt.Sprintf("position %d after the restart", i)); string(m.Payload()) != fmt.Sprint(i) {
			t.Errorf("after the restart got %q, want %d", m.Payload(), i)
		}
	}
}

// TestListenInUse: a taken MQTT port is an error that says what to do.
func TestListenInUse(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, err = Start(Options{Addr: ln.Addr().String()})
	if err == nil || !strings.Contains(err.Error(), "in use") {
		t.Fatalf("Start on a taken port: %v, want an error saying it is in use", err)
	}
}
