package station

import (
	_ "embed"
	"encoding/json"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
)

//go:embed web/sign.html
var signPage []byte

// defaultSSEPeriod re-sends the view even when nothing changed, so the
// page's stale flag and dropped past arrivals follow the clock, and so
// proxies and the browser see the stream is alive.
const defaultSSEPeriod = 15 * time.Second

// maxEventClients bounds /events streams: a sign has one or two pages
// open; more is a leak or abuse and would pin goroutines.
const maxEventClients = 32

// minSSEWait bounds how often a stream is re-sent when thresholds are near.
const minSSEWait = 50 * time.Millisecond

func (s *Station) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", s.handlePage)
	mux.HandleFunc("GET /board.json", s.handleBoard)
	mux.HandleFunc("GET /events", s.handleEvents)
	mux.HandleFunc("GET /healthz", s.handleHealth)
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.metrics.registry, promhttp.HandlerOpts{}))
	return mux
}

func (s *Station) handlePage(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-cache")
	// The page is self-contained: nothing outside this origin may load.
	h.Set("Content-Security-Policy", "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'")
	w.Write(signPage)
}

func (s *Station) handleBoard(w http.ResponseWriter, r *http.Request) {
	v, _ := s.viewNow(s.now())
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, v)
}

type health struct {
	Status     string     `json:"status"`
	Online     bool       `json:"online"`
	Mode       string     `json:"mode"`
	LastUpdate *time.Time `json:"last_update"`
	CacheAgeS  *float64   `json:"cache_age_s"`
	Stale      bool       `json:"stale"`
	// The version the hub's operators want signs on, and whether this one
	// needs an update (fleet: in hub.yaml).
	WantedVersion string `json:"wanted_version,omitempty"`
	UpdateWanted  bool   `json:"update_wanted"`
}

// handleHealth answers 200 while the agent runs: a sign with no hub still
// shows cached data, which is the agent doing its job. The body says how
// fresh that data is.
func (s *Station) handleHealth(w http.ResponseWriter, r *http.Request) {
	now := s.now()
	v, _ := s.viewNow(now)
	h := health{Status: "ok", Online: v.Online, Mode: v.Mode, Stale: v.Stale}
	h.WantedVersion, h.UpdateWanted = s.want.Status()
	if v.LastUpdate != nil {
		last := *v.LastUpdate
		age := cacheAgeSeconds(now, last)
		h.LastUpdate, h.CacheAgeS = &last, &age
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, h)
}

// handleEvents streams the view as Server-Sent Events: once at once, then
// on every change and every ssePeriod.
func (s *Station) handleEvents(w http.ResponseWriter, r *http.Request) {
	if n := s.sseClients.Add(1); n > maxEventClients {
		s.sseClients.Add(-1)
		http.Error(w, "too many event streams", http.StatusServiceUnavailable)
		return
	}
	defer s.sseClients.Add(-1)

	rc := http.NewResponseController(w)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	if _, err := w.Write([]byte("retry: 2000\n\n")); err != nil {
		return
	}
	tick := time.NewTimer(s.ssePeriod)
	defer tick.Stop()
	for {
		now := s.now()
		v, changed := s.viewNow(now)
		// Wake at the next threshold or dropped row too, so the page's
		// banner and rows follow the clock within a moment.
		wait := s.ssePeriod
		if !v.next.IsZero() {
			wait = min(wait, max(v.next.Sub(now), minSSEWait))
		}
		tick.Reset(wait)
		b, err := json.Marshal(v)
		if err != nil {
			s.logger.Error("encoding view", "error", err)
			return
		}
		_ = rc.SetWriteDeadline(time.Now().Add(writeTimeout))
		if _, err := w.Write(append(append([]byte("event: board\ndata: "), b...), "\n\n"...)); err != nil {
			return
		}
		if err := rc.Flush(); err != nil {
			return
		}
		select {
		case <-changed:
		case <-tick.C:
		case <-r.Context().Done():
			return
		case <-s.stopping:
			return
		}
	}
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	_ = enc.Encode(v)
}
