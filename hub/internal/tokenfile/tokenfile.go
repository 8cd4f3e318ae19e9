// Package tokenfile is what the hub's registers of credentials (signs'
// tokens, vehicles' passwords) share: secrets made from 32 random bytes,
// stored only as their SHA-256 (a fast hash is as strong as a slow one for
// a random secret, and thousands of clients reconnecting cost nothing), in
// files only their owner may read, rewritten whole.
package tokenfile

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
)

// New returns a new secret: prefix (so one found in a log or a repository
// is recognised for what it is) and 32 random bytes in base64url.
func New(prefix string) (string, error) {
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", err
	}
	return prefix + base64.RawURLEncoding.EncodeToString(raw), nil
}

// Hash is a secret's SHA-256, hex: what a register stores.
func Hash(secret string) string {
	h := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(h[:])
}

// ValidHash reports whether h is a SHA-256 in hex.
func ValidHash(h string) bool {
	b, err := hex.DecodeString(h)
	return err == nil && len(b) == sha256.Size
}

// ReadPrivate reads the register at path, refusing a file that group or
// others may read: it says who the clients are and what they may do.
func ReadPrivate(path string) ([]byte, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if st.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("mode %04o lets others read it: chmod 600 %s", st.Mode().Perm(), path)
	}
	return os.ReadFile(path)
}

// WritePrivate writes b to path, mode 0600, whole: a temporary file synced
// and renamed over it, so a reader sees the old file or the new one.
func WritePrivate(path string, b []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+"-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
