package gps

import (
	"os"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestOpenExclusive checks that Open takes the port for exclusive use. The
// lock is read back with TIOCGEXCL, which works as root too; a second open
// failing is checked only when not root, since root bypasses the lock.
func TestOpenExclusive(t *testing.T) {
	g := startGPS(t, "", time.Date(2026, 11, 27, 7, 0, 0, 0, time.UTC))
	port, err := Open(g.slave.Name(), 9600)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer port.Close()

	excl, err := unix.IoctlGetInt(int(g.slave.Fd()), unix.TIOCGEXCL)
	if err != nil {
		t.Skipf("TIOCGEXCL not supported: %v", err)
	}
	if excl == 0 {
		t.Error("port not in exclusive mode after Open")
	}
	if os.Geteuid() == 0 {
		t.Log("running as root: the kernel lets root open an exclusive port, second open not checked")
		return
	}
	second, err := Open(g.slave.Name(), 9600)
	if err == nil {
		second.Close()
		t.Fatal("second Open succeeded, want the port busy")
	}
	if !strings.Contains(err.Error(), "another program") {
		t.Errorf("error %q does not say what to do", err)
	}
}
