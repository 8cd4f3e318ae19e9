// Package vehicles keeps the hub's register of buses allowed on its
// embedded broker: each has its own password, made by `hub vehicles add`,
// shown once and stored only as its SHA-256 (package tokenfile), and may
// publish only its own position and status.
//
// The register is a JSON file (mqtt.vehicles in hub.yaml); the running hub
// reads it again when it changes and on SIGHUP, and closes the connections
// of the buses whose passwords were revoked or replaced.
package vehicles

import (
	"bytes"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/headway-transit/headway/hub/internal/tokenfile"
	"github.com/headway-transit/headway/internal/wire"
)

// PasswordPrefix starts every vehicle password.
const PasswordPrefix = "hwv_"

// Vehicle is one entry of the register.
type Vehicle struct {
	Vehicle string    `json:"vehicle"`
	Hash    string    `json:"password_sha256"`
	Created time.Time `json:"created"`
	Revoked time.Time `json:"revoked,omitzero"`
}

type file struct {
	Version  int       `json:"version"`
	Vehicles []Vehicle `json:"vehicles"`
}

const fileVersion = 1

// Errors Check returns, wrapped with detail.
var (
	ErrUnknown = errors.New("unknown vehicle or wrong password")
	ErrRevoked = errors.New("password revoked")
)

// Load reads the register at path; a file others may read is refused.
func Load(path string) ([]Vehicle, error) {
	b, err := tokenfile.ReadPrivate(path)
	if err != nil {
		return nil, fmt.Errorf("vehicles %s: %w", path, err)
	}
	var f file
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("vehicles %s: %w", path, err)
	}
	if f.Version != fileVersion {
		return nil, fmt.Errorf("vehicles %s: version %d, want %d", path, f.Version, fileVersion)
	}
	seen := map[string]bool{}
	for i, v := range f.Vehicles {
		if err := wire.ValidID("vehicle", v.Vehicle); err != nil {
			return nil, fmt.Errorf("vehicles %s: entry %d: %w", path, i, err)
		}
		if seen[v.Vehicle] {
			return nil, fmt.Errorf("vehicles %s: vehicle %q listed twice", path, v.Vehicle)
		}
		seen[v.Vehicle] = true
		if !tokenfile.ValidHash(v.Hash) {
			return nil, fmt.Errorf("vehicles %s: vehicle %q: password_sha256 is not a SHA-256 in hex", path, v.Vehicle)
		}
	}
	return f.Vehicles, nil
}

func save(path string, vs []Vehicle) error {
	b, err := json.MarshalIndent(file{Version: fileVersion, Vehicles: vs}, "", "  ")
	if err != nil {
		return err
	}
	return tokenfile.WritePrivate(path, append(b, '\n'))
}

// Add registers vehicle, or gives it a new password if it is registered
// (revoked or not), and returns the password: shown once, stored hashed.
func Add(path, vehicle string, now time.Time) (string, error) {
	if err := wire.ValidID("vehicle", vehicle); err != nil {
		return "", err
	}
	vs, err := Load(path)
	if errors.Is(err, fs.ErrNotExist) {
		vs, err = nil, nil
	}
	if err != nil {
		return "", err
	}
	pw, err := tokenfile.New(PasswordPrefix)
	if err != nil {
		return "", err
	}
	v := Vehicle{Vehicle: vehicle, Hash: tokenfile.Hash(pw), Created: now.UTC()}
	if i := slices.IndexFunc(vs, func(x Vehicle) bool { return x.Vehicle == vehicle }); i >= 0 {
		vs[i] = v
	} else {
		vs = append(vs, v)
	}
	return pw, save(path, vs)
}

// Revoke marks vehicle's password revoked.
func Revoke(path, vehicle string, now time.Time) error {
	vs, err := Load(path)
	if err != nil {
		return err
	}
	i := slices.IndexFunc(vs, func(x Vehicle) bool { return x.Vehicle == vehicle })
	if i < 0 {
		return fmt.Errorf("no vehicle %q in %s", vehicle, path)
	}
	if !vs[i].Revoked.IsZero() {
		return fmt.Errorf("vehicle %q: already revoked at %s", vehicle, vs[i].Revoked.Format(time.RFC3339))
	}
	vs[i].Revoked = now.UTC()
	return save(path, vs)
}

// Register is the register as the running hub holds it.
type Register struct {
	path string
	mu   sync.RWMutex
	by   map[string]Vehicle // by vehicle id
}

// Open loads the register at path.
func Open(path string) (*Register, error) {
	r := &Register{path: path}
	if _, err := r.Reload(); err != nil {
		return nil, err
	}
	return r, nil
}

// Path is the register's file.
func (r *Register) Path() string { return r.path }

// Reload reads the file again and returns the vehicles whose passwords
// were revoked or replaced since (their connections are to close). On
// error the register in use stays.
func (r *Register) Reload() ([]string, error) {
	vs, err := Load(r.path)
	if err != nil {
		return nil, err
	}
	by := make(map[string]Vehicle, len(vs))
	for _, v := range vs {
		by[v.Vehicle] = v
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	var gone []string
	for id, old := range r.by {
		now, ok := by[id]
		if !ok || now.Hash != old.Hash || (!now.Revoked.IsZero() && old.Revoked.IsZero()) {
			gone = append(gone, id)
		}
	}
	r.by = by
	slices.Sort(gone)
	return gone, nil
}

// Check reports whether vehicle may connect with password.
func (r *Register) Check(vehicle, password string) error {
	if !strings.HasPrefix(password, PasswordPrefix) {
		return fmt.Errorf("%w: not a vehicle password (hub vehicles add)", ErrUnknown)
	}
	r.mu.RLock()
	v, ok := r.by[vehicle]
	r.mu.RUnlock()
	if !ok || subtle.ConstantTimeCompare([]byte(v.Hash), []byte(tokenfile.Hash(password))) != 1 {
		return ErrUnknown
	}
	if !v.Revoked.IsZero() {
		return fmt.Errorf("%w: vehicle %q's password was revoked at %s", ErrRevoked, vehicle, v.Revoked.Format(time.RFC3339))
	}
	return nil
}
