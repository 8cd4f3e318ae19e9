// Package server is the hub's HTTP surface: the signs' WebSocket, the JSON
// API, Prometheus metrics, the health check and the operators' dashboard.
package server

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/pprof"
	"net/netip"
	"net/url"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/headway-transit/headway/hub/internal/alerts"
	"github.com/headway-transit/headway/hub/internal/broker"
	"github.com/headway-transit/headway/hub/internal/engine"
	"github.com/headway-transit/headway/hub/internal/gtfsrt"
	"github.com/headway-transit/headway/hub/internal/operators"
	"github.com/headway-transit/headway/hub/internal/push"
	"github.com/headway-transit/headway/hub/internal/ratelimit"
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
	// Feeds reports the agency's realtime feeds the hub polls (/api/feeds):
	// vehicle feeds' and alert feeds' health; nil: none.
	Feeds func() []any
	// Alerts are the service alerts (/api/alerts, /gtfs-rt/alerts);
	// Operators, the ones operators write through the API. Nil: none.
	Alerts    *alerts.Store
	Operators *alerts.Operators
	// Fleet reports the versions operators want the agents to run and
	// who runs another (/api/fleet); nil: not offered.
	Fleet   func() any
	Version string
	// Now is the hub's clock (/healthz reports it); nil means time.Now.
	Now func() time.Time
	// Gate keeps the dashboard and the fleet's and displays' API for
	// signed-in operators; nil lets everyone in.
	Gate *operators.Gate
	// Tiles is an agency's map tile URL template ({z}/{x}/{y}) the
	// dashboard's map may draw under the network; empty: none.
	Tiles string
	// Thresholds say when a vehicle, sign, route or feed is trouble
	// (/api/trouble).
	Thresholds Thresholds
	// Limit bounds each client's requests to the public endpoints (a
	// stop's board, GTFS-Realtime, the signs' WebSocket); nil: no limit.
	Limit *Limit
}

// Limit is the per-client limit on the public endpoints.
type Limit struct {
	PerClient *ratelimit.PerClient
	// Trusted are reverse proxies whose X-Forwarded-For names the client.
	Trusted []netip.Prefix
	// Exempt sources are not limited (by default this machine itself).
	Exempt []netip.Prefix
	// Limited counts the requests refused, by endpoint.
	Limited *prometheus.CounterVec
}

// wrap refuses a request beyond its client's limit with 429 and
// Retry-After.
func (l *Limit) wrap(endpoint string, h http.Handler, now func() time.Time) http.Handler {
	if l == nil || l.PerClient == nil {
		return h
	}
	if l.Limited != nil {
		l.Limited.WithLabelValues(endpoint)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		src := ratelimit.Source(r, l.Trusted)
		if a, err := netip.ParseAddr(src); err == nil && contains(l.Exempt, a) {
			h.ServeHTTP(w, r)
			return
		}
		if ok, retry := l.PerClient.Allow(src, now()); !ok {
			if l.Limited != nil {
				l.Limited.WithLabelValues(endpoint).Inc()
			}
			w.Header().Set("Retry-After", strconv.Itoa(int(retry/time.Second)+1))
			writeJSON(w, http.StatusTooManyRequests, apiError{Error: "too many requests from your address: slow down (see Retry-After)"})
			return
		}
		h.ServeHTTP(w, r)
	})
}

func contains(ps []netip.Prefix, a netip.Addr) bool {
	for _, p := range ps {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

//go:embed dashboard.html
var dashboard []byte

// stopPage is /stops/{stop}: a stop's board for passengers and staff, on
// a phone.
//
//go:embed stop.html
var stopPage []byte

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
	gate := o.Gate
	if gate == nil {
		gate, _ = operators.New(operators.Options{Open: true})
	}
	private := gate.Require
	public := func(endpoint string, h http.Handler) http.Handler { return o.Limit.wrap(endpoint, h, o.Now) }
	mux := http.NewServeMux()
	gate.Routes(mux)
	mux.Handle("GET /ws", public("ws", o.Push))
	mux.Handle("GET /api/stops/{stop}/board", public("board", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
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
	})))
	rtb := gtfsrt.Builder{Feed: o.Engine.Feed()}
	if o.Alerts != nil {
		rtb.Cancelled, rtb.Skipped = o.Alerts.CancelledTrips, o.Alerts.SkippedStops
	}
	rt := gtfsrt.NewHandler(o.Engine, rtb)
	mux.Handle("GET /gtfs-rt/trip-updates", public("gtfs-rt", http.HandlerFunc(rt.TripUpdates)))
	mux.Handle("GET /gtfs-rt/vehicle-positions", public("gtfs-rt", http.HandlerFunc(rt.VehiclePositions)))
	mux.Handle("GET /api/vehicles", private(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		vs := o.Engine.Vehicles()
		if vs == nil {
			// [] not null: the dashboard (and any client) maps over it.
			vs = []engine.VehicleView{}
		}
		writeJSON(w, http.StatusOK, vs)
	})))
	mux.Handle("GET /api/displays", private(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, o.Push.Displays())
	})))
	mux.Handle("GET /api/fleet", private(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if o.Fleet == nil { // no versions wanted, nobody behind
			writeJSON(w, http.StatusOK, map[string]any{"vehicles": map[string]any{"wanted": ""}, "stations": map[string]any{"wanted": ""}, "behind": []any{}})
			return
		}
		writeJSON(w, http.StatusOK, o.Fleet())
	})))
	mux.Handle("GET /api/cluster", private(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, o.Cluster())
	})))
	mux.Handle("GET /api/accuracy", private(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, o.Engine.Accuracy(o.Now()))
	})))
	var network networkOnce
	mux.Handle("GET /api/network", private(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "private, max-age=3600")
		writeJSON(w, http.StatusOK, network.get(o.Engine.Feed(), o.Tiles))
	})))
	mux.Handle("GET /api/trouble", private(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ts := troubles(o, o.Now())
		if ts == nil {
			ts = []Trouble{}
		}
		writeJSON(w, http.StatusOK, ts)
	})))
	mux.Handle("GET /api/feeds", private(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fs := []any{}
		if o.Feeds != nil {
			fs = append(fs, o.Feeds()...)
		}
		writeJSON(w, http.StatusOK, fs)
	})))
	if o.Alerts != nil {
		mux.Handle("GET /gtfs-rt/alerts", public("gtfs-rt", gtfsrt.AlertsHandler(o.Alerts.All, o.Now)))
		alertsAPI(mux, o, private)
	}
	// The API's own 404, in JSON, for a mistyped endpoint.
	mux.Handle("GET /api/", public("other", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusNotFound, apiError{
			Error: fmt.Sprintf("no API endpoint %s: use /api/vehicles, /api/displays, /api/network, /api/cluster, /api/feeds, /api/alerts, /api/accuracy, /api/trouble, /api/session or /api/stops/{stop}/board", quoteID(r.URL.Path)),
		})
	})))
	gatherer := o.Gatherer
	if o.Runtime != nil {
		gatherer = promorder.Gatherer(o.Gatherer, o.Runtime)
	}
	mux.Handle("GET /metrics", promhttp.HandlerFor(gatherer, promhttp.HandlerOpts{}))
	// Profiles of the running hub, for operators (go tool pprof
	// -http=: 'https://hub/debug/pprof/profile?seconds=30' with the session
	// cookie, or from the hub's machine when the dashboard is open there).
	mux.Handle("GET /debug/pprof/", private(http.HandlerFunc(pprof.Index)))
	mux.Handle("GET /debug/pprof/profile", private(http.HandlerFunc(pprof.Profile)))
	mux.Handle("GET /debug/pprof/trace", private(http.HandlerFunc(pprof.Trace)))
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
	mux.Handle("GET /api/stops/{stop}/alerts", public("board", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		stop := r.PathValue("stop")
		if !o.Engine.KnownStop(stop) || o.Alerts == nil {
			writeJSON(w, http.StatusNotFound, apiError{Error: fmt.Sprintf("unknown stop %s", quoteID(stop)), Stop: truncateID(stop)})
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(o.Alerts.Message(stop, o.Now()))
	})))
	mux.Handle("GET /stops/{stop}", public("board", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !o.Engine.KnownStop(r.PathValue("stop")) {
			http.Error(w, "no such stop: not a stop_id in the hub's schedule", http.StatusNotFound)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Content-Security-Policy", "default-src 'self'; style-src 'unsafe-inline'; script-src 'unsafe-inline' 'self'; frame-ancestors 'none'")
		_, _ = w.Write(stopPage)
	})))
	mux.Handle("GET /{$}", private(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		csp := "default-src 'self'; style-src 'unsafe-inline'; script-src 'unsafe-inline' 'self'; frame-ancestors 'none'"
		if u, err := url.Parse(o.Tiles); err == nil && u.Host != "" {
			csp += "; img-src 'self' " + u.Scheme + "://" + u.Host // the agency's tiles, nothing else
		}
		w.Header().Set("Content-Security-Policy", csp)
		w.Header().Set("Cache-Control", "no-store")
		_, _ = w.Write(dashboard)
	})))
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
