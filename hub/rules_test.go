package main

import (
	"os/exec"
	"path/filepath"
	"testing"
)

// TestPrometheusRules checks the alerting rules shipped in configs with
// Prometheus's own promtool: they load, and its unit tests of them pass
// (configs/prometheus-rules.test.yml). CI installs Debian's prometheus
// package for promtool.
func TestPrometheusRules(t *testing.T) {
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		t.Skip("no promtool (apt-get install prometheus); .ci/run installs it")
	}
	dir, _ := filepath.Abs("../configs")
	for _, args := range [][]string{{"check", "rules", "prometheus-rules.yml"}, {"test", "rules", "prometheus-rules.test.yml"}} {
		cmd := exec.Command(promtool, args...)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Errorf("promtool %v: %v\n%s", args, err, out)
		}
	}
}
