package station

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/headway-transit/headway/internal/promorder"
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
	if _, err := promorder.CheckText(string(body), "headway_station_"); err != nil {
		t.Error(err)
	}
}
