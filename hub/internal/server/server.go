// Package server is the hub's HTTP surface: the signs' WebSocket, the JSON
// API, Prometheus metrics, the health check and the operators' dashboard.
package server

import (
	_ "embed"
	"encoding/json"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/headway-transit/headway/hub/internal/engine"
	"github.com/headway-transit/headway/hub/internal/gtfsrt"
	"github.com/headway-transit/headway/hub/internal/push"
)

// Health reports the state of the hub's parts for /healthz.
type Health func() (ok bool, detail map[string]any)

// Options are the parts the HTTP server exposes.
type Options struct {
	Engine   *engine.Engine
	Push     *push.Server
	Gatherer prometheus.Gatherer
	Health   Health
	Version  string
}

//go:embed dashboard.html
var dashboard []byte

// Handler returns the hub's HTTP handler.
func Handler(o Options) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /ws", o.Push)
	mux.HandleFunc("GET /api/stops/{stop}/board", func(w http.ResponseWriter, r *http.Request) {
		stop := r.PathValue("stop")
		if !o.Engine.KnownStop(stop) {
			writeJSON(w, http.StatusNotFound, map[string]string{"error": "unknown stop " + stop})
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(o.Engine.CurrentBoard(stop))
	})
	rt := gtfsrt.NewHandler(o.Engine, gtfsrt.Builder{Feed: o.Engine.Feed()})
	mux.HandleFunc("GET /gtfs-rt/trip-updates", rt.TripUpdates)
	mux.HandleFunc("GET /gtfs-rt/vehicle-positions", rt.VehiclePositions)
	mux.HandleFunc("GET /api/vehicles", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, o.Engine.Vehicles())
	})
	mux.HandleFunc("GET /api/displays", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, o.Push.Displays())
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(o.Gatherer, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		ok, detail := o.Health()
		if detail == nil {
			detail = map[string]any{}
		}
		detail["version"] = o.Version
		detail["time"] = time.Now().UTC()
		status := http.StatusOK
		detail["status"] = "ok"
		if !ok {
			status = http.StatusServiceUnavailable
			detail["status"] = "unhealthy"
		}
		writeJSON(w, status, detail)
	})
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Content-Security-Policy", "default-src 'self'; style-src 'unsafe-inline'; script-src 'unsafe-inline' 'self'")
		_, _ = w.Write(dashboard)
	})
	return mux
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}
