package gtfs

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestLoadFolderWithZip: a folder holding a zipped feed but no agency.txt
// is a download unpacked one level short; the error says which zip to use.
func TestLoadFolderWithZip(t *testing.T) {
	zipped, err := os.ReadFile(writeZip(t, filepath.Join("testdata", "good"), ""))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		files []string // a .zip holds testdata/good; "*" or "x/*" is testdata/good's files there
		want  string   // the whole error, DIR standing for the folder; "" to load
	}{
		{name: "one zip", files: []string{"feed.zip"},
			want: "load gtfs DIR: no agency.txt here, but feed.zip is: point gtfs: at the zip, DIR/feed.zip"},
		{name: "two zips", files: []string{"a.zip", "b.zip", "notes.txt"},
			want: "load gtfs DIR: no agency.txt here, but a.zip, b.zip are: point gtfs: at the feed's zip"},
		{name: "feed beside a zip", files: []string{"old.zip", "*"}},
		{name: "feed in a folder beside a zip", files: []string{"old.zip", "feed/*"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			for _, f := range tc.files {
				p := filepath.Join(dir, f)
				switch {
				case strings.HasSuffix(f, "*"):
					if err := os.CopyFS(filepath.Dir(p), os.DirFS(filepath.Join("testdata", "good"))); err != nil {
						t.Fatal(err)
					}
				case strings.HasSuffix(f, ".zip"):
					if err := os.WriteFile(p, zipped, 0o644); err != nil {
						t.Fatal(err)
					}
				default:
					if err := os.WriteFile(p, []byte("read me"), 0o644); err != nil {
						t.Fatal(err)
					}
				}
			}
			_, err := Load(dir)
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if want := strings.ReplaceAll(tc.want, "DIR", dir); err == nil || err.Error() != want {
				t.Errorf("got\n%v\nwant\n%s", err, want)
			}
		})
	}
	// A folder with neither says what is missing, as before.
	if _, err := Load(t.TempDir()); err == nil || !strings.Contains(err.Error(), "agency.txt") || strings.Contains(err.Error(), "zip") {
		t.Errorf("empty folder: %v", err)
	}
}
