package ptyport

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func openPort(t testing.TB, link string) *Port {
	t.Helper()
	p, err := Open(link)
	if err != nil {
		t.Skipf("no PTY on this machine: %v", err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

func openReader(t testing.TB, path string) *os.File {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func TestReadThroughLink(t *testing.T) {
	link := filepath.Join(t.TempDir(), "gps")
	p := openPort(t, link)
	if got, err := os.Readlink(link); err != nil || got != p.TTY() {
		t.Fatalf("Readlink = %q, %v; want %q", got, err, p.TTY())
	}
	r := openReader(t, link)
	if err := r.SetReadDeadline(time.Now().Add(10 * time.Second)); err != nil {
		t.Fatal(err)
	}
	// CR LF must survive: the port is raw, with no CR to NL mapping.
	lines := []string{"$GPRMC,one*00\r\n", "$GPGGA,two*00\r\n"}
	for _, l := range lines {
		if _, err := p.Write([]byte(l)); err != nil {
			t.Fatal(err)
		}
	}
	br := bufio.NewReader(r)
	for _, want := range lines {
		got, err := br.ReadString('\n')
		if err != nil {
			t.Fatalf("read: %v", err)
		}
		if got != want {
			t.Errorf("read %q, want %q", got, want)
		}
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(link); !os.IsNotExist(err) {
		t.Errorf("link still there after Close: %v", err)
	}
}

// With no reader, or after a reader went away, writes must neither fail with
// EIO nor block forever: a GPS receiver does not care who listens.
func TestWriteWithoutReader(t *testing.T) {
	p := openPort(t, "")
	p.WriteTimeout = 20 * time.Millisecond
	r := openReader(t, p.TTY())
	r.Close()
	line := bytes.Repeat([]byte("x"), 79)
	line = append(line, '\r', '\n')
	// Far more than a PTY buffers.
	for i := 0; i < 2000; i++ {
		if _, err := p.Write(line); err != nil {
			t.Fatalf("write %d: %v", i, err)
		}
	}
	if p.Overruns() == 0 {
		t.Error("no overrun counted for 160 kB nobody read")
	}
	// The receiver goes on at its real pace, 10 Hz, for a second. The
	// kernel moves what the master wrote into the line discipline from a
	// worker thread; on a loaded machine a burst of 160 kB outruns that
	// worker, and bytes still on their way are invisible to TIOCINQ until
	// it runs. A reader that attaches a second later, as a real one does,
	// finds them delivered and trimmed by the next writes.
	for i := 0; i < 10; i++ {
		time.Sleep(100 * time.Millisecond)
		if _, err := p.Write(line); err != nil {
			t.Fatalf("paced write %d: %v", i, err)
		}
	}
	// A reader arriving later gets fresh data.
	r2 := openReader(t, p.TTY())
	if err := writeAll(p, "$fresh\r\n"); err != nil {
		t.Fatal(err)
	}
	r2.SetReadDeadline(time.Now().Add(10 * time.Second))
	br := bufio.NewReader(r2)
	stale := 0
	for {
		l, err := br.ReadString('\n')
		if err != nil {
			t.Fatalf("never read the fresh line: %v", err)
		}
		if strings.HasPrefix(l, "$fresh") {
			break
		}
		stale += len(l)
	}
	if stale > p.MaxBacklog+len(line) {
		t.Errorf("a late reader got %d stale bytes first, want at most %d", stale, p.MaxBacklog+len(line))
	}
}

func TestReplaceSymlink(t *testing.T) {
	dir := t.TempDir()
	link := filepath.Join(dir, "gps")
	if err := os.Symlink("/dev/pts/does-not-exist", link); err != nil {
		t.Fatal(err)
	}
	p := openPort(t, link)
	if got, _ := os.Readlink(link); got != p.TTY() {
		t.Errorf("stale link not replaced: points at %q", got)
	}

	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, []byte("keep me"), 0o644); err != nil {
		t.Fatal(err)
	}
	if p, err := Open(file); err == nil {
		p.Close()
		t.Fatal("Open replaced a regular file")
	}
	if b, _ := os.ReadFile(file); string(b) != "keep me" {
		t.Error("regular file was changed")
	}
}

func writeAll(p *Port, s string) error {
	_, err := p.Write([]byte(s))
	return err
}
