package broker

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"strings"
	"sync"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/packets"
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

// authHook lets in the configured users and keeps each to its role's
// topics.
type authHook struct {
	mqtt.HookBase
	users  map[string]User
	topics wire.Topics
	// verified remembers, per user, the SHA-256 of the last password that
	// matched its bcrypt hash: a bus reconnecting through a tunnel costs a
	// hash, not a bcrypt check (tens of milliseconds of CPU) each time.
	mu       sync.Mutex
	verified map[string][sha256.Size]byte
}

func newAuthHook(users []User, topics wire.Topics) (*authHook, error) {
	h := &authHook{users: map[string]User{}, topics: topics, verified: map[string][sha256.Size]byte{}}
	for i, u := range users {
		if err := u.Check(); err != nil {
			return nil, fmt.Errorf("user %d: %w", i+1, err)
		}
		if _, dup := h.users[u.Username]; dup {
			return nil, fmt.Errorf("user %d: username %q given twice", i+1, u.Username)
		}
		if u.Role == "" {
			u.Role = RoleVehicle
		}
		h.users[u.Username] = u
	}
	return h, nil
}

func (h *authHook) ID() string { return "headway-auth" }

func (h *authHook) Provides(b byte) bool {
	return bytes.Contains([]byte{mqtt.OnConnectAuthenticate, mqtt.OnACLCheck}, []byte{b})
}

// OnConnectAuthenticate lets in a known username with its password.
func (h *authHook) OnConnectAuthenticate(cl *mqtt.Client, pk packets.Packet) bool {
	u, ok := h.users[string(pk.Connect.Username)]
	if !ok {
		// Compare anyway, so a wrong username takes as long as a wrong
		// password.
		subtle.ConstantTimeCompare(pk.Connect.Password, pk.Connect.Password)
		return false
	}
	if u.PasswordHash == "" {
		return subtle.ConstantTimeCompare([]byte(u.Password), pk.Connect.Password) == 1
	}
	sum := sha256.Sum256(pk.Connect.Password)
	h.mu.Lock()
	known, seen := h.verified[u.Username]
	h.mu.Unlock()
	if seen && subtle.ConstantTimeCompare(known[:], sum[:]) == 1 {
		return true
	}
	if bcrypt.CompareHashAndPassword([]byte(u.PasswordHash), pk.Connect.Password) != nil {
		return false
	}
	h.mu.Lock()
	h.verified[u.Username] = sum
	h.mu.Unlock()
	return true
}

// OnACLCheck keeps each user to its role's topics. topic is a topic name
// when writing and a filter when subscribing.
func (h *authHook) OnACLCheck(cl *mqtt.Client, topic string, write bool) bool {
	u, ok := h.users[string(cl.Properties.Username)]
	if !ok {
		return false
	}
	switch u.Role {
	case RoleAdmin:
		return true
	case RoleReader:
		// Boards only: the stops' filter or one stop's board.
		stops := strings.TrimSuffix(h.topics.AllBoards(), "+/board")
		rest, ok := strings.CutPrefix(topic, stops)
		return !write && ok && strings.HasSuffix(rest, "/board") && strings.Count(rest, "/") == 1 && !strings.Contains(rest, "#")
	default: // RoleVehicle
		if write {
			return topic == h.topics.Position(u.Username) || topic == h.topics.Status(u.Username)
		}
		return topic == h.topics.Commands(u.Username)
	}
}

// InternalUser is the hub's own client's account: an admin with a random
// password made at start, known only to this process.
func InternalUser() (User, error) {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		return User{}, err
	}
	return User{Username: "headway-hub-" + hex.EncodeToString(b[:4]), Password: hex.EncodeToString(b[4:]), Role: RoleAdmin}, nil
}
