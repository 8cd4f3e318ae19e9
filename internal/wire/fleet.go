package wire

import (
	"errors"
	"fmt"
	"time"
)

// TypeFleet is the WebSocket message saying which versions the hub's
// operators want the agents to run (docs/contracts.md, "Fleet versions").
const TypeFleet = "fleet"

// MaxFleetMessage bounds a fleet message: two versions and a time.
const MaxFleetMessage = 1024

// Fleet is the operators' wanted versions: retained on Topics.Fleet() for
// the buses (V set, Type empty), and the WebSocket "fleet" message for the
// signs (Type set). An empty version asks nothing of that role. The
// agents report whether they match; the packages come from the device's
// apt, not from Headway.
type Fleet struct {
	Type           string    `json:"type,omitempty"`
	V              int       `json:"v,omitempty"`
	VehicleVersion string    `json:"vehicle_version,omitempty"`
	StationVersion string    `json:"station_version,omitempty"`
	Time           time.Time `json:"time"`
}

// DecodeFleet decodes either form and checks it.
func DecodeFleet(b []byte) (Fleet, error) {
	var f Fleet
	if err := decodeServer(b, &f, MaxFleetMessage); err != nil {
		return Fleet{}, fmt.Errorf("fleet: %w", err)
	}
	if f.Type != "" && f.Type != TypeFleet {
		return Fleet{}, fmt.Errorf("fleet: type %q", f.Type)
	}
	if f.Type == "" && f.V != Version {
		return Fleet{}, fmt.Errorf("fleet: version %d, this agent speaks %d", f.V, Version)
	}
	if f.Time.IsZero() {
		return Fleet{}, errors.New("fleet: time is missing")
	}
	for _, v := range []struct{ what, s string }{{"vehicle_version", f.VehicleVersion}, {"station_version", f.StationVersion}} {
		if err := validVersion(v.what, v.s); err != nil {
			return Fleet{}, fmt.Errorf("fleet: %w", err)
		}
	}
	return f, nil
}

// validVersion: a package version (Debian's allow + and ~), printable,
// with no spaces, at most MaxIDLen bytes; "" is none.
func validVersion(what, v string) error {
	if len(v) > MaxIDLen {
		return fmt.Errorf("%s is %d bytes long, more than %d", what, len(v), MaxIDLen)
	}
	for i := 0; i < len(v); i++ {
		if c := v[i]; c <= ' ' || c >= 0x7f {
			return fmt.Errorf("%s %q: character %q at %d is not allowed", what, v, c, i)
		}
	}
	return nil
}
