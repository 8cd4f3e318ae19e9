package wire

import (
	"fmt"
	"strings"
)

// DefaultPrefix is the MQTT topic prefix used when a config sets none.
const DefaultPrefix = "headway/v1"

// Topics builds and parses MQTT topic names under one prefix.
type Topics struct {
	Prefix string
}

func (t Topics) prefix() string {
	if t.Prefix == "" {
		return DefaultPrefix
	}
	return strings.TrimSuffix(t.Prefix, "/")
}

// Position is the topic a vehicle publishes its fixes on.
func (t Topics) Position(vehicle string) string {
	return t.prefix() + "/vehicles/" + vehicle + "/position"
}

// Status is the retained topic carrying a vehicle's online/offline state.
func (t Topics) Status(vehicle string) string {
	return t.prefix() + "/vehicles/" + vehicle + "/status"
}

// Commands is the topic a vehicle listens on for commands from the hub
// (none are defined in v1; agents subscribe so later hubs can use it).
func (t Topics) Commands(vehicle string) string {
	return t.prefix() + "/vehicles/" + vehicle + "/commands"
}

// Fleet is the retained topic the hub says on which versions the agents
// should run (docs/contracts.md, "Fleet versions").
func (t Topics) Fleet() string { return t.prefix() + "/fleet/version" }

// Board is the retained topic the hub publishes a stop's board on.
func (t Topics) Board(stop string) string {
	return t.prefix() + "/stops/" + stop + "/board"
}

// AllBoards is the subscription filter matching every stop's board.
func (t Topics) AllBoards() string { return t.prefix() + "/stops/+/board" }

// AllPositions is the subscription filter matching every vehicle's positions.
func (t Topics) AllPositions() string { return t.prefix() + "/vehicles/+/position" }

// AllStatus is the subscription filter matching every vehicle's status.
func (t Topics) AllStatus() string { return t.prefix() + "/vehicles/+/status" }

// Kind of vehicle topic, as returned by ParseVehicleTopic.
const (
	KindPosition = "position"
	KindStatus   = "status"
)

// ParseVehicleTopic splits prefix/vehicles/{vehicle}/{kind}.
func (t Topics) ParseVehicleTopic(topic string) (vehicle, kind string, err error) {
	p := t.prefix() + "/vehicles/"
	rest, ok := strings.CutPrefix(topic, p)
	if !ok {
		return "", "", fmt.Errorf("topic %q is not under %q", topic, p)
	}
	vehicle, kind, ok = strings.Cut(rest, "/")
	if !ok || strings.Contains(kind, "/") {
		return "", "", fmt.Errorf("topic %q: want %s{vehicle}/{position|status}", topic, p)
	}
	if err := ValidID("vehicle", vehicle); err != nil {
		return "", "", fmt.Errorf("topic %q: %w", topic, err)
	}
	if kind != KindPosition && kind != KindStatus {
		return "", "", fmt.Errorf("topic %q: unknown kind %q", topic, kind)
	}
	return vehicle, kind, nil
}

// MaxIDLen bounds vehicle, stop, trip and display identifiers.
const MaxIDLen = 64

// ValidID reports whether id is usable as an identifier and in an MQTT topic
// level: 1 to MaxIDLen printable ASCII characters with no MQTT wildcards,
// slashes or spaces.
func ValidID(what, id string) error {
	if id == "" {
		return fmt.Errorf("%s id is empty", what)
	}
	if len(id) > MaxIDLen {
		return fmt.Errorf("%s id is %d bytes long, more than %d", what, len(id), MaxIDLen)
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if c <= ' ' || c >= 0x7f || c == '/' || c == '+' || c == '#' {
			return fmt.Errorf("%s id %q: character %q at %d is not allowed", what, id, c, i)
		}
	}
	return nil
}

// ValidPrefix checks a topic prefix: one or more non-empty levels with no
// MQTT wildcards, so the subscriptions built on it are valid.
func ValidPrefix(prefix string) error {
	if prefix == "" {
		return nil // DefaultPrefix
	}
	for _, level := range strings.Split(strings.TrimSuffix(prefix, "/"), "/") {
		if level == "" {
			return fmt.Errorf("topic prefix %q has an empty level", prefix)
		}
		if strings.ContainsAny(level, "+#\x00") {
			return fmt.Errorf("topic prefix %q: MQTT wildcards (+ #) are not allowed", prefix)
		}
	}
	return nil
}
