package serialport

import (
	"bufio"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/creack/pty"
)

// A PTY slave is a serial device as far as go.bug.st/serial is concerned.
func TestWriteThroughPTY(t *testing.T) {
	master, slave, err := pty.Open()
	if err != nil {
		t.Skipf("no PTY: %v", err)
	}
	defer master.Close()
	defer slave.Close()
	var w io.WriteCloser
	p, err := Open(slave.Name(), 9600)
	if err != nil {
		t.Fatal(err)
	}
	w = p
	defer w.Close()
	if got := p.String(); got != slave.Name()+" at 9600 baud" {
		t.Errorf("String = %q", got)
	}
	want := "$GPRMC,x*00\r\n"
	if _, err := w.Write([]byte(want)); err != nil {
		t.Fatal(err)
	}
	done := make(chan string, 1)
	go func() {
		l, _ := bufio.NewReader(master).ReadString('\n')
		done <- l
	}()
	select {
	case got := <-done:
		if got != want {
			t.Errorf("read %q, want %q", got, want)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("nothing arrived")
	}
}

func TestOpenErrors(t *testing.T) {
	for _, tt := range []struct {
		name string
		path string
		baud int
	}{
		{"no such device", filepath.Join(t.TempDir(), "ttyUSB9"), 9600},
		{"zero baud", os.DevNull, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if p, err := Open(tt.path, tt.baud); err == nil {
				p.Close()
				t.Fatal("Open succeeded")
			}
		})
	}
}
