package ptyport

import (
	"bufio"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestUnplugReplug(t *testing.T) {
	link := filepath.Join(t.TempDir(), "gps")
	p := openPort(t, link)
	r := openReader(t, link)
	if err := p.Unplug(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(link); !os.IsNotExist(err) {
		t.Errorf("link still there while unplugged: %v", err)
	}
	// The old reader sees the port gone.
	r.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := r.Read(make([]byte, 16)); err == nil {
		t.Error("read from an unplugged port succeeded")
	}
	if n, err := p.Write([]byte("$lost\r\n")); err != nil || n != 7 {
		t.Errorf("write while unplugged = %d, %v; want it discarded quietly", n, err)
	}
	if err := p.Replug(); err != nil {
		t.Fatal(err)
	}
	if got, err := os.Readlink(link); err != nil || got != p.TTY() {
		t.Fatalf("after Replug the link points at %q (%v), want %q", got, err, p.TTY())
	}
	r2 := openReader(t, link)
	r2.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := p.Write([]byte("$back\r\n")); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(r2).ReadString('\n')
	if err != nil || line != "$back\r\n" {
		t.Errorf("read %q, %v after Replug", line, err)
	}
	if p.Replugs() != 1 {
		t.Errorf("Replugs = %d, want 1", p.Replugs())
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(link); !os.IsNotExist(err) {
		t.Errorf("link still there after Close: %v", err)
	}
}
