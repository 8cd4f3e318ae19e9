// Package signs keeps the hub's register of signs (displays): each has its
// own token, stored hashed, and the stops it may show. The hub refuses a
// sign connection whose token is missing, unknown or revoked, and a
// subscription outside the sign's stops.
//
// The register is a JSON file (http.signs in hub.yaml) written by `hub
// signs add|list|revoke` and read by the running hub when it changes and on
// SIGHUP. A token is shown once, when it is made: the file holds only its
// SHA-256 (tokens are 32 random bytes, so a fast hash is as strong as a
// slow one here, and 20,000 signs reconnecting cost nothing).
package signs

import (
	"bytes"
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

// TokenPrefix starts every sign token, so one found in a log or a
// repository is recognised for what it is.
const TokenPrefix = "hws_"

// Sign is one entry of the register.
type Sign struct {
	Display string    `json:"display"`
	Stops   []string  `json:"stops"`
	Hash    string    `json:"token_sha256"`
	Created time.Time `json:"created"`
	Revoked time.Time `json:"revoked,omitzero"`
}

type file struct {
	Version int    `json:"version"`
	Signs   []Sign `json:"signs"`
}

const fileVersion = 1

// Errors Check returns, wrapped with detail.
var (
	ErrNoToken      = errors.New("no token")
	ErrUnknownToken = errors.New("unknown token")
	ErrRevoked      = errors.New("token revoked")
)

// Load reads the register at path. A file readable by group or others is
// refused: it says who the signs are and what they may see.
func Load(path string) ([]Sign, error) {
	b, err := tokenfile.ReadPrivate(path)
	if err != nil {
		return nil, fmt.Errorf("signs %s: %w", path, err)
	}
	var f file
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("signs %s: %w", path, err)
	}
	if f.Version != fileVersion {
		return nil, fmt.Errorf("signs %s: version %d, want %d", path, f.Version, fileVersion)
	}
	seen := map[string]bool{}
	for i, s := range f.Signs {
		if err := wire.ValidID("display", s.Display); err != nil {
			return nil, fmt.Errorf("signs %s: entry %d: %w", path, i, err)
		}
		if seen[s.Display] {
			return nil, fmt.Errorf("signs %s: display %q listed twice", path, s.Display)
		}
		seen[s.Display] = true
		if len(s.Stops) == 0 || len(s.Stops) > wire.MaxStopsPerSubscribe {
			return nil, fmt.Errorf("signs %s: display %q: %d stops, want 1 to %d", path, s.Display, len(s.Stops), wire.MaxStopsPerSubscribe)
		}
		for _, st := range s.Stops {
			if err := wire.ValidID("stop", st); err != nil {
				return nil, fmt.Errorf("signs %s: display %q: %w", path, s.Display, err)
			}
		}
		if !tokenfile.ValidHash(s.Hash) {
			return nil, fmt.Errorf("signs %s: display %q: token_sha256 is not a SHA-256 in hex", path, s.Display)
		}
	}
	return f.Signs, nil
}

// save writes signs to path, mode 0600, whole.
func save(path string, signs []Sign) error {
	b, err := json.MarshalIndent(file{Version: fileVersion, Signs: signs}, "", "  ")
	if err != nil {
		return err
	}
	return tokenfile.WritePrivate(path, append(b, '\n'))
}

// Add registers display for stops, or gives it a new token if it is
// registered (revoked or not), and returns the token: shown once, stored
// only hashed.
func Add(path, display string, stops []string, now time.Time) (string, error) {
	if err := wire.ValidID("display", display); err != nil {
		return "", err
	}
	if len(stops) == 0 || len(stops) > wire.MaxStopsPerSubscribe {
		return "", fmt.Errorf("%d stops, want 1 to %d", len(stops), wire.MaxStopsPerSubscribe)
	}
	for _, st := range stops {
		if err := wire.ValidID("stop", st); err != nil {
			return "", err
		}
	}
	signs, err := Load(path)
	if errors.Is(err, fs.ErrNotExist) {
		signs, err = nil, nil
	}
	if err != nil {
		return "", err
	}
	token, err := tokenfile.New(TokenPrefix)
	if err != nil {
		return "", err
	}
	s := Sign{Display: display, Stops: slices.Clone(stops), Hash: tokenfile.Hash(token), Created: now.UTC()}
	if i := slices.IndexFunc(signs, func(x Sign) bool { return x.Display == display }); i >= 0 {
		signs[i] = s
	} else {
		signs = append(signs, s)
	}
	return token, save(path, signs)
}

// Revoke marks display's token revoked.
func Revoke(path, display string, now time.Time) error {
	signs, err := Load(path)
	if err != nil {
		return err
	}
	i := slices.IndexFunc(signs, func(x Sign) bool { return x.Display == display })
	if i < 0 {
		return fmt.Errorf("no sign %q in %s", display, path)
	}
	if !signs[i].Revoked.IsZero() {
		return fmt.Errorf("sign %q: already revoked at %s", display, signs[i].Revoked.Format(time.RFC3339))
	}
	signs[i].Revoked = now.UTC()
	return save(path, signs)
}

// Grant is what a sign's token lets it do.
type Grant struct {
	Display string
	Stops   []string
}

// Allows reports whether the grant covers display showing stops; the
// error says what is outside it.
func (g Grant) Allows(display string, stops []string) error {
	if display != g.Display {
		return fmt.Errorf("this token is display %q's, not %q's", g.Display, display)
	}
	for _, st := range stops {
		if !slices.Contains(g.Stops, st) {
			return fmt.Errorf("display %q is not registered for stop %q (hub signs add -display %s -stops ...)", display, st, display)
		}
	}
	return nil
}

// Register is the register as the running hub holds it.
type Register struct {
	path string
	mu   sync.RWMutex
	by   map[string]Sign // by token hash
}

// Open loads the register at path.
func Open(path string) (*Register, error) {
	r := &Register{path: path}
	if _, err := r.Reload(); err != nil {
		return nil, err
	}
	return r, nil
}

// Reload reads the file again, if it changed, and returns the displays
// whose tokens were revoked or replaced since (their connections are to
// close). On error the register in use stays.
func (r *Register) Reload() ([]string, error) {
	signs, err := Load(r.path)
	if err != nil {
		return nil, err
	}
	by := make(map[string]Sign, len(signs))
	for _, s := range signs {
		by[s.Hash] = s
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	var gone []string
	for h, old := range r.by {
		if now, ok := by[h]; !ok || (!now.Revoked.IsZero() && old.Revoked.IsZero()) {
			gone = append(gone, old.Display)
		}
	}
	r.by = by
	slices.Sort(gone)
	return slices.Compact(gone), nil
}

// Path is the register's file.
func (r *Register) Path() string { return r.path }

// Check finds the sign a token belongs to.
func (r *Register) Check(token string) (Grant, error) {
	if token == "" {
		return Grant{}, fmt.Errorf("%w: send Authorization: Bearer <the sign's token> (hub signs add)", ErrNoToken)
	}
	if !strings.HasPrefix(token, TokenPrefix) {
		return Grant{}, fmt.Errorf("%w: not a sign token", ErrUnknownToken)
	}
	r.mu.RLock()
	s, ok := r.by[tokenfile.Hash(token)]
	r.mu.RUnlock()
	switch {
	case !ok:
		return Grant{}, fmt.Errorf("%w: no sign has it (revoked and replaced, or mistyped)", ErrUnknownToken)
	case !s.Revoked.IsZero():
		return Grant{}, fmt.Errorf("%w: display %q's token was revoked at %s", ErrRevoked, s.Display, s.Revoked.Format(time.RFC3339))
	}
	return Grant{Display: s.Display, Stops: slices.Clone(s.Stops)}, nil
}
