// Package ratelimit keeps the hub's limits per source: how many requests a
// client may make to the public endpoints (PerClient), and how often one
// source's refusals are logged (LogEvery). Both are bounded in memory
// whoever floods them: a flood of new addresses shares one limit rather
// than growing a map without end.
package ratelimit

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// maxClients bounds the clients tracked one by one; beyond it (after idle
// ones are forgotten) new clients share the overflow limit.
const maxClients = 100_000

// PerClient is a token bucket per client: PerSecond requests a second on
// average, Burst at once.
type PerClient struct {
	rate  rate.Limit
	burst int

	mu        sync.Mutex
	clients   map[string]*client
	overflow  *rate.Limiter
	lastPrune time.Time
}

type client struct {
	lim  *rate.Limiter
	seen time.Time
}

// New returns a limit of perSecond requests a second per client, burst at
// once.
func New(perSecond float64, burst int) *PerClient {
	return &PerClient{
		rate: rate.Limit(perSecond), burst: burst,
		clients:  map[string]*client{},
		overflow: rate.NewLimiter(rate.Limit(perSecond), burst),
	}
}

// Allow takes one request, made at now, from client's bucket. When it is
// empty, Allow reports false and how long until the next request would
// pass.
func (p *PerClient) Allow(client string, now time.Time) (ok bool, retryAfter time.Duration) {
	lim := p.limiter(client, now)
	if lim.AllowN(now, 1) {
		return true, 0
	}
	// Refused, and no token taken: the next passes once one has refilled.
	if p.rate <= 0 {
		return false, time.Second
	}
	missing := 1 - lim.TokensAt(now)
	return false, time.Duration(missing / float64(p.rate) * float64(time.Second))
}

func (p *PerClient) limiter(key string, now time.Time) *rate.Limiter {
	p.mu.Lock()
	defer p.mu.Unlock()
	if c, ok := p.clients[key]; ok {
		c.seen = now
		return c.lim
	}
	if now.Sub(p.lastPrune) > time.Minute || len(p.clients) >= maxClients {
		p.prune(now)
	}
	if len(p.clients) >= maxClients {
		return p.overflow
	}
	c := &client{lim: rate.NewLimiter(p.rate, p.burst), seen: now}
	p.clients[key] = c
	return c.lim
}

// prune forgets clients whose buckets have filled again: a new bucket is
// the same as theirs.
func (p *PerClient) prune(now time.Time) {
	p.lastPrune = now
	refill := time.Minute
	if p.rate > 0 {
		refill += time.Duration(float64(p.burst) / float64(p.rate) * float64(time.Second))
	}
	for k, c := range p.clients {
		if now.Sub(c.seen) > refill {
			delete(p.clients, k)
		}
	}
}

// Clients is how many clients are tracked one by one.
func (p *PerClient) Clients() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.clients)
}

// LogEvery says whether a source's event is due to be logged: at most once
// per Every per source.
type LogEvery struct {
	Every time.Duration
	mu    sync.Mutex
	last  map[string]time.Time
}

// Due reports whether source's event should be logged now, and if so
// remembers that it was.
func (l *LogEvery) Due(source string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.last == nil {
		l.last = map[string]time.Time{}
	}
	if last, ok := l.last[source]; ok && now.Sub(last) < l.Every {
		return false
	}
	if len(l.last) >= 10_000 {
		clear(l.last) // bounded, whoever floods it
	}
	l.last[source] = now
	return true
}

// Source is the client a request counts against: its address, or, when
// that is one of trusted (a reverse proxy), the nearest address in
// X-Forwarded-For that is not. IPv6 clients count per /64, the block one
// subscriber is usually given.
func Source(r *http.Request, trusted []netip.Prefix) string {
	ip := addrOf(r.RemoteAddr)
	if ip.IsValid() && isTrusted(ip, trusted) {
		hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
		for i := len(hops) - 1; i >= 0; i-- {
			hop, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
			if err != nil {
				break // a hop the proxy did not write: stop at the proxy
			}
			ip = hop.Unmap()
			if !isTrusted(ip, trusted) {
				break
			}
		}
	}
	if !ip.IsValid() {
		return r.RemoteAddr
	}
	if ip.Is6() {
		p, _ := ip.Prefix(64)
		return p.String()
	}
	return ip.String()
}

func addrOf(remote string) netip.Addr {
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		host = remote
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}
	}
	return ip.Unmap()
}

func isTrusted(ip netip.Addr, trusted []netip.Prefix) bool {
	for _, p := range trusted {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}
