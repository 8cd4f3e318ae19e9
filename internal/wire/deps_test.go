package wire

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDeps keeps the contract free of dependencies outside the standard
// library, so any tool written against it can import it cheaply.
func TestDeps(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, out)
	}
	for _, pkg := range strings.Fields(string(out)) {
		if pkg != "github.com/headway-transit/headway/internal/wire" {
			t.Errorf("internal/wire depends on %s; it must use the standard library only", pkg)
		}
	}
}
