package broker

import (
	"log/slog"
	"strings"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/headway-transit/headway/internal/wire"
)

// wait bounds each MQTT round trip: generous, as a bcrypt check under the
// race detector on a loaded machine takes seconds; only a bug reaches it.
const wait = 30 * time.Second

func connect(t *testing.T, b *Broker, id, user, pass string) (mqtt.Client, error) {
	t.Helper()
	o := mqtt.NewClientOptions().AddBroker(b.URL()).SetClientID(id).SetUsername(user).SetPassword(pass).
		SetAutoReconnect(false).SetConnectRetry(false)
	c := mqtt.NewClient(o)
	tok := c.Connect()
	if !tok.WaitTimeout(wait) {
		t.Fatalf("%s: connect timed out", id)
	}
	if tok.Error() != nil {
		return nil, tok.Error()
	}
	t.Cleanup(func() { c.Disconnect(100) })
	return c, nil
}

func mustConnect(t *testing.T, b *Broker, id, user, pass string) mqtt.Client {
	t.Helper()
	c, err := connect(t, b, id, user, pass)
	if err != nil {
		t.Fatalf("%s: %v", id, err)
	}
	return c
}

// TestUsers: with users configured the embedded broker lets in only them,
// with their passwords, and keeps each to its role's topics.
func TestUsers(t *testing.T) {
	topics := wire.Topics{}
	hash, err := HashPassword("bus-1-secret-pw")
	if err != nil {
		t.Fatal(err)
	}
	b, err := Start(Options{Addr: "127.0.0.1:0", Topics: topics, Logger: slog.New(slog.DiscardHandler), Users: []User{
		{Username: "bus-1", PasswordHash: hash}, // as hub passwd makes it
		{Username: "bus-2", Password: "bus-2-secret-pw", Role: RoleVehicle},
		{Username: "signs", Password: "signs-secret-pw", Role: RoleReader},
	}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })

	for _, bad := range []struct{ user, pass string }{{"", ""}, {"bus-1", ""}, {"bus-1", "bus-2-secret-pw"}, {"nobody", "bus-1-secret-pw"}} {
		if _, err := connect(t, b, "x", bad.user, bad.pass); err == nil {
			t.Errorf("user %q password %q let in", bad.user, bad.pass)
		}
	}

	// The hub's own account sees everything.
	hubUser, hubPass := b.Credentials()
	if hubUser == "" || len(hubPass) < 32 {
		t.Fatalf("hub credentials %q/%q", hubUser, hubPass)
	}
	hub := mustConnect(t, b, "hub", hubUser, hubPass)
	got := make(chan string, 16)
	for _, f := range []string{topics.AllPositions(), topics.AllStatus()} {
		if tok := hub.Subscribe(f, 1, func(_ mqtt.Client, m mqtt.Message) { got <- m.Topic() }); !tok.WaitTimeout(wait) || tok.Error() != nil {
			t.Fatalf("hub subscribe: %v", tok.Error())
		}
	}

	bus1 := mustConnect(t, b, "bus-1", "bus-1", "bus-1-secret-pw")
	for _, topic := range []string{topics.Status("bus-1"), topics.Position("bus-1")} {
		if tok := bus1.Publish(topic, 1, false, "{}"); !tok.WaitTimeout(wait) || tok.Error() != nil {
			t.Fatalf("publish %s: %v", topic, tok.Error())
		}
		select {
		case g := <-got:
			if g != topic {
				t.Errorf("hub got %s, want %s", g, topic)
			}
		case <-time.After(wait):
			t.Fatalf("hub never got %s", topic)
		}
	}
	// Speaking for another bus: the message is dropped and the client,
	// which MQTT 3.1.1 cannot otherwise tell, disconnected.
	// (Connecting again also checks the remembered bcrypt result.)
	rogue := mustConnect(t, b, "bus-1-rogue", "bus-1", "bus-1-secret-pw")
	if _, err := connect(t, b, "bus-1-wrong", "bus-1", "bus-1-secret-px"); err == nil {
		t.Error("bus-1 let in with a wrong password after a right one")
	}
	rogue.Publish(topics.Position("bus-2"), 1, false, "{}").WaitTimeout(time.Second)
	select {
	case g := <-got:
		t.Errorf("hub got %s from bus-1 publishing as bus-2", g)
	case <-time.After(500 * time.Millisecond):
	}
	if rogue.IsConnectionOpen() {
		t.Error("bus-1 publishing as bus-2 is still connected")
	}
	// Nor may it read the fleet.
	tok := bus1.Subscribe(topics.AllPositions(), 1, func(mqtt.Client, mqtt.Message) {})
	tok.WaitTimeout(wait)
	if st, ok := tok.(*mqtt.SubscribeToken); !ok || st.Result()[topics.AllPositions()] < 0x80 {
		t.Errorf("bus-1 subscribed to every position: %v", st.Result())
	}

	// A reader subscribes to boards, and to nothing else.
	signs := mustConnect(t, b, "signs", "signs", "signs-secret-pw")
	for filter, allowed := range map[string]bool{topics.AllBoards(): true, topics.Board("S1"): true, "#": false, topics.AllPositions(): false, strings.TrimSuffix(topics.AllBoards(), "+/board") + "#": false} {
		tok := signs.Subscribe(filter, 1, func(mqtt.Client, mqtt.Message) {})
		if !tok.WaitTimeout(wait) || tok.Error() != nil {
			t.Fatalf("reader subscribe %s: %v", filter, tok.Error())
		}
		if code := tok.(*mqtt.SubscribeToken).Result()[filter]; (code < 0x80) != allowed {
			t.Errorf("reader subscribing to %s: code %#x, allowed %v", filter, code, allowed)
		}
	}
}

func TestUsersBad(t *testing.T) {
	for _, c := range []struct {
		users []User
		want  string
	}{
		{[]User{{Username: "bus 1", Password: "long-enough-pw"}}, "username"},
		{[]User{{Username: "bus-1", Password: "short"}}, "shorter than 12"},
		{[]User{{Username: "ops", Password: "long-enough-pw", Role: "root"}}, `role "root"`},
		{[]User{{Username: "bus-1", Password: "long-enough-pw"}, {Username: "bus-1", Password: "long-enough-pw2"}}, "given twice"},
		{[]User{{Username: "bus-1", PasswordHash: "not-bcrypt"}}, "not a bcrypt hash"},
		{[]User{{Username: "bus-1", Password: "long-enough-pw", PasswordHash: "$2a$10$aBdnL0gTNaoK.vxDB.tBv.w8kZdH4jYtiDTIY//Lif5g6IjnRegb2"}}, "not both"},
	} {
		_, err := Start(Options{Addr: "127.0.0.1:0", Users: c.users})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("users %+v: error %v, want one saying %q", c.users, err, c.want)
		}
	}
}
