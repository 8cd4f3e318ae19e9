package receiver

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/headway-transit/headway/drivers/nmea"
	"github.com/headway-transit/headway/firmware-sim/internal/motion"
	"github.com/headway-transit/headway/internal/geo"
	"github.com/headway-transit/headway/internal/gtfs"
)

// states returns one true state per second over a bus's first minutes on a
// two-stop trip, plus hand-picked states in every hemisphere.
func states(t testing.TB) []motion.State {
	t.Helper()
	a := geo.Point{Lat: 44.3879, Lon: 8.8811}
	b := geo.Offset(a, 60, 2000)
	pl, err := geo.NewPolyline([]geo.Point{a, b})
	if err != nil {
		t.Fatal(err)
	}
	tr := &gtfs.Trip{ID: "T", Path: pl, StopTimes: []gtfs.StopTime{
		{StopID: "A", Arrival: 3600, Departure: 3600, Dist: 0},
		{StopID: "B", Arrival: 3600 + 240, Departure: 3600 + 240, Dist: pl.Length()},
	}}
	day := time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)
	d, err := motion.NewDriver(tr, day, time.Time{}, motion.DefaultConfig(), rand.New(rand.NewPCG(1, 2)))
	if err != nil {
		t.Fatal(err)
	}
	var out []motion.State
	for s := 3590; s < 3600+300; s++ {
		out = append(out, d.At(day.Add(time.Duration(s)*time.Second)))
	}
	ts := day.Add(48 * time.Hour)
	out = append(out,
		motion.State{Time: ts, Lat: -33.8688, Lon: 151.2093, Speed: 12.3, Track: 359.99},
		motion.State{Time: ts.Add(time.Second), Lat: 40.7128, Lon: -74.0060, Speed: 0, Track: 0},
		motion.State{Time: ts.Add(2 * time.Second), Lat: -0.000004, Lon: -179.999996, Speed: 3, Track: 180},
	)
	return out
}

func TestEmitDecodesToTruth(t *testing.T) {
	var buf bytes.Buffer
	rx := New(&buf)
	truth := states(t)
	for _, s := range truth {
		if err := rx.Emit(s); err != nil {
			t.Fatal(err)
		}
	}
	checkChecksums(t, buf.String())

	dec := nmea.NewDecoder(bytes.NewReader(buf.Bytes()))
	for i, want := range truth {
		got, err := dec.Next()
		if err != nil {
			t.Fatalf("fix %d: %v", i, err)
		}
		if !got.Time.Equal(want.Time) {
			t.Fatalf("fix %d: time %v, want %v", i, got.Time, want.Time)
		}
		if got.Mode != nmea.Mode3D || got.Sats != 9 || math.Abs(got.HDOP-0.9) > 1e-9 || math.Abs(got.AltMSL-20) > 1e-9 {
			t.Errorf("fix %d: mode %v sats %d hdop %v alt %v, want 3D, 9, 0.9, 20", i, got.Mode, got.Sats, got.HDOP, got.AltMSL)
		}
		if math.Abs(got.Lat-want.Lat) > 1e-5 || math.Abs(got.Lon-want.Lon) > 1e-5 {
			t.Errorf("fix %d: %v,%v, want %v,%v", i, got.Lat, got.Lon, want.Lat, want.Lon)
		}
		if math.Abs(got.Speed-want.Speed) > 0.01 {
			t.Errorf("fix %d: speed %v, want %v", i, got.Speed, want.Speed)
		}
		if geo.AngleDiff(got.Track, want.Track) > 0.01 {
			t.Errorf("fix %d: track %v, want %v", i, got.Track, want.Track)
		}
	}
	if _, err := dec.Next(); !errors.Is(err, io.EOF) {
		t.Errorf("after the last fix: %v, want EOF", err)
	}
	if r := dec.Stats().Rejects; len(r) > 0 {
		t.Errorf("decoder rejected lines: %v", r)
	}
}

// checkChecksums verifies each line independently of the decoder: RMC then
// GGA, CR LF endings, XOR checksum of the body.
func checkChecksums(t *testing.T, out string) {
	t.Helper()
	lines := strings.SplitAfter(out, "\n")
	if lines[len(lines)-1] != "" {
		t.Fatalf("output does not end in a line ending: %q", lines[len(lines)-1])
	}
	for n, line := range lines[:len(lines)-1] {
		want := "$GPRMC,"
		if n%2 == 1 {
			want = "$GPGGA,"
		}
		if !strings.HasPrefix(line, want) || !strings.HasSuffix(line, "\r\n") {
			t.Fatalf("line %d = %q, want %s... ending in CR LF", n, line, want)
		}
		line = strings.TrimSuffix(line, "\r\n")
		star := strings.LastIndexByte(line, '*')
		if star < 0 {
			t.Fatalf("line %d has no checksum: %q", n, line)
		}
		var sum byte
		for i := 1; i < star; i++ {
			sum ^= line[i]
		}
		if got := fmt.Sprintf("%02X", sum); line[star+1:] != got {
			t.Errorf("line %d checksum %s, computed %s: %q", n, line[star+1:], got, line)
		}
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("port gone") }

func TestEmitReportsWriteError(t *testing.T) {
	err := New(failWriter{}).Emit(motion.State{Time: time.Unix(0, 0)})
	if err == nil || !strings.Contains(err.Error(), "port gone") {
		t.Fatalf("Emit = %v, want the write error", err)
	}
}
