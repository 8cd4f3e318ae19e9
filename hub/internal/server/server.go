// Package server is the hub's HTTP surface: the signs' WebSocket, the JSON
// API, Prometheus metrics, the health check and the operators' dashboard.
package server

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/headway-transit/headway/hub/internal/broker"
	"github.com/headway-transit/headway/hub/internal/engine"
	"github.com/headway-transit/headway/hub/internal/gtfsrt"
	"github.com/headway-transit/headway/hub/internal/push"
	"github.com/headway-transit/headway/internal/promorder"
)

// Health reports the state of the hub's parts for /healthz.
type Health func() (ok bool, detail map[string]any)

// Options are the parts the HTTP server exposes.
type Options struct {
	Engine *engine.Engine
	Push   *push.Server
	// Gatherer has the hub's own metrics (headway_*); Runtime, if set,
	// the Go runtime's and the process's (go_*, process_*), listed after
	// them on /metrics.
	Gatherer prometheus.Gatherer
	Runtime  prometheus.Gatherer
	Health   Health
	// Cluster reports the hubs of the cluster this one is in (/api/cluster).
	Cluster func() broker.ClusterState
	Version string
	// Now is the hub's clock (/healthz reports it); nil means time.Now.
	Now func() time.Time
}

//go:embed dashboard.html
var dashboard []byte

// Handler returns the hub's HTTP handler.
func Handler(o Options) http.Handler {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Cluster == nil {
		o.Cluster = func() broker.ClusterState {
			return broker.ClusterState{Node: "hub", Tracking: "all", Nodes: []broker.NodeState{{Name: "hub", Self: true, Online: true, Current: true}}}
		}
	}
	mux := http.NewServeMux()
	mux.Handle("GET /ws", o.Push)
	mux.HandleFunc("GET /api/stops/{stop}/board", func(w http.ResponseWriter, r *http.Request) {
		stop := r.PathValue("stop")
		if !o.Engine.KnownStop(stop) {
			writeJSON(w, http.StatusNotFound, apiError{
				Error: fmt.Sprintf("unknown stop %s: not a stop_id in the hub's GTFS feed (stops.txt)", quoteID(stop)),
				Stop:  truncateID(stop),
			})
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(o.Engine.CurrentBoard(stop))
	})
	rt := gtfsrt.NewHandler(o.Engine, gtfsrt.Builder{Feed: o.Engine.Feed()})
	mux.HandleFunc("GET /gtfs-rt/trip-updates", rt.TripUpdates)
	mux.HandleFunc("GET /gtfs-rt/vehicle-positions", rt.VehiclePositions)
	mux.HandleFunc("GET /api/vehicles", func(w http.ResponseWriter, r *http.Request) {
		vs := o.Engine.Vehicles()
		if vs == nil {
			// [] not null: the dashboard (and any client) maps over it.
			vs = []engine.VehicleView{}
		}
		writeJSON(w, http.StatusOK, vs)
	})
	mux.HandleFunc("GET /api/displays", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, o.Push.Displays())
	})
	mux.HandleFunc("GET /api/cluster", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, o.Cluster())
	})
	// The API's own 404, in JSON, for a mistyped endpoint.
	mux.HandleFunc("GET /api/", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusNotFound, apiError{
			Error: fmt.Sprintf("no API endpoint %s: use /api/vehicles, /api/displays, /api/cluster or /api/stops/{stop}/board", quoteID(r.URL.Path)),
		})
	})
	gatherer := o.Gatherer
	if o.Runtime != nil {
		gatherer = promorder.Gatherer(o.Gatherer, o.Runtime)
	}
	mux.Handle("GET /metrics", promhttp.HandlerFor(gatherer, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		ok, detail := o.Health()
		if detail == nil {
			detail = map[string]any{}
		}
		detail["version"] = o.Version
		detail["time"] = o.Now().UTC()
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

// apiError is the body of every JSON error the API answers.
type apiError struct {
	Error string `json:"error"`
	Stop  string `json:"stop,omitempty"`
}

// maxShownID is how much of a client's id an error repeats: enough for any
// real stop_id, not an echo of a megabyte.
const maxShownID = 128

func truncateID(id string) string {
	if len(id) <= maxShownID {
		return id
	}
	n := maxShownID
	for n > 0 && !utf8.RuneStart(id[n]) {
		n-- // cut between characters, not inside one
	}
	return id[:n] + "…"
}

// quoteID quotes id for a message, so that spaces, control characters and
// invalid UTF-8 show as what they are, and says how long a cut one was.
func quoteID(id string) string {
	if len(id) <= maxShownID {
		return strconv.Quote(id)
	}
	return fmt.Sprintf("%s (%d bytes)", strconv.Quote(truncateID(id)), len(id))
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}
