package nmea

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDeps keeps the decoder free of dependencies outside the standard
// library, so the hub and tools can use it without serial-port code.
func TestDeps(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("go command not found: %v", err)
	}
	out, err := exec.Command(goBin, "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, out)
	}
	const self = "github.com/headway-transit/headway/drivers/nmea"
	for _, pkg := range strings.Fields(string(out)) {
		if pkg != self {
			t.Errorf("drivers/nmea depends on %s; it must use the standard library only", pkg)
		}
	}
}
