package server_test

import (
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"

	"github.com/gorilla/websocket"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"golang.org/x/crypto/bcrypt"

	"github.com/headway-transit/headway/hub/internal/operators"
	"github.com/headway-transit/headway/hub/internal/ratelimit"
	"github.com/headway-transit/headway/hub/internal/server"
)

// from is an HTTP client whose connections come from the loopback address
// ip (127.0.0.2, ...), so one test can play several clients.
func from(ip string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	jar, _ := cookiejar.New(nil)
	return &http.Client{
		Transport:     &http.Transport{DialContext: d.DialContext},
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

func status(t *testing.T, c *http.Client, method, u string, form url.Values) (int, http.Header, string) {
	t.Helper()
	var res *http.Response
	var err error
	if form != nil {
		res, err = c.PostForm(u, form)
	} else {
		req, _ := http.NewRequest(method, u, nil)
		res, err = c.Do(req)
	}
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, res.Header, string(b)
}

func TestOperatorsSignIn(t *testing.T) {
	hash, _ := bcrypt.GenerateFromPassword([]byte("correct-horse-battery"), bcrypt.MinCost)
	h := newHubWith(t, nil, func(o *server.Options, reg prometheus.Registerer) {
		g, err := operators.New(operators.Options{Users: []operators.User{{Username: "alice", PasswordHash: string(hash)}}, Registerer: reg})
		if err != nil {
			t.Fatal(err)
		}
		o.Gate = g
	})
	anon := from("127.0.0.1")
	for _, p := range []string{"/api/vehicles", "/api/displays", "/api/cluster", "/api/session", "/api/feeds", "/api/alerts", "/api/accuracy"} {
		if code, _, body := status(t, anon, "GET", h.url+p, nil); code != http.StatusUnauthorized || !strings.Contains(body, "sign in") {
			t.Errorf("%s without signing in: %d %s, want 401", p, code, body)
		}
	}
	for _, p := range []string{"/debug/pprof/", "/debug/pprof/heap", "/debug/pprof/profile?seconds=1"} {
		if code, _, _ := status(t, anon, "GET", h.url+p, nil); code != http.StatusSeeOther {
			t.Errorf("%s without signing in: %d, want 303 to /login", p, code)
		}
	}
	if code, hdr, _ := status(t, anon, "GET", h.url+"/", nil); code != http.StatusSeeOther || !strings.HasPrefix(hdr.Get("Location"), "/login") {
		t.Errorf("dashboard without signing in: %d to %q, want 303 to /login", code, hdr.Get("Location"))
	}
	// What passengers and other systems read stays open.
	for _, p := range []string{"/api/stops/S1/board", "/gtfs-rt/trip-updates", "/gtfs-rt/vehicle-positions", "/healthz", "/metrics", "/login"} {
		if code, _, body := status(t, anon, "GET", h.url+p, nil); code != http.StatusOK {
			t.Errorf("%s: %d %s, want 200 with no sign-in", p, code, shorten(body))
		}
	}
	op := from("127.0.0.1")
	if code, _, _ := status(t, op, "POST", h.url+"/login", url.Values{"username": {"alice"}, "password": {"wrong-wrong-wrong"}}); code != http.StatusUnauthorized {
		t.Errorf("wrong password: %d, want 401", code)
	}
	if code, hdr, _ := status(t, op, "POST", h.url+"/login", url.Values{"username": {"alice"}, "password": {"correct-horse-battery"}, "next": {"/"}}); code != http.StatusSeeOther || hdr.Get("Location") != "/" {
		t.Fatalf("sign-in: %d to %q, want 303 to /", code, hdr.Get("Location"))
	}
	for _, p := range []string{"/", "/api/vehicles", "/api/displays", "/api/cluster", "/api/feeds", "/api/alerts", "/debug/pprof/heap?debug=1"} {
		if code, _, body := status(t, op, "GET", h.url+p, nil); code != http.StatusOK {
			t.Errorf("%s signed in: %d %s", p, code, shorten(body))
		}
	}
	if _, _, body := status(t, op, "GET", h.url+"/api/session", nil); !strings.Contains(body, `"operator":"alice"`) {
		t.Errorf("/api/session: %s, want alice", body)
	}
}

func TestPublicEndpointsLimitedPerClient(t *testing.T) {
	var limited *prometheus.CounterVec
	h := newHubWith(t, nil, func(o *server.Options, reg prometheus.Registerer) {
		limited = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "headway_http_rate_limited_total", Help: "test"}, []string{"endpoint"})
		reg.MustRegister(limited)
		o.Limit = &server.Limit{PerClient: ratelimit.New(0.5, 3), Limited: limited}
	})
	greedy, other := from("127.0.0.2"), from("127.0.0.3")
	for i := range 3 {
		if code, _, _ := status(t, greedy, "GET", h.url+"/api/stops/S1/board", nil); code != http.StatusOK {
			t.Fatalf("request %d within the burst: %d", i+1, code)
		}
	}
	code, hdr, body := status(t, greedy, "GET", h.url+"/gtfs-rt/trip-updates", nil)
	if code != http.StatusTooManyRequests || hdr.Get("Retry-After") == "" || !strings.Contains(body, "too many requests") {
		t.Fatalf("beyond the burst: %d %q (Retry-After %q), want 429 saying so", code, body, hdr.Get("Retry-After"))
	}
	// The signs' WebSocket counts too: an upgrade beyond the limit is 429.
	ws := websocket.Dialer{NetDialContext: (&net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.0.2")}}).DialContext}
	if _, res, err := ws.Dial("ws"+strings.TrimPrefix(h.url, "http")+"/ws", nil); err == nil || res == nil || res.StatusCode != http.StatusTooManyRequests {
		t.Errorf("WebSocket beyond the limit: err %v, want a 429 refusal", err)
	}
	// Another client is not held back by the greedy one.
	if code, _, _ := status(t, other, "GET", h.url+"/api/stops/S1/board", nil); code != http.StatusOK {
		t.Errorf("another client: %d, want 200", code)
	}
	if n := testutil.ToFloat64(limited.WithLabelValues("gtfs-rt")); n != 1 {
		t.Errorf("rate limited gtfs-rt = %v, want 1", n)
	}
	if n := testutil.ToFloat64(limited.WithLabelValues("ws")); n != 1 {
		t.Errorf("rate limited ws = %v, want 1", n)
	}
}
