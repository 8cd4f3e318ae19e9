package nmea

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The conformance test replays gpsd's regression logs and compares the
// fixes with gpsd's own output the way ../shared/tools/gpsd_compare.py
// does: a gpsd fix is a TPV line with "time", mode >= 2 and "lat"; ours
// matches it when its time is the same to the millisecond (modulo one
// 1024-week rollover, since gpsd moves some old logs' dates), lat/lon are
// within 1e-6 degrees, and speed and track, when both give them, within
// 0.01 m/s and 0.1 degree.

// gpsdLogDir is relative to this package's directory: the shared test data
// sits beside the repository checkout.
var gpsdLogDir = filepath.Join("..", "..", "..", "shared", "testdata", "gpsd-nmea")

const rolloverMillis = 1024 * 7 * 86400 * 1000

// tpvFix is the part of a TPV line the comparison looks at.
type tpvFix struct {
	Lat, Lon, Speed, Track float64 // NaN when absent
}

// tkey is a time in ms modulo one rollover, as gpsd_compare.py's tkey.
func tkey(t time.Time) int64 {
	ms := t.Round(time.Millisecond).UnixMilli()
	return ((ms % rolloverMillis) + rolloverMillis) % rolloverMillis
}

// loadGPSD reads gpsd's fixes from a .log.chk, by time key.
func loadGPSD(tb testing.TB, path string) map[int64][]tpvFix {
	tb.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	out := make(map[int64][]tpvFix)
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := bytes.TrimSpace(sc.Bytes())
		if !bytes.HasPrefix(line, []byte("{")) {
			continue
		}
		var v struct {
			Class        string
			Mode         int
			Time         *string
			Lat, Lon     *float64
			Speed, Track *float64
		}
		if json.Unmarshal(line, &v) != nil || v.Class != "TPV" || v.Time == nil || v.Mode < 2 || v.Lat == nil || v.Lon == nil {
			continue
		}
		t, err := time.Parse(time.RFC3339Nano, *v.Time)
		if err != nil {
			tb.Fatalf("%s: bad time %q", path, *v.Time)
		}
		f := tpvFix{Lat: *v.Lat, Lon: *v.Lon, Speed: math.NaN(), Track: math.NaN()}
		if v.Speed != nil {
			f.Speed = *v.Speed
		}
		if v.Track != nil {
			f.Track = *v.Track
		}
		k := tkey(t)
		out[k] = append(out[k], f)
	}
	if err := sc.Err(); err != nil {
		tb.Fatal(err)
	}
	return out
}

// ourFixes decodes a log into the fixes `agent nmea` would print with a
// time, mode >= 2 and a position; simulated fixes are printed without
// time, so they are not among them.
func ourFixes(tb testing.TB, data []byte) map[int64][]tpvFix {
	tb.Helper()
	out := make(map[int64][]tpvFix)
	for _, f := range decodeBytes(tb, data) {
		if f.Time.IsZero() || f.Mode < Mode2D || !f.HasPosition() || f.Status == StatusSimulated {
			continue
		}
		k := tkey(f.Time)
		out[k] = append(out[k], tpvFix{Lat: f.Lat, Lon: f.Lon, Speed: f.Speed, Track: f.Track})
	}
	return out
}

func decodeBytes(tb testing.TB, data []byte) []Fix {
	tb.Helper()
	d := NewDecoder(bytes.NewReader(data))
	var fixes []Fix
	for {
		f, err := d.Next()
		if errors.Is(err, io.EOF) {
			return fixes
		}
		if err != nil {
			tb.Fatal(err)
		}
		fixes = append(fixes, f)
	}
}

func closeFix(a, b tpvFix) bool {
	if math.Abs(a.Lat-b.Lat) > 1e-6 || math.Abs(a.Lon-b.Lon) > 1e-6 {
		return false
	}
	if !math.IsNaN(a.Speed) && !math.IsNaN(b.Speed) && math.Abs(a.Speed-b.Speed) > 0.01 {
		return false
	}
	if !math.IsNaN(a.Track) && !math.IsNaN(b.Track) {
		d := math.Mod(math.Abs(a.Track-b.Track), 360)
		if math.Min(d, 360-d) > 0.1 {
			return false
		}
	}
	return true
}

type tally struct{ gpsd, matched, missing, mismatched, extra int }

func compareFixes(gpsd, ours map[int64][]tpvFix) tally {
	r := tally{gpsd: len(gpsd)}
	for k, gs := range gpsd {
		os, ok := ours[k]
		if !ok {
			r.missing++
			continue
		}
		match := false
		for _, g := range gs {
			for _, o := range os {
				match = match || closeFix(g, o)
			}
		}
		if match {
			r.matched++
		} else {
			r.mismatched++
		}
	}
	for k := range ours {
		if _, ok := gpsd[k]; !ok {
			r.extra++
		}
	}
	return r
}

func gpsdLogs(tb testing.TB) []string {
	tb.Helper()
	paths, err := filepath.Glob(filepath.Join(gpsdLogDir, "*.log"))
	if err != nil {
		tb.Fatal(err)
	}
	if len(paths) == 0 {
		tb.Skipf("no gpsd logs in %s: the shared test data (../shared/testdata beside the repository) is absent", gpsdLogDir)
	}
	return paths
}

func TestConformanceGPSD(t *testing.T) {
	paths := gpsdLogs(t)
	var total tally
	var table strings.Builder
	fmt.Fprintf(&table, "\n%-32s %6s %8s %8s %11s %6s\n", "log", "gpsd", "matched", "missing", "mismatched", "extra")
	for _, path := range paths {
		name := strings.TrimSuffix(filepath.Base(path), ".log")
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		r := compareFixes(loadGPSD(t, path+".chk"), ourFixes(t, data))
		fmt.Fprintf(&table, "%-32s %6d %8d %8d %11d %6d\n", name, r.gpsd, r.matched, r.missing, r.mismatched, r.extra)
		total.gpsd += r.gpsd
		total.matched += r.matched
		total.missing += r.missing
		total.mismatched += r.mismatched
		total.extra += r.extra
		if r.gpsd > 0 && float64(r.matched) < 0.95*float64(r.gpsd) {
			t.Errorf("%s: %d of %d gpsd fixes matched, want at least 95%%", name, r.matched, r.gpsd)
		}
	}
	fmt.Fprintf(&table, "%-32s %6d %8d %8d %11d %6d", "TOTAL", total.gpsd, total.matched, total.missing, total.mismatched, total.extra)
	t.Log(table.String())
	if total.gpsd == 0 {
		t.Fatal("no gpsd fixes in any .log.chk")
	}
	if float64(total.matched) < 0.99*float64(total.gpsd) {
		t.Errorf("%d of %d gpsd fixes matched overall (%.2f%%), want at least 99%%",
			total.matched, total.gpsd, 100*float64(total.matched)/float64(total.gpsd))
	}
}

// TestConformanceCorruption checks that a corrupted sentence contributes
// nothing: for every sentence of every log, the log with one byte of that
// sentence's body changed must decode to exactly the fixes of the log
// without that line, with one more checksum reject. A changed byte always
// changes the XOR checksum, so this holds for every sentence.
func TestConformanceCorruption(t *testing.T) {
	paths := gpsdLogs(t)
	// Each check decodes the log twice; a sample of lines spread over the
	// longer logs keeps the test quick, also under -race.
	maxChecks := 120
	if testing.Short() {
		maxChecks = 20
	}
	for _, path := range paths {
		name := strings.TrimSuffix(filepath.Base(path), ".log")
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			lines := bytes.SplitAfter(data, []byte("\n"))
			stride := max(1, len(lines)/maxChecks)
			checked := 0
			for i, line := range lines {
				if i%stride != 0 {
					continue
				}
				star := bytes.LastIndexByte(line, '*')
				if !bytes.HasPrefix(line, []byte("$")) || star < 2 || bytes.IndexByte(line[1:], '$') >= 0 {
					continue
				}
				if _, err := ParseSentence(line); err != nil {
					continue // already rejected as it is
				}
				without := bytes.Join(append(append([][]byte{}, lines[:i]...), lines[i+1:]...), nil)
				corrupt := bytes.Clone(data)
				pos := 0 // offset of the line
				for _, l := range lines[:i] {
					pos += len(l)
				}
				// A byte of the body, spread over the sentence from line to line.
				j := pos + 1 + (i*7)%(star-1)
				corrupt[j] = flip(corrupt[j])
				want, got := decodeWithStats(t, without), decodeWithStats(t, corrupt)
				if want.fixes != got.fixes {
					t.Fatalf("line %d %q with byte %d changed:\n got  %s\n want %s", i+1, bytes.TrimSpace(line), j-pos, got.fixes, want.fixes)
				}
				if got.rejects != want.rejects+1 {
					t.Fatalf("line %d with byte %d changed: %d rejects, want %d", i+1, j-pos, got.rejects, want.rejects+1)
				}
				checked++
			}
			if checked == 0 {
				t.Skip("no good sentence in the log")
			}
		})
	}
}

// flip changes one bit of c, never into a character that frames a sentence.
func flip(c byte) byte {
	for _, bit := range []byte{1, 2, 4, 8} {
		switch c ^ bit {
		case '$', '*', '\r', '\n', '#':
			continue
		}
		return c ^ bit
	}
	return c ^ 0x40
}

type decoded struct {
	fixes   string
	rejects uint64
}

func decodeWithStats(tb testing.TB, data []byte) decoded {
	tb.Helper()
	d := NewDecoder(bytes.NewReader(data))
	var b strings.Builder
	for {
		f, err := d.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			tb.Fatal(err)
		}
		fmt.Fprintf(&b, "%+v\n", f)
	}
	var n uint64
	for _, v := range d.Stats().Rejects {
		n += v
	}
	return decoded{fixes: b.String(), rejects: n}
}
