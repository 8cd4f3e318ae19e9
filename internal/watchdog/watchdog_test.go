package watchdog

import (
	"context"
	"errors"
	"net"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// The watchdog is fed while the probe answers, not while it is stuck, and
// again once it answers; through a real notify socket, as systemd reads it.
func TestFedOnlyWhileWorking(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "notify")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	t.Setenv("NOTIFY_SOCKET", sock)
	t.Setenv("WATCHDOG_USEC", "150000")
	t.Setenv("WATCHDOG_PID", "")
	if d := Enabled(); d != 150*time.Millisecond {
		t.Fatalf("Enabled() = %v", d)
	}
	var stuck atomic.Bool
	probe := func(ctx context.Context) error {
		if stuck.Load() {
			<-ctx.Done() // a loop that does not answer
			return ctx.Err()
		}
		return nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); Run(ctx, Options{Probes: map[string]Probe{"loop": probe}}) }()
	Ready("serving")
	read := func(d time.Duration) []string {
		var got []string
		buf := make([]byte, 512)
		deadline := time.Now().Add(d)
		for {
			conn.SetReadDeadline(deadline)
			n, err := conn.Read(buf)
			if err != nil {
				return got
			}
			got = append(got, string(buf[:n]))
		}
	}
	count := func(msgs []string, s string) (n int) {
		for _, m := range msgs {
			if strings.Contains(m, s) {
				n++
			}
		}
		return n
	}
	first := read(400 * time.Millisecond)
	if count(first, "READY=1") != 1 || count(first, "WATCHDOG=1") < 4 {
		t.Fatalf("while working: %q", first)
	}
	stuck.Store(true)
	settling := read(100 * time.Millisecond) // pets already on their way
	during := read(400 * time.Millisecond)
	if n := count(during, "WATCHDOG=1"); n != 0 {
		t.Errorf("%d pets while the loop was stuck: %q", n, during)
	}
	if count(append(settling, during...), "STATUS=not working: [loop: no answer within") != 1 {
		t.Errorf("no status saying what is stuck: %q", during)
	}
	stuck.Store(false)
	after := read(400 * time.Millisecond)
	if count(after, "WATCHDOG=1") < 3 || count(after, "STATUS=working") != 1 {
		t.Errorf("once working again: %q", after)
	}
	cancel()
	<-done
}

func TestNoWatchdogNoLoop(t *testing.T) {
	t.Setenv("WATCHDOG_USEC", "")
	done := make(chan struct{})
	go func() { defer close(done); Run(context.Background(), Options{}) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Run with no watchdog did not return")
	}
	// Another process's watchdog is not ours.
	t.Setenv("WATCHDOG_USEC", "1000000")
	t.Setenv("WATCHDOG_PID", "1")
	if d := Enabled(); d != 0 {
		t.Errorf("Enabled() = %v for another pid", d)
	}
}

func TestCheckNamesWhatFailed(t *testing.T) {
	err := Check(context.Background(), map[string]Probe{
		"ok":    func(context.Context) error { return nil },
		"cache": func(context.Context) error { return errors.New("bbolt: timeout") },
	}, time.Second)
	if err == nil || err.Error() != "[cache: bbolt: timeout]" {
		t.Errorf("Check: %v", err)
	}
}
