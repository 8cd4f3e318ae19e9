package operators

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/headway-transit/headway/hub/internal/ratelimit"
)

// CookieName is the session cookie's name.
const CookieName = "headway_session"

// Sign-in attempts per source: loginBurst at once, then one every
// loginEvery, whether they succeed or not.
const (
	loginBurst = 5
	loginEvery = 5 * time.Second
	// maxLoginBody bounds the sign-in form read.
	maxLoginBody = 4 << 10
	// bcryptWait is how long an attempt waits for its turn at bcrypt
	// before it is turned away as busy.
	bcryptWait = 2 * time.Second
)

// Options configure a Gate.
type Options struct {
	Users []User
	// Open lets everyone in with no sign-in: for a hub with no operators
	// listening on loopback only (the demo).
	Open bool
	// Trusted are the reverse proxies whose X-Forwarded-For names the
	// client (see ratelimit.Source).
	Trusted    []netip.Prefix
	Logger     *slog.Logger
	Registerer prometheus.Registerer
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Gate signs operators in and keeps out whoever is not.
type Gate struct {
	open     bool
	trusted  []netip.Prefix
	log      *slog.Logger
	now      func() time.Time
	sessions sessions
	attempts *ratelimit.PerClient
	logEvery ratelimit.LogEvery
	bcrypt   chan struct{}
	csrf     *http.CrossOriginProtection
	logins   *prometheus.CounterVec

	mu    sync.RWMutex
	users map[string]string // username → bcrypt hash
}

// New checks the users and returns their gate.
func New(o Options) (*Gate, error) {
	g := &Gate{
		open: o.Open, trusted: o.Trusted, log: o.Logger, now: o.Now,
		attempts: ratelimit.New(float64(time.Second)/float64(loginEvery), loginBurst),
		logEvery: ratelimit.LogEvery{Every: time.Minute},
		bcrypt:   make(chan struct{}, 1),
		csrf:     http.NewCrossOriginProtection(),
		logins: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "headway_http_logins_total",
			Help: "Operators' sign-in attempts by result: ok, wrong (username or password), limited (too many from one source), busy, malformed.",
		}, []string{"result"}),
	}
	if g.log == nil {
		g.log = slog.New(slog.DiscardHandler)
	}
	if g.now == nil {
		g.now = time.Now
	}
	if err := g.SetUsers(o.Users); err != nil {
		return nil, err
	}
	for _, r := range []string{"ok", "wrong", "limited", "busy", "malformed"} {
		g.logins.WithLabelValues(r)
	}
	if o.Registerer != nil {
		if err := o.Registerer.Register(g.logins); err != nil {
			return nil, err
		}
	}
	g.csrf.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusForbidden, map[string]string{"error": "cross-origin request refused: sign in and out from the hub's own pages"})
	}))
	return g, nil
}

// SetUsers replaces the operators (hub.yaml reloaded); sessions of those
// no longer listed end.
func (g *Gate) SetUsers(users []User) error {
	m := make(map[string]string, len(users))
	for i, u := range users {
		if err := u.Check(); err != nil {
			return fmt.Errorf("http.operators[%d]: %w", i, err)
		}
		if _, dup := m[u.Username]; dup {
			return fmt.Errorf("http.operators[%d]: username %q given twice", i, u.Username)
		}
		m[u.Username] = u.PasswordHash
	}
	g.mu.Lock()
	g.users = m
	g.mu.Unlock()
	g.sessions.keepOnly(m)
	return nil
}

// Open reports whether the gate lets everyone in.
func (g *Gate) Open() bool { return g.open }

type ctxKey struct{}

// Operator is who signed in for the request Require let through: "" when
// the gate is open.
func Operator(r *http.Request) string {
	u, _ := r.Context().Value(ctxKey{}).(string)
	return u
}

// Require lets through only requests of signed-in operators. Others are
// sent to /login (pages) or answered 401 in JSON (/api/).
func (g *Gate) Require(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if g.open {
			next.ServeHTTP(w, r)
			return
		}
		g.mu.RLock()
		none := len(g.users) == 0
		g.mu.RUnlock()
		if none {
			msg := "no operators: this hub listens beyond loopback and http.operators in hub.yaml is empty; add one (hub passwd prints its password_hash)"
			if strings.HasPrefix(r.URL.Path, "/api/") {
				writeJSON(w, http.StatusForbidden, map[string]string{"error": msg})
			} else {
				g.page(w, http.StatusForbidden, "/", msg)
			}
			return
		}
		user, ok := g.signedIn(r)
		if !ok {
			if strings.HasPrefix(r.URL.Path, "/api/") {
				w.Header().Set("WWW-Authenticate", `Cookie realm="headway" form-action="/login"`)
				writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "sign in first: POST username and password to /login (a form), then send the headway_session cookie it sets"})
				return
			}
			http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), ctxKey{}, user)))
	})
}

func (g *Gate) signedIn(r *http.Request) (string, bool) {
	c, err := r.Cookie(CookieName)
	if err != nil {
		return "", false
	}
	id, err := parseSessionID(c.Value)
	if err != nil {
		return "", false
	}
	user, ok := g.sessions.user(id, g.now())
	if !ok {
		return "", false
	}
	g.mu.RLock()
	_, listed := g.users[user]
	g.mu.RUnlock()
	return user, listed
}

//go:embed login.html
var loginPage string

// Routes adds GET and POST /login, POST /logout and GET /api/session to
// mux.
func (g *Gate) Routes(mux *http.ServeMux) {
	mux.HandleFunc("GET /login", g.loginForm)
	mux.Handle("POST /login", g.csrf.Handler(http.HandlerFunc(g.login)))
	mux.Handle("POST /logout", g.csrf.Handler(http.HandlerFunc(g.logout)))
	mux.Handle("GET /api/session", g.Require(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"operator": Operator(r), "login_required": !g.open})
	})))
}

func (g *Gate) loginForm(w http.ResponseWriter, r *http.Request) {
	g.page(w, http.StatusOK, safeNext(r.URL.Query().Get("next")), "")
}

func (g *Gate) page(w http.ResponseWriter, status int, next, message string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	r := strings.NewReplacer("{{next}}", htmlEscape(next), "{{message}}", htmlEscape(message))
	_, _ = r.WriteString(w, loginPage)
}

// loginForm is a sign-in attempt as posted.
type loginForm struct {
	Username, Password, Next string
}

// parseLogin reads a posted sign-in form: a url-encoded body of at most
// maxLoginBody bytes with a username and a password within bounds.
func parseLogin(r *http.Request) (loginForm, error) {
	var f loginForm
	ct, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || ct != "application/x-www-form-urlencoded" {
		return f, fmt.Errorf("content type %q: post a form (application/x-www-form-urlencoded)", r.Header.Get("Content-Type"))
	}
	r.Body = http.MaxBytesReader(nil, r.Body, maxLoginBody)
	if err := r.ParseForm(); err != nil {
		return f, fmt.Errorf("form: %w", err)
	}
	f = loginForm{Username: r.PostForm.Get("username"), Password: r.PostForm.Get("password"), Next: safeNext(r.PostForm.Get("next"))}
	switch {
	case f.Username == "" || f.Password == "":
		return f, errors.New("username and password are both needed")
	case len(f.Username) > maxUsername:
		return f, fmt.Errorf("username longer than %d bytes", maxUsername)
	case len(f.Password) > maxPassword:
		return f, fmt.Errorf("password longer than %d bytes", maxPassword)
	}
	return f, nil
}

// safeNext is where to go after signing in: a path on this hub, never
// another site.
func safeNext(next string) string {
	if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") ||
		strings.ContainsAny(next, "\r\n\\") || len(next) > 512 {
		return "/"
	}
	return next
}

func (g *Gate) login(w http.ResponseWriter, r *http.Request) {
	src := ratelimit.Source(r, g.trusted)
	if ok, retry := g.attempts.Allow(src, g.now()); !ok {
		g.refuse(src, "limited", "", nil)
		w.Header().Set("Retry-After", fmt.Sprint(int(retry.Seconds())+1))
		g.page(w, http.StatusTooManyRequests, "/", "Too many attempts from your address: wait a few seconds and try again.")
		return
	}
	f, err := parseLogin(r)
	if err != nil {
		g.refuse(src, "malformed", "", err)
		g.page(w, http.StatusBadRequest, f.Next, "Could not read the form: "+err.Error())
		return
	}
	select {
	case g.bcrypt <- struct{}{}:
	case <-time.After(bcryptWait):
		g.refuse(src, "busy", f.Username, nil)
		w.Header().Set("Retry-After", "2")
		g.page(w, http.StatusServiceUnavailable, f.Next, "The hub is busy signing others in: try again in a moment.")
		return
	case <-r.Context().Done():
		return
	}
	g.mu.RLock()
	hash := g.users[f.Username]
	g.mu.RUnlock()
	ok := verify(hash, f.Password)
	<-g.bcrypt
	if !ok {
		g.refuse(src, "wrong", f.Username, nil)
		g.page(w, http.StatusUnauthorized, f.Next, "Wrong username or password.")
		return
	}
	id, err := g.sessions.add(f.Username, g.now())
	if err != nil {
		http.Error(w, "session: "+err.Error(), http.StatusInternalServerError)
		return
	}
	g.logins.WithLabelValues("ok").Inc()
	g.log.Info("operator signed in", "operator", f.Username, "remote", src)
	http.SetCookie(w, &http.Cookie{
		Name: CookieName, Value: id.String(), Path: "/",
		HttpOnly: true, Secure: true, SameSite: http.SameSiteStrictMode,
		MaxAge: int(sessionMax / time.Second),
	})
	http.Redirect(w, r, f.Next, http.StatusSeeOther)
}

// refuse counts a refused sign-in and logs it at most once a minute per
// source, naming the username tried but never the password.
func (g *Gate) refuse(src, result, username string, err error) {
	g.logins.WithLabelValues(result).Inc()
	if !g.logEvery.Due(src, g.now()) {
		return
	}
	attrs := []any{"remote", src, "result", result}
	if username != "" {
		attrs = append(attrs, "username", truncate(username))
	}
	if err != nil {
		attrs = append(attrs, "err", err)
	}
	g.log.Warn("operator sign-in refused (logged at most once a minute per address)", attrs...)
}

func (g *Gate) logout(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(CookieName); err == nil {
		if id, err := parseSessionID(c.Value); err == nil {
			g.sessions.remove(id)
		}
	}
	http.SetCookie(w, &http.Cookie{Name: CookieName, Value: "", Path: "/", HttpOnly: true, Secure: true, SameSite: http.SameSiteStrictMode, MaxAge: -1})
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

func truncate(s string) string {
	if len(s) > maxUsername {
		return s[:maxUsername] + "…"
	}
	return s
}

func htmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&#34;", "'", "&#39;").Replace(s)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
