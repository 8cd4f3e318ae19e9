package signs

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestAddCheckRevoke(t *testing.T) {
	path := filepath.Join(t.TempDir(), "signs.json")
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	tok, err := Add(path, "sign-1", []string{"CEN", "S1"}, now)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(tok, TokenPrefix) || len(tok) < 40 {
		t.Fatalf("token %q", tok)
	}
	b, _ := os.ReadFile(path)
	if strings.Contains(string(b), tok) || strings.Contains(string(b), tok[len(TokenPrefix):]) {
		t.Fatal("the register holds the token itself")
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
		t.Errorf("register mode %04o, want 0600", st.Mode().Perm())
	}
	tok2, err := Add(path, "sign-2", []string{"S2"}, now)
	if err != nil {
		t.Fatal(err)
	}
	r, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	g, err := r.Check(tok)
	if err != nil || g.Display != "sign-1" || len(g.Stops) != 2 {
		t.Fatalf("check: %+v, %v", g, err)
	}
	if err := g.Allows("sign-1", []string{"CEN"}); err != nil {
		t.Error(err)
	}
	if err := g.Allows("sign-1", []string{"CEN", "S2"}); err == nil || !strings.Contains(err.Error(), `not registered for stop "S2"`) {
		t.Errorf("another sign's stop: %v", err)
	}
	if err := g.Allows("sign-2", []string{"S2"}); err == nil {
		t.Error("posing as another display allowed")
	}
	for _, c := range []struct {
		token string
		want  error
	}{
		{"", ErrNoToken},
		{"bearer-nonsense", ErrUnknownToken},
		{TokenPrefix + "AAAA", ErrUnknownToken},
	} {
		if _, err := r.Check(c.token); !errors.Is(err, c.want) {
			t.Errorf("token %q: %v, want %v", c.token, err, c.want)
		}
	}

	// Revoked: refused, and the running register says whose went.
	if err := Revoke(path, "sign-1", now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := Revoke(path, "sign-1", now.Add(time.Hour)); err == nil {
		t.Error("revoked twice")
	}
	gone, err := r.Reload()
	if err != nil || len(gone) != 1 || gone[0] != "sign-1" {
		t.Errorf("reload: gone %v, %v", gone, err)
	}
	if _, err := r.Check(tok); !errors.Is(err, ErrRevoked) || !strings.Contains(err.Error(), "sign-1") {
		t.Errorf("revoked token: %v", err)
	}
	if _, err := r.Check(tok2); err != nil {
		t.Errorf("the other sign's token: %v", err)
	}
	// A new token for sign-1: the old one stays refused.
	tok3, err := Add(path, "sign-1", []string{"CEN"}, now.Add(2*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Reload(); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Check(tok3); err != nil {
		t.Errorf("new token: %v", err)
	}
	if _, err := r.Check(tok); !errors.Is(err, ErrUnknownToken) {
		t.Errorf("old token after a new one: %v", err)
	}
}

func TestLoadRefuses(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "signs.json")
	if _, err := Add(good, "sign-1", []string{"CEN"}, time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(good, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(good); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Errorf("world-readable register: %v", err)
	}
	for name, content := range map[string]string{
		"version":  `{"version": 2, "signs": []}`,
		"unknown":  `{"version": 1, "signs": [], "tokens": []}`,
		"display":  `{"version": 1, "signs": [{"display": "bad id", "stops": ["A"], "token_sha256": "00"}]}`,
		"hash":     `{"version": 1, "signs": [{"display": "s", "stops": ["A"], "token_sha256": "zz"}]}`,
		"nostops":  `{"version": 1, "signs": [{"display": "s", "stops": [], "token_sha256": "00"}]}`,
		"twice":    `{"version": 1, "signs": [{"display": "s", "stops": ["A"], "token_sha256": "` + strings.Repeat("0", 64) + `"}, {"display": "s", "stops": ["A"], "token_sha256": "` + strings.Repeat("1", 64) + `"}]}`,
		"truncate": `{"version": 1, "signs": [`,
	} {
		p := filepath.Join(dir, name+".json")
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := Load(p); err == nil || !strings.Contains(err.Error(), p) {
			t.Errorf("%s: %v, want an error naming the file", name, err)
		}
	}
}

func FuzzLoad(f *testing.F) {
	f.Add([]byte(`{"version": 1, "signs": [{"display": "s", "stops": ["A"], "token_sha256": "` + strings.Repeat("0", 64) + `"}]}`))
	f.Add([]byte(`{"version": 1`))
	f.Fuzz(func(t *testing.T, b []byte) {
		p := filepath.Join(t.TempDir(), "signs.json")
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		_, _ = Load(p) // an error or a register, never a panic
	})
}

// FuzzCheck: any token is granted only as the register says, never a
// panic.
func FuzzCheck(f *testing.F) {
	path := filepath.Join(f.TempDir(), "signs.json")
	tok, err := Add(path, "sign-1", []string{"A"}, time.Now())
	if err != nil {
		f.Fatal(err)
	}
	r, err := Open(path)
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{tok, "", TokenPrefix, tok + "x", strings.ToUpper(tok)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		g, err := r.Check(s)
		if (err == nil) != (s == tok) {
			t.Errorf("token %q: grant %+v, %v", s, g, err)
		}
	})
}
