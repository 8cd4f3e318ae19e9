package server_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"github.com/headway-transit/headway/hub/internal/alerts"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	rtpb "github.com/MobilityData/gtfs-realtime-bindings/golang/gtfs"
	"github.com/gorilla/websocket"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"google.golang.org/protobuf/proto"

	"github.com/headway-transit/headway/hub/internal/engine"
	"github.com/headway-transit/headway/hub/internal/ingest"
	"github.com/headway-transit/headway/hub/internal/push"
	"github.com/headway-transit/headway/hub/internal/server"
	"github.com/headway-transit/headway/hub/internal/testfeed"
	"github.com/headway-transit/headway/hub/internal/tracker"
	"github.com/headway-transit/headway/internal/geo"
	"github.com/headway-transit/headway/internal/promorder"
	"github.com/headway-transit/headway/internal/wire"
)

const wait = 10 * time.Second

// now is the engine's clock: a weekday morning on testfeed.Line, with
// buses running.
var now = time.Date(2026, 11, 27, 8, 4, 10, 0, time.UTC)

// hub is the HTTP server wired as hub/main.go wires it: a running engine
// and push server over testfeed.Line, metrics on two registries.
type hub struct {
	url       string
	in        chan ingest.Message
	published chan string // stops the engine published a board of
}

func newHub(t *testing.T, health server.Health) *hub {
	t.Helper()
	return newHubWith(t, health, nil)
}

// newHubWith is newHub with its server options changed by with.
func newHubWith(t *testing.T, health server.Health, with func(*server.Options, prometheus.Registerer)) *hub {
	t.Helper()
	reg, runtimeReg := prometheus.NewRegistry(), prometheus.NewRegistry()
	runtimeReg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	h := &hub{in: make(chan ingest.Message, 16), published: make(chan string, 1024)}
	var pushSrv *push.Server
	feed := testfeed.Line(t)
	store := alerts.NewStore(feed)
	ops, err := alerts.OpenOperators("", store, feed, func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	eng := engine.New(engine.Options{
		Feed:    feed,
		Skip:    store.Skip,
		Tracker: tracker.Config{MaxOffRoute: 100, MaxFuture: time.Minute},
		Horizon: 30 * time.Minute, MaxRows: 10, Refresh: time.Minute, Stale: time.Minute,
		Publish: []engine.Publisher{
			func(stop string, msg []byte) { pushSrv.Publish(stop, msg) },
			func(stop string, _ []byte) {
				select {
				case h.published <- stop:
				default:
				}
			},
		},
		Registerer: reg,
		Now:        func() time.Time { return now },
	})
	pushSrv = push.New(push.Options{Source: eng, Registerer: reg})
	if health == nil {
		health = func() (bool, map[string]any) { return true, map[string]any{"mqtt_connected": true} }
	}
	o := server.Options{
		Engine: eng, Push: pushSrv, Gatherer: reg, Runtime: runtimeReg, Health: health, Version: "test-version",
		Alerts: store, Operators: ops,
	}
	if with != nil {
		with(&o, reg)
	}
	ts := httptest.NewServer(server.Handler(o))
	h.url = ts.URL
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { _ = eng.Run(ctx, h.in) })
	wg.Go(func() { _ = pushSrv.Run(ctx) })
	t.Cleanup(func() {
		cancel()
		wg.Wait()
		ts.Close()
	})
	return h
}

// get requests path (already escaped as it should go on the wire) and
// returns the response with its body read.
func (h *hub) do(t *testing.T, method, path string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, h.url+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, shorten(path), err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", method, shorten(path), err)
	}
	return res, body
}

func (h *hub) get(t *testing.T, path string) (*http.Response, []byte) {
	t.Helper()
	return h.do(t, http.MethodGet, path)
}

func shorten(s string) string {
	if len(s) > 80 {
		return fmt.Sprintf("%s… (%d bytes)", s[:80], len(s))
	}
	return s
}

func decodeJSON[T any](t *testing.T, body []byte) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatalf("body is not the JSON expected (%v): %s", err, shorten(string(body)))
	}
	return v
}

func TestRoutes(t *testing.T) {
	h := newHub(t, nil)
	for _, c := range []struct {
		name, path string
		status     int
		ctype      string
	}{
		{"dashboard", "/", 200, "text/html; charset=utf-8"},
		{"healthz", "/healthz", 200, "application/json"},
		{"metrics", "/metrics", 200, "text/plain"},
		{"vehicles", "/api/vehicles", 200, "application/json"},
		{"displays", "/api/displays", 200, "application/json"},
		{"cluster", "/api/cluster", 200, "application/json"},
		{"known stop board", "/api/stops/S1/board", 200, "application/json"},
		{"unknown stop board", "/api/stops/S99/board", 404, "application/json"},
		{"unknown API endpoint", "/api/stops", 404, "application/json"},
		{"stop without board", "/api/stops/S1", 404, "application/json"},
		{"trip updates", "/gtfs-rt/trip-updates", 200, "application/x-protobuf"},
		{"vehicle positions", "/gtfs-rt/vehicle-positions", 200, "application/x-protobuf"},
		{"trip updates as JSON", "/gtfs-rt/trip-updates?format=json", 200, "application/json"},
		{"vehicle positions as JSON", "/gtfs-rt/vehicle-positions?format=json", 200, "application/json"},
		{"unknown feed format", "/gtfs-rt/trip-updates?format=xml", 400, "text/plain"},
		{"websocket without upgrade", "/ws", 400, "text/plain"},
		{"unknown page", "/favicon.ico", 404, "text/plain"},
	} {
		t.Run(c.name, func(t *testing.T) {
			res, body := h.get(t, c.path)
			if res.StatusCode != c.status {
				t.Errorf("status %d, want %d; body %s", res.StatusCode, c.status, shorten(string(body)))
			}
			if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, c.ctype) {
				t.Errorf("Content-Type %q, want %q", ct, c.ctype)
			}
			if len(body) == 0 {
				t.Error("empty body")
			}
			if strings.HasPrefix(c.ctype, "application/json") && !json.Valid(body) {
				t.Errorf("body is not JSON: %s", shorten(string(body)))
			}
		})
	}
}

func TestOnlyGet(t *testing.T) {
	h := newHub(t, nil)
	paths := []string{"/", "/healthz", "/metrics", "/api/vehicles", "/api/displays", "/api/cluster", "/api/stops/S1/board",
		"/gtfs-rt/trip-updates", "/gtfs-rt/vehicle-positions", "/ws"}
	for _, method := range []string{http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodOptions, http.MethodTrace} {
		for _, path := range paths {
			t.Run(method+" "+path, func(t *testing.T) {
				res, _ := h.do(t, method, path)
				if res.StatusCode != http.StatusMethodNotAllowed {
					t.Errorf("status %d, want 405", res.StatusCode)
				}
				if allow := res.Header.Get("Allow"); !strings.Contains(allow, "GET") {
					t.Errorf("Allow %q does not name GET", allow)
				}
			})
		}
	}
}

func TestBoard(t *testing.T) {
	h := newHub(t, nil)
	t.Run("known stop", func(t *testing.T) {
		res, body := h.get(t, "/api/stops/S1/board")
		if res.StatusCode != 200 {
			t.Fatalf("status %d: %s", res.StatusCode, body)
		}
		b, err := wire.DecodeBoard(body)
		if err != nil {
			t.Fatalf("board does not decode: %v\n%s", err, body)
		}
		if b.Stop != "S1" || b.StopName != "Stop 1" || len(b.Arrivals) == 0 {
			t.Errorf("board %+v, want S1 \"Stop 1\" with the scheduled arrivals", b)
		}
	})
	t.Run("unknown stop", func(t *testing.T) {
		res, body := h.get(t, "/api/stops/S99/board")
		if res.StatusCode != 404 {
			t.Fatalf("status %d: %s", res.StatusCode, body)
		}
		e := decodeJSON[map[string]string](t, body)
		if e["stop"] != "S99" || !strings.Contains(e["error"], `unknown stop "S99"`) || !strings.Contains(e["error"], "stops.txt") {
			t.Errorf("error %v: want one naming stop \"S99\" and where stops come from", e)
		}
		if res.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Error("an error echoing the client's input lacks X-Content-Type-Options: nosniff")
		}
	})
}

// TestHostileStopIDs: whatever a client puts in the path, it gets a clear
// error of bounded size, and the server goes on.
func TestHostileStopIDs(t *testing.T) {
	h := newHub(t, nil)
	long := strings.Repeat("S", 100_000)
	for _, c := range []struct {
		name, path string
		status     int
		// For JSON errors: what the message says and the stop it names.
		says, stop string
	}{
		{name: "long id", path: "/api/stops/" + long + "/board", status: 404,
			says: `unknown stop "` + strings.Repeat("S", 128) + `…" (100000 bytes)`, stop: strings.Repeat("S", 128) + "…"},
		{name: "long multibyte id", path: "/api/stops/" + strings.Repeat("%C3%9C", 100) + "/board", status: 404,
			says: `unknown stop "` + strings.Repeat("Ü", 64) + `…" (200 bytes)`, stop: strings.Repeat("Ü", 64) + "…"},
		{name: "long multibyte id cut mid-character", path: "/api/stops/S" + strings.Repeat("%C3%9C", 100) + "/board", status: 404,
			says: `unknown stop "S` + strings.Repeat("Ü", 63) + `…" (201 bytes)`, stop: "S" + strings.Repeat("Ü", 63) + "…"},
		{name: "NUL", path: "/api/stops/%00/board", status: 404, says: `unknown stop "\x00"`, stop: "\x00"},
		{name: "invalid UTF-8", path: "/api/stops/%FF%FE/board", status: 404, says: `unknown stop "\xff\xfe"`, stop: "\ufffd\ufffd"},
		{name: "encoded slash", path: "/api/stops/S1%2FS2/board", status: 404, says: `unknown stop "S1/S2"`, stop: "S1/S2"},
		{name: "unicode", path: "/api/stops/%C3%9Cber/board", status: 404, says: `unknown stop "Über"`, stop: "Über"},
		{name: "space", path: "/api/stops/S%201/board", status: 404, says: `unknown stop "S 1"`, stop: "S 1"},
		{name: "double encoded", path: "/api/stops/%252e%252e/board", status: 404, says: `unknown stop "%2e%2e"`, stop: "%2e%2e"},
		{name: "quote and markup", path: "/api/stops/%22%3Cscript%3E/board", status: 404, says: `unknown stop "\"<script>"`, stop: `"<script>`},
		// The mux cleans dot segments (redirecting to the clean path), so
		// these never reach a handler with ".." in them.
		{name: "traversal", path: "/api/stops/../../../etc/passwd", status: 404},
		{name: "encoded traversal", path: "/api/stops/%2e%2e%2f%2e%2e%2fetc%2fpasswd/board", status: 404},
		{name: "traversal under api", path: "/api/stops/../vehicles/../../api/nothing", status: 404,
			says: `no API endpoint "/api/nothing"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			res, body := h.get(t, c.path)
			if res.StatusCode != c.status {
				t.Fatalf("status %d, want %d: %s", res.StatusCode, c.status, shorten(string(body)))
			}
			if strings.Contains(string(body), "root:") {
				t.Fatalf("served a file: %s", shorten(string(body)))
			}
			if len(body) > 2048 {
				t.Errorf("a %d-byte answer: errors should not echo all the client sent", len(body))
			}
			if c.says == "" {
				return
			}
			if ct := res.Header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type %q, want application/json", ct)
			}
			e := decodeJSON[map[string]string](t, body)
			if !strings.Contains(e["error"], c.says) || e["stop"] != c.stop {
				t.Errorf("error %q stop %q, want %q naming %q", shorten(e["error"]), shorten(e["stop"]), c.says, c.stop)
			}
		})
	}
	// What the HTTP server refuses before the mux: a path that is not
	// percent-encoding, a request line past the header limit.
	for _, c := range []struct {
		name, target string
		status       int
	}{
		{"bad percent-encoding", "/api/stops/%zz/board", 400},
		{"control character", "/api/stops/S\x011/board", 400},
		{"over the header limit", "/api/stops/" + strings.Repeat("S", 2<<20) + "/board", 431},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := rawGet(t, h.url, c.target); got != c.status {
				t.Errorf("status %d, want %d", got, c.status)
			}
		})
	}
	// And the server still answers.
	if res, _ := h.get(t, "/api/stops/S1/board"); res.StatusCode != 200 {
		t.Errorf("after the hostile requests: status %d", res.StatusCode)
	}
}

// rawGet sends GET target as written, which net/http's client would not,
// and returns the status answered.
func rawGet(t *testing.T, base, target string) int {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(wait))
	// Write while reading: the server answers a request line it will not
	// take before the client has finished sending it.
	go func() { _, _ = fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: hub\r\nConnection: close\r\n\r\n", target) }()
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("GET %s: %v", shorten(target), err)
	}
	res.Body.Close()
	return res.StatusCode
}

func TestVehicles(t *testing.T) {
	h := newHub(t, nil)
	_, body := h.get(t, "/api/vehicles")
	if string(body) != "[]\n" {
		t.Errorf("with no vehicles: %q, want [] (the dashboard maps over it)", body)
	}

	p := geo.Offset(testfeed.Origin, 90, 1500)
	payload, err := (&wire.Position{V: 1, Vehicle: "bus-1", Seq: 1, Time: now, Lat: p.Lat, Lon: p.Lon, Mode: 3, Speed: wire.Float(8), Track: wire.Float(90)}).Encode()
	if err != nil {
		t.Fatal(err)
	}
	h.in <- ingest.Message{Topic: wire.Topics{}.Position("bus-1"), Payload: payload, Received: now}
	// The engine publishes boards after it updates the vehicles' view.
	select {
	case <-h.published:
	case <-time.After(wait):
		t.Fatal("the position changed no board")
	}
	_, body = h.get(t, "/api/vehicles")
	vs := decodeJSON[[]map[string]any](t, body)
	if len(vs) != 1 {
		t.Fatalf("vehicles %s, want bus-1", body)
	}
	v := vs[0]
	for _, key := range []string{"vehicle", "online", "last_seen", "fix_time", "lat", "lon", "seq", "accepted", "duplicates", "gaps", "missing", "backfill", "rejected"} {
		if _, ok := v[key]; !ok {
			t.Errorf("vehicle has no %q: %s", key, body)
		}
	}
	if v["vehicle"] != "bus-1" || v["online"] != true || v["seq"] != 1.0 || v["accepted"] != 1.0 {
		t.Errorf("vehicle %s, want bus-1 online with one fix accepted", body)
	}
}

func TestDisplays(t *testing.T) {
	h := newHub(t, nil)
	_, body := h.get(t, "/api/displays")
	if string(body) != "[]\n" {
		t.Errorf("with no displays: %q, want []", body)
	}
	c, res, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(h.url, "http")+"/ws", nil)
	if err != nil {
		t.Fatalf("dial /ws: %v", err)
	}
	defer c.Close()
	if res.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("/ws status %d", res.StatusCode)
	}
	if err := c.WriteJSON(wire.Subscribe{Type: wire.TypeSubscribe, Display: "sign-1", Stops: []string{"S3"}}); err != nil {
		t.Fatal(err)
	}
	// The display is listed before its first message is sent.
	_ = c.SetReadDeadline(time.Now().Add(wait))
	if _, _, err := c.ReadMessage(); err != nil {
		t.Fatalf("no message after subscribing: %v", err)
	}
	_, body = h.get(t, "/api/displays")
	ds := decodeJSON[[]map[string]any](t, body)
	if len(ds) != 1 {
		t.Fatalf("displays %s, want sign-1", body)
	}
	d := ds[0]
	for _, key := range []string{"display", "stops", "remote", "connected", "connected_at", "cache_age_s", "version"} {
		if _, ok := d[key]; !ok {
			t.Errorf("display has no %q: %s", key, body)
		}
	}
	if stops, _ := d["stops"].([]any); d["display"] != "sign-1" || d["connected"] != true || !slices.Equal(stops, []any{"S3"}) {
		t.Errorf("display %s, want sign-1 connected for S3", body)
	}
}

func TestGTFSRealtime(t *testing.T) {
	h := newHub(t, nil)
	for _, path := range []string{"/gtfs-rt/trip-updates", "/gtfs-rt/vehicle-positions"} {
		t.Run(path, func(t *testing.T) {
			_, body := h.get(t, path)
			var m rtpb.FeedMessage
			if err := proto.Unmarshal(body, &m); err != nil {
				t.Fatalf("not a GTFS-Realtime FeedMessage: %v", err)
			}
			if m.GetHeader().GetGtfsRealtimeVersion() == "" {
				t.Errorf("header %v has no version", m.GetHeader())
			}
		})
	}
}

func TestHealthz(t *testing.T) {
	for _, c := range []struct {
		name   string
		health server.Health
		status int
		state  string
	}{
		{"healthy", func() (bool, map[string]any) { return true, map[string]any{"mqtt_connected": true} }, 200, "ok"},
		{"unhealthy", func() (bool, map[string]any) { return false, map[string]any{"mqtt_connected": false} }, 503, "unhealthy"},
		{"no detail", func() (bool, map[string]any) { return true, nil }, 200, "ok"},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := newHub(t, c.health)
			res, body := h.get(t, "/healthz")
			if res.StatusCode != c.status {
				t.Errorf("status %d, want %d", res.StatusCode, c.status)
			}
			d := decodeJSON[map[string]any](t, body)
			if d["status"] != c.state || d["version"] != "test-version" {
				t.Errorf("healthz %s, want status %q and the version", body, c.state)
			}
			if ts, _ := d["time"].(string); ts == "" {
				t.Errorf("healthz %s has no time", body)
			} else if _, err := time.Parse(time.RFC3339Nano, ts); err != nil {
				t.Errorf("time %q: %v", ts, err)
			}
		})
	}
}

// externalRef finds anything the page would load from elsewhere.
var externalRef = regexp.MustCompile(`(?i)(src|href|action)\s*=\s*["']?\s*(https?:)?//|url\(\s*["']?\s*(https?:)?//|@import|https?://`)

func TestDashboard(t *testing.T) {
	h := newHub(t, nil)
	res, body := h.get(t, "/")
	if res.StatusCode != 200 {
		t.Fatalf("status %d", res.StatusCode)
	}
	// The SVG namespace is a name, not a load.
	if m := externalRef.Find([]byte(strings.ReplaceAll(string(body), `"http://www.w3.org/2000/svg"`, `""`))); m != nil {
		t.Errorf("dashboard refers outside the hub: %q", m)
	}
	if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") {
		t.Errorf("Content-Security-Policy %q does not keep the page to the hub", csp)
	}
	// Every link and every fetch on the page answers.
	links := regexp.MustCompile(`(?:href=|fetch\(|\[|, )"(/[^"]*)"`).FindAllSubmatch(body, -1)
	if len(links) < 4 {
		t.Fatalf("found %d links on the dashboard", len(links))
	}
	for _, l := range links {
		path := string(l[1])
		if res, _ := h.get(t, path); res.StatusCode != 200 {
			t.Errorf("the dashboard's %s answers %d", path, res.StatusCode)
		}
	}
}

// TestMetricsOrder: the hub's own metrics come first, the runtime's after.
func TestMetricsOrder(t *testing.T) {
	h := newHub(t, nil)
	_, body := h.get(t, "/metrics")
	names, err := promorder.CheckText(string(body), "headway_")
	if err != nil {
		t.Error(err)
	}
	for _, want := range []string{"go_goroutines", "headway_ws_connections", "headway_boards_published_total"} {
		if !slices.Contains(names, want) {
			t.Errorf("no %s in %v", want, names)
		}
	}
}
