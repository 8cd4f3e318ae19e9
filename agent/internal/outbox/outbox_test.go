package outbox

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/headway-transit/headway/internal/wire"
)

var t0 = time.Date(2026, 11, 27, 7, 0, 0, 0, time.UTC)

func fixAt(i int) wire.Position {
	return wire.Position{V: 1, Vehicle: "bus-1", Time: t0.Add(time.Duration(i) * time.Second), Lat: 44.4, Lon: 8.9, Mode: 3}
}

func open(t *testing.T, path string, max int) *Outbox {
	t.Helper()
	o, err := Open(path, Options{MaxFixes: max, MaxAge: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func seqs(ps []wire.Position) []uint64 {
	var out []uint64
	for _, p := range ps {
		out = append(out, p.Seq)
	}
	return out
}

func TestAppendAckReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "outbox.db")
	o := open(t, path, 100)
	for i := 0; i < 5; i++ {
		p, err := o.Append(fixAt(i))
		if err != nil {
			t.Fatal(err)
		}
		if p.Seq != uint64(i+1) {
			t.Fatalf("seq %d, want %d", p.Seq, i+1)
		}
	}
	if err := o.Ack(2); err != nil {
		t.Fatal(err)
	}
	if err := o.Ack(2); err != nil { // twice is fine
		t.Fatal(err)
	}
	if o.Len() != 4 {
		t.Fatalf("Len %d, want 4", o.Len())
	}
	o.Close()

	// Reopened, as after a restart: the backlog and the numbering survive.
	o = open(t, path, 100)
	defer o.Close()
	if o.Len() != 4 || o.NextSeq() != 6 {
		t.Fatalf("after reopen Len %d NextSeq %d, want 4 and 6", o.Len(), o.NextSeq())
	}
	old, err := o.Oldest(10, func(seq uint64) bool { return seq == 3 })
	if err != nil {
		t.Fatal(err)
	}
	if got := seqs(old); len(got) != 3 || got[0] != 1 || got[1] != 4 || got[2] != 5 {
		t.Errorf("Oldest skipping 3 = %v, want [1 4 5]", got)
	}
	n, ok, err := o.Newest()
	if err != nil || !ok || n.Seq != 5 || !n.Time.Equal(t0.Add(4*time.Second)) {
		t.Errorf("Newest = %+v %v %v", n, ok, err)
	}
	p, _ := o.Append(fixAt(9))
	if p.Seq != 6 {
		t.Errorf("seq after reopen %d, want 6", p.Seq)
	}
}

func TestBounds(t *testing.T) {
	o := open(t, filepath.Join(t.TempDir(), "outbox.db"), 3)
	defer o.Close()
	for i := 0; i < 5; i++ {
		if _, err := o.Append(fixAt(i)); err != nil {
			t.Fatal(err)
		}
	}
	old, _ := o.Oldest(10, nil)
	if got := seqs(old); len(got) != 3 || got[0] != 3 {
		t.Errorf("after overflow %v, want [3 4 5]", got)
	}
	if o.Dropped() != 2 || o.Len() != 3 {
		t.Errorf("dropped %d len %d, want 2 and 3", o.Dropped(), o.Len())
	}
	// Age: an hour after fix 3 (seq 4), seqs 3 and 4 are too old.
	n, err := o.Prune(t0.Add(time.Hour + 3*time.Second + 500*time.Millisecond))
	if err != nil || n != 2 {
		t.Fatalf("Prune = %d, %v, want 2", n, err)
	}
	if o.Len() != 1 || o.Dropped() != 4 {
		t.Errorf("len %d dropped %d, want 1 and 4", o.Len(), o.Dropped())
	}
}

func TestCorruptFileMovedAside(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "outbox.db")
	if err := os.WriteFile(path, []byte(strings.Repeat("not a bbolt file ", 1000)), 0o600); err != nil {
		t.Fatal(err)
	}
	o := open(t, path, 10)
	defer o.Close()
	if p, err := o.Append(fixAt(0)); err != nil || p.Seq != 1 {
		t.Fatalf("fresh outbox: %+v %v", p, err)
	}
	matches, _ := filepath.Glob(path + ".corrupt-*")
	if len(matches) != 1 {
		t.Errorf("corrupt file not moved aside: %v", matches)
	}
}

func TestLocked(t *testing.T) {
	path := filepath.Join(t.TempDir(), "outbox.db")
	o := open(t, path, 10)
	defer o.Close()
	_, err := Open(path, Options{MaxFixes: 10})
	if err == nil || !strings.Contains(err.Error(), "another vehicle agent") || !strings.Contains(err.Error(), path) {
		t.Fatalf("second open: %v", err)
	}
}
