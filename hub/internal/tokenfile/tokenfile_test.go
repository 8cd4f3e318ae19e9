package tokenfile

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSecretsAndHashes(t *testing.T) {
	a, err := New("hwx_")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := New("hwx_")
	if !strings.HasPrefix(a, "hwx_") || len(a) != 4+43 || a == b {
		t.Fatalf("secrets %q %q: want the prefix and 43 base64url characters, never twice the same", a, b)
	}
	if h := Hash(a); !ValidHash(h) || h == Hash(b) || strings.Contains(h, a[4:]) {
		t.Errorf("hash %q of %q", h, a)
	}
	for _, bad := range []string{"", "zz", strings.Repeat("a", 63), strings.Repeat("g", 64)} {
		if ValidHash(bad) {
			t.Errorf("ValidHash(%q) = true", bad)
		}
	}
}

func TestPrivateFiles(t *testing.T) {
	path := filepath.Join(t.TempDir(), "register.json")
	if err := WritePrivate(path, []byte("one\n")); err != nil {
		t.Fatal(err)
	}
	if err := WritePrivate(path, []byte("two\n")); err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
		t.Errorf("mode %04o, want 0600", st.Mode().Perm())
	}
	got, err := ReadPrivate(path)
	if err != nil || string(got) != "two\n" {
		t.Fatalf("read %q, %v", got, err)
	}
	if left, _ := filepath.Glob(filepath.Join(filepath.Dir(path), ".register.json-*")); len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
	os.Chmod(path, 0o640)
	if _, err := ReadPrivate(path); err == nil || !strings.Contains(err.Error(), "chmod 600 "+path) {
		t.Errorf("group-readable register: %v, want the chmod to run", err)
	}
}
