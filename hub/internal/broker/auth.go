package broker

import (
	"crypto/subtle"
	"strings"

	"github.com/nats-io/nats-server/v2/server"
	"golang.org/x/crypto/bcrypt"

	"github.com/headway-transit/headway/internal/wire"
)

// Vehicles checks a bus's password against a register that changes while
// the broker runs (package vehicles; hub vehicles add|revoke).
type Vehicles interface {
	Check(vehicle, password string) error
}

// authenticator lets clients in: the users of the config (mqtt.users),
// the hub's own account, and the buses of a register of vehicles, each
// with its role's permissions. nats-server asks it at every connect
// (server.Options.CustomClientAuthentication), so a bus added or revoked
// in the register is let in or kept out with no reload of the server.
type authenticator struct {
	// static are the config's users and the hub's own, by username.
	static   map[string]*server.User
	internal string
	vehicles Vehicles
	topics   wire.Topics
}

func newAuthenticator(users []*server.User, internal string, vehicles Vehicles, topics wire.Topics) *authenticator {
	a := &authenticator{static: make(map[string]*server.User, len(users)), internal: internal, vehicles: vehicles, topics: topics}
	for _, u := range users {
		a.static[u.Username] = u
	}
	return a
}

// Check implements server.Authentication.
func (a *authenticator) Check(c server.ClientAuthentication) bool {
	o := c.GetOpts()
	// Only the hub's own account connects in process (a pipe, for
	// JetStream); it and everyone else connect over MQTT.
	if inProcess := c.RemoteAddress() != nil && c.RemoteAddress().Network() == "pipe"; inProcess && o.Username != a.internal {
		return false
	}
	if u, ok := a.static[o.Username]; ok {
		if !passwordMatches(u.Password, o.Password) {
			return false
		}
		c.RegisterUser(u)
		return true
	}
	if a.vehicles == nil || a.vehicles.Check(o.Username, o.Password) != nil {
		return false
	}
	c.RegisterUser(vehicleUser(o.Username, a.topics))
	return true
}

// passwordMatches compares a password with a bcrypt hash or, for a plain
// one, in constant time.
func passwordMatches(want, got string) bool {
	if strings.HasPrefix(want, "$2") {
		return bcrypt.CompareHashAndPassword([]byte(want), []byte(got)) == nil
	}
	return subtle.ConstantTimeCompare([]byte(want), []byte(got)) == 1
}

// vehicleUser is a bus's account: it publishes its own position and
// status, and reads its own commands and the fleet's wanted versions,
// nothing else.
func vehicleUser(id string, topics wire.Topics) *server.User {
	return &server.User{Username: id, Permissions: &server.Permissions{
		Publish:   &server.SubjectPermission{Allow: []string{subject(topics.Position(id)), subject(topics.Status(id))}},
		Subscribe: &server.SubjectPermission{Allow: []string{subject(topics.Commands(id)), subject(topics.Fleet())}},
	}}
}

// Disconnect closes the MQTT connections of the given clients (buses whose
// passwords were revoked), and reports how many it closed.
func (b *Broker) Disconnect(usernames []string) int {
	n := 0
	for _, u := range usernames {
		cz, err := b.srv.Connz(&server.ConnzOptions{User: u, Limit: 1 << 16})
		if err != nil {
			continue
		}
		for _, ci := range cz.Conns {
			if b.srv.DisconnectClientByID(ci.Cid) == nil {
				n++
			}
		}
	}
	return n
}
