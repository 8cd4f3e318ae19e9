package fleetwant

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestWant(t *testing.T) {
	var logs bytes.Buffer
	w := New("1.4.1", "headway-vehicle", "headway_agent_update_wanted", slog.New(slog.NewTextHandler(&logs, nil)))
	w.Set("1.4.2")
	w.Set("1.4.2") // said once
	if wanted, up := w.Status(); wanted != "1.4.2" || !up || testutil.ToFloat64(w.gauge) != 1 {
		t.Errorf("wanted %q, update %v, gauge %v", wanted, up, testutil.ToFloat64(w.gauge))
	}
	if n := strings.Count(logs.String(), "want another version"); n != 1 {
		t.Errorf("%d warnings:\n%s", n, logs.String())
	}
	w.Set("1.4.1")
	if _, up := w.Status(); up || testutil.ToFloat64(w.gauge) != 0 {
		t.Error("update wanted for the version it runs")
	}
	w.Set("")
	if wanted, up := w.Status(); wanted != "" || up {
		t.Error("a cleared version still wanted")
	}
}
