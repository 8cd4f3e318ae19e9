package gtfs

import (
	"archive/zip"
	"os"
	"path/filepath"
	"testing"
)

// writeZip zips the files of dir under prefix into a temporary file.
func writeZip(tb testing.TB, dir, prefix string) string {
	tb.Helper()
	out := filepath.Join(tb.TempDir(), "feed.zip")
	f, err := os.Create(out)
	if err != nil {
		tb.Fatal(err)
	}
	zw := zip.NewWriter(f)
	entries, err := os.ReadDir(dir)
	if err != nil {
		tb.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			tb.Fatal(err)
		}
		w, err := zw.Create(prefix + e.Name())
		if err != nil {
			tb.Fatal(err)
		}
		if _, err := w.Write(b); err != nil {
			tb.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		tb.Fatal(err)
	}
	if err := f.Close(); err != nil {
		tb.Fatal(err)
	}
	return out
}
