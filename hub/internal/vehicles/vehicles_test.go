package vehicles

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestAddCheckRevoke(t *testing.T) {
	path := filepath.Join(t.TempDir(), "vehicles.json")
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	pw1, err := Add(path, "bus-1", now)
	if err != nil {
		t.Fatal(err)
	}
	pw2, err := Add(path, "bus-2", now)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(pw1, PasswordPrefix) || len(pw1) < 40 || pw1 == pw2 {
		t.Fatalf("passwords %q, %q", pw1, pw2)
	}
	b, _ := os.ReadFile(path)
	if strings.Contains(string(b), pw1[len(PasswordPrefix):]) {
		t.Fatal("the register holds a password itself")
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
		t.Errorf("register mode %04o, want 0600", st.Mode().Perm())
	}
	r, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Check("bus-1", pw1); err != nil {
		t.Errorf("bus-1 with its password: %v", err)
	}
	for _, c := range []struct{ vehicle, pw string }{
		{"bus-1", pw2},         // another bus's password
		{"bus-3", pw1},         // not registered
		{"bus-1", ""},          // none
		{"bus-1", "hwv_guess"}, // made up
		{"bus-1", "plain-old-password"},
	} {
		if err := r.Check(c.vehicle, c.pw); !errors.Is(err, ErrUnknown) {
			t.Errorf("%s with %q: %v, want ErrUnknown", c.vehicle, c.pw, err)
		}
	}
	if err := Revoke(path, "bus-1", now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := Revoke(path, "bus-1", now.Add(time.Hour)); err == nil || !strings.Contains(err.Error(), "already revoked") {
		t.Errorf("second revoke: %v", err)
	}
	if err := Revoke(path, "bus-9", now); err == nil {
		t.Error("revoked a vehicle not registered")
	}
	// A new password for bus-2 replaces its old one.
	pw2b, err := Add(path, "bus-2", now.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	gone, err := r.Reload()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(gone, ",") != "bus-1,bus-2" {
		t.Errorf("gone after revoke and replace: %v, want bus-1,bus-2", gone)
	}
	if err := r.Check("bus-1", pw1); !errors.Is(err, ErrRevoked) {
		t.Errorf("revoked bus-1: %v, want ErrRevoked", err)
	}
	if err := r.Check("bus-2", pw2); !errors.Is(err, ErrUnknown) {
		t.Errorf("bus-2's replaced password: %v, want ErrUnknown", err)
	}
	if err := r.Check("bus-2", pw2b); err != nil {
		t.Errorf("bus-2's new password: %v", err)
	}
}

func TestLoadRefuses(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), mode); err != nil {
			t.Fatal(err)
		}
		os.Chmod(p, mode)
		return p
	}
	hash := strings.Repeat("ab", 32)
	for _, c := range []struct{ name, body, want string }{
		{"readable.json", `{"version":1,"vehicles":[]}`, "chmod 600"},
		{"version.json", `{"version":2,"vehicles":[]}`, "version 2, want 1"},
		{"unknown.json", `{"version":1,"vehicles":[],"x":1}`, "unknown field"},
		{"bad-id.json", `{"version":1,"vehicles":[{"vehicle":"bus 1","password_sha256":"` + hash + `"}]}`, "entry 0"},
		{"twice.json", `{"version":1,"vehicles":[{"vehicle":"b","password_sha256":"` + hash + `"},{"vehicle":"b","password_sha256":"` + hash + `"}]}`, "listed twice"},
		{"hash.json", `{"version":1,"vehicles":[{"vehicle":"b","password_sha256":"plain"}]}`, "not a SHA-256"},
	} {
		mode := os.FileMode(0o600)
		if c.name == "readable.json" {
			mode = 0o644
		}
		_, err := Load(write(c.name, c.body, mode))
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), c.name) {
			t.Errorf("%s: %v, want an error naming the file and %q", c.name, err, c.want)
		}
	}
}

// FuzzCheck: whatever a client sends as username and password over MQTT,
// Check never panics and lets in only the registered pair.
func FuzzCheck(f *testing.F) {
	path := filepath.Join(f.TempDir(), "vehicles.json")
	pw, err := Add(path, "bus-1", time.Now())
	if err != nil {
		f.Fatal(err)
	}
	r, err := Open(path)
	if err != nil {
		f.Fatal(err)
	}
	f.Add("bus-1", pw)
	f.Add("bus-1", "")
	f.Add("", PasswordPrefix)
	f.Add("bus-1\x00", pw+"\x00")
	f.Fuzz(func(t *testing.T, vehicle, password string) {
		err := r.Check(vehicle, password)
		if (err == nil) != (vehicle == "bus-1" && password == pw) {
			t.Fatalf("Check(%q, %q) = %v", vehicle, password, err)
		}
	})
}
