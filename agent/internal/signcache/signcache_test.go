package signcache

import (
	"bytes"
	"errors"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/headway-transit/headway/internal/wire"
)

var t0 = time.Date(2026, 11, 27, 7, 0, 0, 0, time.UTC)

func testBoard(stop string) wire.Board {
	pred := t0.Add(5 * time.Minute)
	return wire.Board{
		Type:        wire.TypeBoard,
		Stop:        stop,
		StopName:    "Central Station",
		GeneratedAt: t0,
		Arrivals: []wire.Arrival{{
			Trip: "t1", Route: "r1", RouteShortName: "12", Headsign: "Harbour",
			Vehicle: "bus-17", StopSequence: 7, Scheduled: t0.Add(4 * time.Minute),
			Predicted: &pred, Source: wire.SourceRealtime,
		}},
	}
}

func testTimetable(stop string) wire.Timetable {
	return wire.Timetable{
		Type: wire.TypeTimetable, Stop: stop, From: t0, Until: t0.Add(24 * time.Hour),
		Departures: []wire.Departure{{Trip: "t9", Route: "r1", RouteShortName: "12", Headsign: "Harbour", Scheduled: t0.Add(10 * time.Minute)}},
	}
}

func openTB(tb testing.TB, path string) *Cache {
	tb.Helper()
	c, err := Open(path, slog.New(slog.DiscardHandler))
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	return c
}

func TestRoundTripAndReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "sign.db")
	c := openTB(t, path)

	if last, err := c.LastUpdate(); err != nil || !last.IsZero() {
		t.Fatalf("LastUpdate on empty cache = %v, %v; want zero, nil", last, err)
	}
	b := testBoard("CEN")
	recv := t0.Add(2 * time.Second)
	if err := c.PutBoard(b, recv); err != nil {
		t.Fatal(err)
	}
	if err := c.PutTimetable(testTimetable("HBR")); err != nil {
		t.Fatal(err)
	}
	check := func(c *Cache) {
		t.Helper()
		boards, err := c.Boards()
		if err != nil {
			t.Fatal(err)
		}
		got, ok := boards["CEN"]
		if !ok || len(boards) != 1 {
			t.Fatalf("Boards = %v, want CEN only", boards)
		}
		if !got.ReceivedAt.Equal(recv) || !reflect.DeepEqual(normBoard(got.Board), normBoard(b)) {
			t.Errorf("board = %+v at %v, want %+v at %v", got.Board, got.ReceivedAt, b, recv)
		}
		tts, err := c.Timetables()
		if err != nil {
			t.Fatal(err)
		}
		if tt, ok := tts["HBR"]; !ok || len(tt.Departures) != 1 || tt.Departures[0].Trip != "t9" {
			t.Errorf("Timetables = %+v", tts)
		}
		last, err := c.LastUpdate()
		if err != nil || !last.Equal(recv) {
			t.Errorf("LastUpdate = %v, %v; want %v", last, err, recv)
		}
	}
	check(c)
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	c = openTB(t, path)
	defer c.Close()
	check(c)

	// A board replaces the previous board of its stop whole.
	b2 := testBoard("CEN")
	b2.Arrivals = nil
	if err := c.PutBoard(b2, recv.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	boards, _ := c.Boards()
	if n := len(boards["CEN"].Board.Arrivals); n != 0 {
		t.Errorf("after replacement %d arrivals, want 0", n)
	}
}

// normBoard drops monotonic clock readings and locations so DeepEqual
// compares instants.
func normBoard(b wire.Board) wire.Board {
	b.GeneratedAt = b.GeneratedAt.UTC()
	for i, a := range b.Arrivals {
		a.Scheduled = a.Scheduled.UTC()
		if a.Predicted != nil {
			p := a.Predicted.UTC()
			a.Predicted = &p
		}
		b.Arrivals[i] = a
	}
	return b
}

func TestCorruptFileMovedAside(t *testing.T) {
	tests := []struct {
		name string
		data []byte
	}{
		{name: "short garbage", data: []byte("this is not a bbolt file\n")},
		{name: "page of garbage", data: randomBytes(3 * 4096)},
		{name: "zeros", data: make([]byte, 4*4096)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "sign.db")
			if err := os.WriteFile(path, tc.data, 0o600); err != nil {
				t.Fatal(err)
			}
			var logs bytes.Buffer
			c, err := Open(path, slog.New(slog.NewTextHandler(&logs, nil)))
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			defer c.Close()
			aside, _ := filepath.Glob(path + ".corrupt-*")
			if len(aside) != 1 {
				t.Fatalf("moved-aside files = %v, want one", aside)
			}
			if got, _ := os.ReadFile(aside[0]); !bytes.Equal(got, tc.data) {
				t.Errorf("moved-aside file does not hold the original bytes")
			}
			if !strings.Contains(logs.String(), "moved") {
				t.Errorf("no log line about moving the file aside: %q", logs.String())
			}
			if err := c.PutBoard(testBoard("CEN"), t0); err != nil {
				t.Fatalf("fresh cache: %v", err)
			}
			if boards, err := c.Boards(); err != nil || len(boards) != 1 {
				t.Errorf("fresh cache Boards = %v, %v", boards, err)
			}
		})
	}
}

func randomBytes(n int) []byte {
	r := rand.New(rand.NewPCG(1, 2))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func TestLockedFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sign.db")
	c := openTB(t, path)
	defer c.Close()

	start := time.Now()
	c2, err := Open(path, nil)
	if err == nil {
		c2.Close()
		t.Fatal("second Open of a locked file succeeded")
	}
	if !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), path) {
		t.Errorf("error = %v; want ErrLocked naming %s", err, path)
	}
	if time.Since(start) > 10*time.Second {
		t.Errorf("Open waited %v for the lock", time.Since(start))
	}
	if aside, _ := filepath.Glob(path + ".corrupt-*"); len(aside) != 0 {
		t.Errorf("a locked file was moved aside: %v", aside)
	}
	// The first handle is unaffected.
	if err := c.PutBoard(testBoard("CEN"), t0); err != nil {
		t.Error(err)
	}
}

func TestUnopenableIsNotMovedAside(t *testing.T) {
	// A directory where the file should be is an OS error, not corruption.
	path := filepath.Join(t.TempDir(), "sign.db")
	if err := os.Mkdir(path, 0o755); err != nil {
		t.Fatal(err)
	}
	if c, err := Open(path, nil); err == nil {
		c.Close()
		t.Fatal("Open of a directory succeeded")
	} else if !strings.Contains(err.Error(), path) {
		t.Errorf("error %v does not name %s", err, path)
	}
	if aside, _ := filepath.Glob(path + ".corrupt-*"); len(aside) != 0 {
		t.Errorf("moved aside: %v", aside)
	}
}

// TestZoneSurvivesReopen: the agency's time zone is on disk, so a sign
// restarted with no hub still shows the agency's time.
func TestZoneSurvivesReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sign.db")
	c := openTB(t, path)
	if name, err := c.Zone(); err != nil || name != "" {
		t.Fatalf("Zone on an empty cache = %q, %v; want \"\", nil", name, err)
	}
	for _, name := range []string{"America/New_York", "Europe/Rome"} {
		if err := c.PutZone(name); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	c = openTB(t, path)
	defer c.Close()
	if name, err := c.Zone(); err != nil || name != "Europe/Rome" {
		t.Errorf("Zone after reopening = %q, %v; want the last one stored, Europe/Rome", name, err)
	}
}
