package station

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// TestMetricsOrder: /metrics lists the sign's own metrics first, then the
// runtime's.
func TestMetricsOrder(t *testing.T) {
	m := newMetrics(func() float64 { return 0 })
	srv := httptest.NewServer(promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{}))
	defer srv.Close()
	res, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("/metrics: %d %v", res.StatusCode, err)
	}
	var names []string
	for line := range strings.SplitSeq(string(body), "\n") {
		if name, ok := strings.CutPrefix(line, "# TYPE "); ok {
			names = append(names, strings.Fields(name)[0])
		}
	}
	if len(names) == 0 || !strings.HasPrefix(names[0], "headway_station_") {
		t.Fatalf("metric families %v, want a headway_station_ one first", names)
	}
	runtime := false
	for _, n := range names {
		switch {
		case strings.HasPrefix(n, "go_") || strings.HasPrefix(n, "process_"):
			runtime = true
		case runtime:
			t.Errorf("%s comes after the runtime's metrics: %v", n, names)
		}
	}
	if !runtime {
		t.Errorf("no runtime metrics in %v", names)
	}
}
