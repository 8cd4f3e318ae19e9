package nmea

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// sharedLogs returns the gpsd regression logs kept outside the repository
// (they are under gpsd's licence and are not copied in), or nil when the
// directory is absent.
func sharedLogs(tb testing.TB) []string {
	tb.Helper()
	paths, err := filepath.Glob(filepath.Join("..", "..", "..", "shared", "testdata", "gpsd-nmea", "*.log"))
	if err != nil {
		tb.Fatal(err)
	}
	return paths
}

func TestSharedLogs(t *testing.T) {
	paths := sharedLogs(t)
	if len(paths) == 0 {
		t.Skip("no gpsd logs: ../shared/testdata/gpsd-nmea/*.log is absent (it sits beside the repository checkout)")
	}
	var total uint64
	for _, path := range paths {
		t.Run(filepath.Base(path), func(t *testing.T) {
			f, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			d := NewDecoder(f)
			var fixes, positions int
			for {
				fix, err := d.Next()
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					t.Fatalf("Next: %v", err)
				}
				fixes++
				if fix.HasPosition() {
					positions++
				}
			}
			s := d.Stats()
			total += uint64(fixes)
			t.Logf("%d fixes, %d with position; sentences %v, rejects %v", fixes, positions, s.Sentences, s.Rejects)
			if s.Sentences["RMC"]+s.Sentences["GGA"] > 0 && fixes == 0 {
				t.Errorf("decoded RMC/GGA but yielded no fix")
			}
			if fi, err := f.Stat(); err == nil && s.Bytes != uint64(fi.Size()) {
				t.Errorf("Stats.Bytes = %d, file has %d", s.Bytes, fi.Size())
			}
		})
	}
	if total == 0 {
		t.Error("no fixes from any log")
	}
}
