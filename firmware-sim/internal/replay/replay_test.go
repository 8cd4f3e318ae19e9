package replay

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/headway-transit/headway/drivers/nmea"
)

// fakeClock advances only when waited on, and records every wait.
type fakeClock struct {
	now   time.Time
	waits []time.Duration
}

func (c *fakeClock) Now() time.Time { return c.now }
func (c *fakeClock) After(d time.Duration) <-chan time.Time {
	c.waits = append(c.waits, d)
	c.now = c.now.Add(d)
	ch := make(chan time.Time, 1)
	ch <- c.now
	return ch
}

func parseFile(t testing.TB, path string) (*Log, []byte) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lg, err := Parse(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return lg, b
}

func TestParseSmallLog(t *testing.T) {
	lg, _ := parseFile(t, "testdata/small.log")
	if lg.Comments != 3 {
		t.Errorf("comments = %d, want 3", lg.Comments)
	}
	want := []time.Duration{0, time.Second, 500 * time.Millisecond, time.Second, 3 * time.Second}
	if len(lg.Epochs) != len(want) {
		t.Fatalf("%d epochs, want %d", len(lg.Epochs), len(want))
	}
	for i, ep := range lg.Epochs {
		if ep.Gap != want[i] {
			t.Errorf("epoch %d gap %v, want %v", i, ep.Gap, want[i])
		}
		if bytes.Contains(ep.Data, []byte("#")) {
			t.Errorf("epoch %d holds a comment: %q", i, ep.Data)
		}
	}
	if !bytes.Contains(lg.Epochs[2].Data, []byte("noise")) {
		t.Errorf("the noise line did not stay with its epoch: %q", lg.Epochs[2].Data)
	}
}

func TestPlayPacing(t *testing.T) {
	lg, _ := parseFile(t, "testdata/small.log")
	tests := []struct {
		name  string
		speed float64
		loop  bool
		waits []time.Duration
	}{
		{"recorded pace", 1, false, []time.Duration{time.Second, 500 * time.Millisecond, time.Second, 3 * time.Second}},
		{"ten times faster", 10, false, []time.Duration{100 * time.Millisecond, 50 * time.Millisecond, 100 * time.Millisecond, 300 * time.Millisecond}},
		{"as fast as possible", 0, false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := &fakeClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
			var out bytes.Buffer
			st, err := Play(context.Background(), lg, &out, Options{Speed: tt.speed, Clock: clk})
			if err != nil {
				t.Fatal(err)
			}
			if st.Epochs != 5 || st.Loops != 1 || st.Bytes != int64(out.Len()) {
				t.Errorf("stats %+v", st)
			}
			if len(clk.waits) != len(tt.waits) {
				t.Fatalf("waits %v, want %v", clk.waits, tt.waits)
			}
			for i := range tt.waits {
				if clk.waits[i] != tt.waits[i] {
					t.Errorf("wait %d = %v, want %v", i, clk.waits[i], tt.waits[i])
				}
			}
			if strings.Contains(out.String(), "#") {
				t.Error("a comment was sent")
			}
		})
	}
}

// cancelWriter cancels the context after n writes.
type cancelWriter struct {
	n      int
	cancel context.CancelFunc
	buf    bytes.Buffer
}

func (w *cancelWriter) Write(b []byte) (int, error) {
	w.n--
	if w.n == 0 {
		w.cancel()
	}
	return w.buf.Write(b)
}

func TestPlayLoopStopsOnCancel(t *testing.T) {
	lg, _ := parseFile(t, "testdata/small.log")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w := &cancelWriter{n: 12, cancel: cancel}
	st, err := Play(ctx, lg, w, Options{Speed: 1, Loop: true, Clock: &fakeClock{}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Play = %v, want context.Canceled", err)
	}
	if st.Epochs != 12 || st.Loops != 2 {
		t.Errorf("stats %+v, want 12 epochs over 2 whole loops", st)
	}
}

func decode(t testing.TB, r io.Reader) ([]nmea.Fix, nmea.Stats) {
	t.Helper()
	dec := nmea.NewDecoder(r)
	var fixes []nmea.Fix
	for {
		f, err := dec.Next()
		if err != nil {
			if !errors.Is(err, io.EOF) {
				t.Fatal(err)
			}
			return fixes, dec.Stats()
		}
		fixes = append(fixes, f)
	}
}

// Replaying a real receiver's log at full speed gives the decoder what
// reading the file does.
func TestPlayRealLogs(t *testing.T) {
	dir := filepath.Join("..", "..", "..", "..", "shared", "testdata", "gpsd-nmea")
	logs, _ := filepath.Glob(filepath.Join(dir, "*.log"))
	if len(logs) == 0 {
		t.Skipf("no gpsd logs in %s (../shared/testdata is absent)", dir)
	}
	for _, path := range logs {
		t.Run(filepath.Base(path), func(t *testing.T) {
			lg, raw := parseFile(t, path)
			var out bytes.Buffer
			if _, err := Play(context.Background(), lg, &out, Options{}); err != nil {
				t.Fatal(err)
			}
			want, wst := decode(t, bytes.NewReader(raw))
			got, gst := decode(t, &out)
			if len(got) != len(want) {
				t.Fatalf("%d fixes replayed, %d from the file", len(got), len(want))
			}
			for i := range want {
				if !sameFix(got[i], want[i]) {
					t.Fatalf("fix %d: replayed %+v, file %+v", i, got[i], want[i])
				}
			}
			if int(wst.Comments) != lg.Comments || gst.Comments != 0 {
				t.Errorf("comments: file %d, parsed %d, replayed %d", wst.Comments, lg.Comments, gst.Comments)
			}
		})
	}
}

func sameFix(a, b nmea.Fix) bool {
	eq := func(x, y float64) bool { return x == y || x != x && y != y }
	return a.Time.Equal(b.Time) && a.Mode == b.Mode && eq(a.Lat, b.Lat) && eq(a.Lon, b.Lon) &&
		eq(a.AltMSL, b.AltMSL) && eq(a.Speed, b.Speed) && eq(a.Track, b.Track) && a.Sats == b.Sats
}
