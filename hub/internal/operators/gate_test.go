package operators

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"golang.org/x/crypto/bcrypt"
)

func hash(t testing.TB, password string) string {
	h, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	return string(h)
}

type fixture struct {
	g   *Gate
	h   http.Handler
	now time.Time
	log bytes.Buffer
}

func newFixture(t *testing.T) *fixture {
	f := &fixture{now: time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)}
	g, err := New(Options{
		Users:      []User{{Username: "alice", PasswordHash: hash(t, "correct-horse-battery")}},
		Logger:     slog.New(slog.NewTextHandler(&f.log, nil)),
		Registerer: prometheus.NewRegistry(),
		Now:        func() time.Time { return f.now },
	})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	g.Routes(mux)
	mux.Handle("GET /api/vehicles", g.Require(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "fleet of "+Operator(r))
	})))
	mux.Handle("GET /{$}", g.Require(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "dashboard") })))
	f.g, f.h = g, mux
	return f
}

func (f *fixture) do(method, target, from string, body url.Values, cookie *http.Cookie, header map[string]string) *httptest.ResponseRecorder {
	var r *http.Request
	if body != nil {
		r = httptest.NewRequest(method, target, strings.NewReader(body.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	} else {
		r = httptest.NewRequest(method, target, nil)
	}
	r.RemoteAddr = from + ":40000"
	if cookie != nil {
		r.AddCookie(cookie)
	}
	for k, v := range header {
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	f.h.ServeHTTP(w, r)
	return w
}

func sessionCookie(t *testing.T, w *httptest.ResponseRecorder) *http.Cookie {
	t.Helper()
	for _, c := range w.Result().Cookies() {
		if c.Name == CookieName && c.Value != "" {
			return c
		}
	}
	t.Fatalf("no %s cookie set (status %d)", CookieName, w.Code)
	return nil
}

func TestNoSessionRefused(t *testing.T) {
	f := newFixture(t)
	w := f.do("GET", "/api/vehicles", "192.0.2.1", nil, nil, nil)
	if w.Code != http.StatusUnauthorized || !strings.Contains(w.Body.String(), "sign in first") {
		t.Errorf("API without a session: %d %s, want 401 saying to sign in", w.Code, w.Body)
	}
	w = f.do("GET", "/", "192.0.2.1", nil, nil, nil)
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/login?next=%2F" {
		t.Errorf("dashboard without a session: %d to %q, want 303 to /login?next=%%2F", w.Code, w.Header().Get("Location"))
	}
	// A made-up or malformed cookie is no session.
	for _, v := range []string{"x", strings.Repeat("A", sessionIDLen), strings.Repeat("*", sessionIDLen)} {
		w = f.do("GET", "/api/vehicles", "192.0.2.1", nil, &http.Cookie{Name: CookieName, Value: v}, nil)
		if w.Code != http.StatusUnauthorized {
			t.Errorf("cookie %q: %d, want 401", v, w.Code)
		}
	}
}

func TestSignInAndOut(t *testing.T) {
	f := newFixture(t)
	w := f.do("POST", "/login", "192.0.2.1", url.Values{"username": {"alice"}, "password": {"correct-horse-battery"}, "next": {"/api/vehicles"}}, nil, nil)
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/api/vehicles" {
		t.Fatalf("sign-in: %d to %q, want 303 to /api/vehicles", w.Code, w.Header().Get("Location"))
	}
	c := sessionCookie(t, w)
	if !c.HttpOnly || !c.Secure || c.SameSite != http.SameSiteStrictMode || c.Path != "/" {
		t.Errorf("cookie %+v: want HttpOnly, Secure, SameSite=Strict, Path=/", c)
	}
	w = f.do("GET", "/api/vehicles", "192.0.2.1", nil, c, nil)
	if w.Code != http.StatusOK || w.Body.String() != "fleet of alice" {
		t.Fatalf("API with the session: %d %q", w.Code, w.Body)
	}
	if n := testutil.ToFloat64(f.g.logins.WithLabelValues("ok")); n != 1 {
		t.Errorf("logins ok = %v, want 1", n)
	}
	if strings.Contains(f.log.String(), "correct-horse") || strings.Contains(f.log.String(), c.Value) {
		t.Errorf("a secret reached the log:\n%s", f.log.String())
	}
	// Signing out from another site is refused...
	w = f.do("POST", "/logout", "192.0.2.1", url.Values{}, c, map[string]string{"Sec-Fetch-Site": "cross-site"})
	if w.Code != http.StatusForbidden {
		t.Errorf("cross-site sign-out: %d, want 403", w.Code)
	}
	// ...from the hub's page it ends the session.
	w = f.do("POST", "/logout", "192.0.2.1", url.Values{}, c, map[string]string{"Sec-Fetch-Site": "same-origin"})
	if w.Code != http.StatusSeeOther {
		t.Errorf("sign-out: %d, want 303", w.Code)
	}
	if w = f.do("GET", "/api/vehicles", "192.0.2.1", nil, c, nil); w.Code != http.StatusUnauthorized {
		t.Errorf("API after sign-out: %d, want 401", w.Code)
	}
}

func TestWrongPasswordAndUnknownUser(t *testing.T) {
	f := newFixture(t)
	for _, form := range []url.Values{
		{"username": {"alice"}, "password": {"tr0ub4dor&3-nope"}},
		{"username": {"mallory"}, "password": {"correct-horse-battery"}},
	} {
		w := f.do("POST", "/login", "192.0.2.1", form, nil, nil)
		if w.Code != http.StatusUnauthorized || !strings.Contains(w.Body.String(), "Wrong username or password") {
			t.Errorf("%s: %d, want 401 with the same words for both", form.Get("username"), w.Code)
		}
		if len(w.Result().Cookies()) != 0 {
			t.Errorf("%s: a cookie was set on a refusal", form.Get("username"))
		}
	}
	if n := testutil.ToFloat64(f.g.logins.WithLabelValues("wrong")); n != 2 {
		t.Errorf("logins wrong = %v, want 2", n)
	}
	// Logged once a minute per source, never with the password.
	if n := strings.Count(f.log.String(), "sign-in refused"); n != 1 {
		t.Errorf("%d refusal log lines from one source in a minute, want 1:\n%s", n, f.log.String())
	}
	if strings.Contains(f.log.String(), "tr0ub4dor") {
		t.Error("the password tried reached the log")
	}
}

func TestCrossSiteSignInRefused(t *testing.T) {
	f := newFixture(t)
	w := f.do("POST", "/login", "192.0.2.1", url.Values{"username": {"alice"}, "password": {"correct-horse-battery"}}, nil,
		map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"})
	if w.Code != http.StatusForbidden || len(w.Result().Cookies()) != 0 {
		t.Errorf("cross-site sign-in: %d, cookies %v; want 403 and none", w.Code, w.Result().Cookies())
	}
	// An Origin of another host without Sec-Fetch-Site (older browsers).
	w = f.do("POST", "/login", "192.0.2.1", url.Values{"username": {"alice"}, "password": {"correct-horse-battery"}}, nil,
		map[string]string{"Origin": "https://evil.example"})
	if w.Code != http.StatusForbidden {
		t.Errorf("sign-in with a foreign Origin: %d, want 403", w.Code)
	}
}

func TestSignInAttemptsLimitedPerSource(t *testing.T) {
	f := newFixture(t)
	bad := url.Values{"username": {"alice"}, "password": {"guess-guess-guess"}}
	for i := range loginBurst {
		if w := f.do("POST", "/login", "198.51.100.66", bad, nil, nil); w.Code != http.StatusUnauthorized {
			t.Fatalf("attempt %d: %d, want 401", i+1, w.Code)
		}
	}
	w := f.do("POST", "/login", "198.51.100.66", url.Values{"username": {"alice"}, "password": {"correct-horse-battery"}}, nil, nil)
	if w.Code != http.StatusTooManyRequests || w.Header().Get("Retry-After") == "" {
		t.Fatalf("attempt beyond the burst, even the right password: %d, want 429 with Retry-After", w.Code)
	}
	// Another source signs in.
	w = f.do("POST", "/login", "192.0.2.1", url.Values{"username": {"alice"}, "password": {"correct-horse-battery"}}, nil, nil)
	if w.Code != http.StatusSeeOther {
		t.Fatalf("another source: %d, want 303", w.Code)
	}
	// The guesser gets one more try every loginEvery.
	f.now = f.now.Add(loginEvery)
	if w := f.do("POST", "/login", "198.51.100.66", bad, nil, nil); w.Code != http.StatusUnauthorized {
		t.Errorf("after %v: %d, want one more attempt (401)", loginEvery, w.Code)
	}
	if n := testutil.ToFloat64(f.g.logins.WithLabelValues("limited")); n != 1 {
		t.Errorf("logins limited = %v, want 1", n)
	}
}

func TestSessionsEnd(t *testing.T) {
	f := newFixture(t)
	signIn := func() *http.Cookie {
		w := f.do("POST", "/login", "192.0.2.1", url.Values{"username": {"alice"}, "password": {"correct-horse-battery"}}, nil, nil)
		return sessionCookie(t, w)
	}
	c := signIn()
	f.now = f.now.Add(sessionIdle + time.Second)
	if w := f.do("GET", "/api/vehicles", "192.0.2.1", nil, c, nil); w.Code != http.StatusUnauthorized {
		t.Errorf("idle %v: %d, want 401", sessionIdle, w.Code)
	}
	c = signIn()
	for range int(sessionMax/sessionIdle) + 1 {
		f.now = f.now.Add(sessionIdle - time.Minute)
		f.do("GET", "/api/vehicles", "192.0.2.1", nil, c, nil)
	}
	if w := f.do("GET", "/api/vehicles", "192.0.2.1", nil, c, nil); w.Code != http.StatusUnauthorized {
		t.Errorf("kept alive beyond %v: %d, want 401", sessionMax, w.Code)
	}
	// An operator removed from hub.yaml is signed out.
	c = signIn()
	if err := f.g.SetUsers([]User{{Username: "bob", PasswordHash: hash(t, "another-long-one")}}); err != nil {
		t.Fatal(err)
	}
	if w := f.do("GET", "/api/vehicles", "192.0.2.1", nil, c, nil); w.Code != http.StatusUnauthorized {
		t.Errorf("removed operator's session: %d, want 401", w.Code)
	}
}

func TestOpenGate(t *testing.T) {
	g, err := New(Options{Open: true})
	if err != nil {
		t.Fatal(err)
	}
	h := g.Require(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/api/vehicles", nil))
	if w.Code != http.StatusOK {
		t.Errorf("open gate: %d", w.Code)
	}
}

func TestUsersChecked(t *testing.T) {
	for _, us := range [][]User{
		{{Username: "alice", PasswordHash: "plain-password-here"}},
		{{Username: "", PasswordHash: hash(t, "x")}},
		{{Username: "a", PasswordHash: hash(t, "x")}, {Username: "a", PasswordHash: hash(t, "y")}},
	} {
		if _, err := New(Options{Users: us}); err == nil || !strings.Contains(err.Error(), "http.operators[") {
			t.Errorf("%v: err %v, want one naming http.operators[i]", us, err)
		}
	}
}

func TestSafeNext(t *testing.T) {
	for in, want := range map[string]string{
		"": "/", "/api/vehicles": "/api/vehicles", "//evil.example/": "/", "https://evil.example": "/",
		"/\\evil.example": "/", "/a\r\nSet-Cookie: x": "/", "javascript:alert(1)": "/",
	} {
		if got := safeNext(in); got != want {
			t.Errorf("safeNext(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestLoginPageEscapes(t *testing.T) {
	f := newFixture(t)
	w := f.do("GET", `/login?next=/"><script>alert(1)</script>`, "192.0.2.1", nil, nil, nil)
	if strings.Contains(w.Body.String(), "<script>alert") {
		t.Error("next reflected unescaped into the page")
	}
	if !strings.Contains(w.Header().Get("Content-Security-Policy"), "default-src 'none'") {
		t.Error("login page without a strict CSP")
	}
}

func FuzzParseLogin(f *testing.F) {
	f.Add("application/x-www-form-urlencoded", "username=alice&password=correct-horse-battery&next=%2F")
	f.Add("application/x-www-form-urlencoded", "username=%zz")
	f.Add("application/json", `{"username":"alice"}`)
	f.Add("application/x-www-form-urlencoded; charset=utf-8", strings.Repeat("a=b&", 2000))
	f.Fuzz(func(t *testing.T, ct, body string) {
		r := httptest.NewRequest("POST", "/login", strings.NewReader(body))
		r.Header.Set("Content-Type", ct)
		lf, err := parseLogin(r)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error")
			}
			return
		}
		if lf.Username == "" || lf.Password == "" || len(lf.Username) > maxUsername || len(lf.Password) > maxPassword {
			t.Fatalf("accepted out-of-bounds form %+v", lf)
		}
		if len(body) > maxLoginBody {
			t.Fatalf("accepted a body of %d bytes", len(body))
		}
		if !strings.HasPrefix(lf.Next, "/") || strings.HasPrefix(lf.Next, "//") {
			t.Fatalf("next %q leaves the hub", lf.Next)
		}
	})
}

func FuzzSessionCookie(f *testing.F) {
	id, _ := newSessionID()
	f.Add(id.String())
	f.Add("")
	f.Add(strings.Repeat("=", sessionIDLen))
	f.Fuzz(func(t *testing.T, v string) {
		got, err := parseSessionID(v)
		if err != nil {
			return
		}
		if got.String() != v {
			t.Fatalf("cookie %q read as %q: not canonical", v, got.String())
		}
	})
}
