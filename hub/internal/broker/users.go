package broker

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/nats-io/nats-server/v2/server"
	"golang.org/x/crypto/bcrypt"

	"github.com/headway-transit/headway/internal/wire"
)

// Roles a broker user may have.
const (
	// RoleVehicle publishes its own positions and status, nothing else:
	// its username is its vehicle id, so a stolen bus's password cannot
	// speak for another bus or read the fleet.
	RoleVehicle = "vehicle"
	// RoleReader subscribes to the boards the hub keeps retained under
	// prefix/stops/ (third-party displays, journey planners).
	RoleReader = "reader"
	// RoleAdmin may publish and subscribe anything (operators' tools).
	RoleAdmin = "admin"
)

// User is a client the embedded broker lets in. Give its Password, or
// better its PasswordHash (bcrypt, as `hub passwd` prints), so the config
// file does not hold the password itself.
type User struct {
	Username     string
	Password     string
	PasswordHash string
	Role         string // RoleVehicle when empty
}

// HashPassword returns the bcrypt hash of password for PasswordHash.
func HashPassword(password string) (string, error) {
	if len(password) < minPassword {
		return "", fmt.Errorf("password shorter than %d characters", minPassword)
	}
	h, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.DefaultCost)
	return string(h), err
}

// Check reports what is wrong with u, naming the field.
func (u User) Check() error {
	switch u.Role {
	case "", RoleVehicle:
		if err := wire.ValidID("username", u.Username); err != nil {
			return fmt.Errorf("%w (a vehicle's username is its vehicle id)", err)
		}
	case RoleReader, RoleAdmin:
		if u.Username == "" {
			return fmt.Errorf("username is empty")
		}
	default:
		return fmt.Errorf("role %q: want %s, %s or %s", u.Role, RoleVehicle, RoleReader, RoleAdmin)
	}
	switch {
	case u.Password != "" && u.PasswordHash != "":
		return fmt.Errorf("user %q: give password or password_hash, not both", u.Username)
	case u.PasswordHash != "":
		if _, err := bcrypt.Cost([]byte(u.PasswordHash)); err != nil {
			return fmt.Errorf("user %q: password_hash is not a bcrypt hash (make one with hub passwd): %w", u.Username, err)
		}
	case len(u.Password) < minPassword:
		return fmt.Errorf("user %q: password shorter than %d characters", u.Username, minPassword)
	}
	return nil
}

// minPassword: anything shorter is guessed over the network.
const minPassword = 12

// InternalUser is the hub's own client's account: an admin with a random
// password made at start, known only to this process.
func InternalUser() (User, error) {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		return User{}, err
	}
	return User{Username: "headway-hub-" + hex.EncodeToString(b[:4]), Password: hex.EncodeToString(b[4:]), Role: RoleAdmin}, nil
}

// subject is the NATS subject an MQTT topic (or filter) is carried on:
// levels joined by '.' instead of '/', a '.' inside a level written "//",
// and the filter wildcards '+' and '#' as '*' and '>'.
func subject(topic string) string {
	levels := strings.Split(topic, "/")
	for i, l := range levels {
		switch l {
		case "+":
			levels[i] = "*"
		case "#":
			levels[i] = ">"
		default:
			levels[i] = strings.ReplaceAll(l, ".", "//")
		}
	}
	return strings.Join(levels, ".")
}

// natsUsers are users as NATS users, MQTT connections only, with their
// role's permissions.
func natsUsers(users []User, topics wire.Topics) ([]*server.User, error) {
	seen := map[string]bool{}
	out := make([]*server.User, 0, len(users))
	for i, u := range users {
		if err := u.Check(); err != nil {
			return nil, fmt.Errorf("user %d: %w", i+1, err)
		}
		if seen[u.Username] {
			return nil, fmt.Errorf("user %d: username %q given twice", i+1, u.Username)
		}
		seen[u.Username] = true
		if u.Username == "*" || u.Username == ">" || strings.ContainsAny(u.Username, " \t") {
			return nil, fmt.Errorf("user %d: username %q is a NATS wildcard or has a space", i+1, u.Username)
		}
		pass := u.Password
		if u.PasswordHash != "" {
			pass = u.PasswordHash // nats-server checks bcrypt hashes itself
		}
		nu := &server.User{Username: u.Username, Password: pass,
			AllowedConnectionTypes: map[string]struct{}{"MQTT": {}}}
		none := &server.SubjectPermission{Deny: []string{">"}}
		switch u.Role {
		case RoleAdmin:
			// Everything.
		case RoleReader:
			nu.Permissions = &server.Permissions{Publish: none,
				Subscribe: &server.SubjectPermission{Allow: []string{subject(topics.AllBoards())}}}
		default: // vehicle
			nu.Permissions = vehicleUser(u.Username, topics).Permissions
		}
		out = append(out, nu)
	}
	return out, nil
}
