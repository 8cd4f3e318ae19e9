package broker

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/headway-transit/headway/hub/internal/vehicles"
	"github.com/headway-transit/headway/internal/wire"
)

// TestVehicleRegister: buses of a register (hub vehicles add) connect with
// their own passwords, are kept to their own topics, and a revoked one is
// cut off and kept out, with no restart of the server; the config's users
// go on beside them.
func TestVehicleRegister(t *testing.T) {
	topics := wire.Topics{}
	path := filepath.Join(t.TempDir(), "vehicles.json")
	now := time.Now()
	pw7, err := vehicles.Add(path, "bus-7", now)
	if err != nil {
		t.Fatal(err)
	}
	reg, err := vehicles.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	b := start(t, Options{Addr: "127.0.0.1:0", Topics: topics, Vehicles: reg,
		Users: []User{{Username: "signs", Password: "signs-secret-pw", Role: RoleReader}}})
	hubUser, hubPass := b.Credentials()
	hub := mustConnect(t, connectOpts(b, "hub", hubUser, hubPass))
	got := make(chan mqtt.Message, 16)
	subscribe(t, hub, topics.AllPositions(), got)

	for _, bad := range []struct{ user, pass string }{{"bus-7", "wrong"}, {"bus-7", ""}, {"bus-8", pw7}, {"", ""}, {hubUser, pw7}} {
		if _, err := connect(t, connectOpts(b, "x", bad.user, bad.pass)); err == nil || !strings.Contains(strings.ToLower(err.Error()), "not authorized") {
			t.Errorf("user %q password %q: %v, want refused as not authorized", bad.user, bad.pass, err)
		}
	}
	bus7 := mustConnect(t, connectOpts(b, "bus-7", "bus-7", pw7))
	// Speaking for bus-8 is not delivered; its own position, after, is.
	bus7.Publish(topics.Position("bus-8"), 1, false, "forged").WaitTimeout(5 * time.Second)
	bus7 = mustConnect(t, connectOpts(b, "bus-7", "bus-7", pw7)) // the violation may have closed it
	publish(t, bus7, topics.Position("bus-7"), false, "real")
	if m := next(t, got, "bus-7's position"); m.Topic() != topics.Position("bus-7") || string(m.Payload()) != "real" {
		t.Errorf("hub got %q on %s, want bus-7's own", m.Payload(), m.Topic())
	}
	if _, err := connect(t, connectOpts(b, "signs", "signs", "signs-secret-pw")); err != nil {
		t.Errorf("config user beside the register: %v", err)
	}

	// A bus added while the server runs gets in at once.
	pw9, err := vehicles.Add(path, "bus-9", now)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := reg.Reload(); err != nil {
		t.Fatal(err)
	}
	mustConnect(t, connectOpts(b, "bus-9", "bus-9", pw9))

	// Revoked: the live connection is closed, and a reconnect refused.
	lost := make(chan struct{}, 1)
	o := connectOpts(b, "bus-7b", "bus-7", pw7).SetAutoReconnect(false).
		SetConnectionLostHandler(func(mqtt.Client, error) { lost <- struct{}{} })
	mustConnect(t, o)
	if err := vehicles.Revoke(path, "bus-7", now); err != nil {
		t.Fatal(err)
	}
	gone, err := reg.Reload()
	if err != nil {
		t.Fatal(err)
	}
	if n := b.Disconnect(gone); n < 1 {
		t.Errorf("Disconnect(%v) closed %d connections, want bus-7's", gone, n)
	}
	select {
	case <-lost:
	case <-time.After(10 * time.Second):
		t.Fatal("revoked bus-7 still connected")
	}
	if _, err := connect(t, connectOpts(b, "bus-7", "bus-7", pw7)); err == nil {
		t.Error("revoked bus-7 connected again")
	}
}
