// Package operators keeps the hub's dashboard and its private API behind a
// login: operators listed in hub.yaml with bcrypt password hashes sign in
// at /login and get a session cookie (HttpOnly, Secure, SameSite=Strict);
// cross-origin form posts are refused (net/http's CrossOriginProtection),
// so another site can neither sign an operator in nor out.
//
// Sign-in attempts are limited per source and bcrypt runs one at a time, so
// guessing passwords is slow for the guesser and cheap for the hub, whose
// boards keep their time. Refusals are counted and logged at most once a
// minute per source, never with the password.
package operators

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// User is an operator who may sign in.
type User struct {
	Username string
	// PasswordHash is the bcrypt hash of the password (hub passwd).
	PasswordHash string
}

// Check reports what is wrong with u.
func (u User) Check() error {
	if u.Username == "" || len(u.Username) > maxUsername {
		return fmt.Errorf("username %q: want 1 to %d characters", u.Username, maxUsername)
	}
	if _, err := bcrypt.Cost([]byte(u.PasswordHash)); err != nil {
		return fmt.Errorf("user %q: password_hash is not a bcrypt hash (make one with hub passwd): %w", u.Username, err)
	}
	return nil
}

const (
	maxUsername = 64
	// maxPassword is bcrypt's limit: it reads no further.
	maxPassword = 72
)

// Session lifetimes: an idle session ends after sessionIdle, any session
// after sessionMax.
const (
	sessionIdle = 8 * time.Hour
	sessionMax  = 24 * time.Hour
	maxSessions = 10_000
)

// sessionID is a session's secret: 32 random bytes, base64url in the
// cookie. The store keeps only its SHA-256.
type sessionID [32]byte

// sessionIDLen is the cookie value's length.
var sessionIDLen = base64.RawURLEncoding.EncodedLen(len(sessionID{}))

func newSessionID() (sessionID, error) {
	var id sessionID
	_, err := rand.Read(id[:])
	return id, err
}

func (id sessionID) String() string { return base64.RawURLEncoding.EncodeToString(id[:]) }

// parseSessionID reads a cookie's value: anything but a well-formed id is
// refused before any lookup.
func parseSessionID(v string) (sessionID, error) {
	var id sessionID
	if len(v) != sessionIDLen {
		return id, errors.New("session cookie: wrong length")
	}
	n, err := base64.RawURLEncoding.Strict().Decode(id[:], []byte(v))
	if err != nil || n != len(id) {
		return id, errors.New("session cookie: not base64url")
	}
	return id, nil
}

type session struct {
	user          string
	created, seen time.Time
}

// sessions are the signed-in operators, by the SHA-256 of their ids.
type sessions struct {
	mu sync.Mutex
	m  map[[32]byte]*session
}

func (s *sessions) add(user string, now time.Time) (sessionID, error) {
	id, err := newSessionID()
	if err != nil {
		return id, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = map[[32]byte]*session{}
	}
	if len(s.m) >= maxSessions {
		s.expire(now)
		// Still full: the oldest goes.
		for len(s.m) >= maxSessions {
			var oldest [32]byte
			var at time.Time
			for k, v := range s.m {
				if at.IsZero() || v.seen.Before(at) {
					oldest, at = k, v.seen
				}
			}
			delete(s.m, oldest)
		}
	}
	s.m[sha256.Sum256(id[:])] = &session{user: user, created: now, seen: now}
	return id, nil
}

// user is who holds id, if the session is live; it is kept alive.
func (s *sessions) user(id sessionID, now time.Time) (string, bool) {
	k := sha256.Sum256(id[:])
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.m[k]
	if !ok {
		return "", false
	}
	if now.Sub(v.seen) > sessionIdle || now.Sub(v.created) > sessionMax {
		delete(s.m, k)
		return "", false
	}
	v.seen = now
	return v.user, true
}

func (s *sessions) remove(id sessionID) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, sha256.Sum256(id[:]))
}

// keepOnly ends every session of users no longer listed.
func (s *sessions) keepOnly(users map[string]string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, v := range s.m {
		if _, ok := users[v.user]; !ok {
			delete(s.m, k)
		}
	}
}

func (s *sessions) expire(now time.Time) {
	for k, v := range s.m {
		if now.Sub(v.seen) > sessionIdle || now.Sub(v.created) > sessionMax {
			delete(s.m, k)
		}
	}
}

func (s *sessions) len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.m)
}

// dummyHash is compared against when the username is unknown, so a
// refusal takes as long whether or not the operator exists.
var dummyHash, _ = bcrypt.GenerateFromPassword([]byte("no such operator, no such password"), bcrypt.DefaultCost)

// verify checks password against hash (or the dummy), in constant time as
// far as bcrypt goes.
func verify(hash, password string) bool {
	h := []byte(hash)
	if hash == "" {
		h = dummyHash
	}
	return bcrypt.CompareHashAndPassword(h, []byte(password)) == nil && hash != ""
}
