package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDeps keeps hardware out of the hub: it runs on a server, never next
// to a serial port, and must not pull in serial or PTY code.
func TestDeps(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, out)
	}
	for _, pkg := range strings.Fields(string(out)) {
		for _, banned := range []string{"go.bug.st/serial", "github.com/creack/pty", "headway/drivers/gps", "headway/firmware-sim"} {
			if strings.Contains(pkg, banned) {
				t.Errorf("the hub depends on %s", pkg)
			}
		}
	}
}
