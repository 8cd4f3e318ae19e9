package state

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSaveLoad(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "model.json")
	if _, ok, err := Load(path); ok || err != nil {
		t.Fatalf("no file yet: ok %v err %v", ok, err)
	}
	for _, data := range []string{"first", "second, longer than the first"} {
		if err := Save(path, []byte(data)); err != nil {
			t.Fatal(err)
		}
		got, ok, err := Load(path)
		if !ok || err != nil || string(got) != data {
			t.Fatalf("Load = %q %v %v, want %q", got, ok, err, data)
		}
	}
	// Nothing is left beside it.
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("directory holds %d files, want 1", len(entries))
	}
	// A save that cannot be made keeps the old file and says where.
	if err := Save(filepath.Join(dir, "missing", "model.json"), []byte("x")); err == nil || !strings.Contains(err.Error(), "missing") {
		t.Errorf("save into a missing directory: %v", err)
	}
	if got, _, _ := Load(path); string(got) != "second, longer than the first" {
		t.Errorf("file now %q", got)
	}
}
