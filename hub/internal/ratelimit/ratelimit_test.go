package ratelimit

import (
	"fmt"
	"net/http/httptest"
	"net/netip"
	"testing"
	"time"
)

func TestPerClientKeepsClientsApart(t *testing.T) {
	p := New(2, 3)
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	for i := range 3 {
		if ok, _ := p.Allow("10.0.0.1", now); !ok {
			t.Fatalf("request %d of the burst refused", i+1)
		}
	}
	ok, retry := p.Allow("10.0.0.1", now)
	if ok {
		t.Fatal("fourth request at once passed a burst of 3")
	}
	if retry <= 0 || retry > time.Second {
		t.Errorf("retry after %v, want (0, 500ms] at 2/s", retry)
	}
	// A refused request takes no token: after half a second one passes.
	if ok, _ := p.Allow("10.0.0.2", now); !ok {
		t.Fatal("another client refused because of the first")
	}
	now = now.Add(500 * time.Millisecond)
	if ok, _ := p.Allow("10.0.0.1", now); !ok {
		t.Fatal("refill of 1 token after 500 ms at 2/s not taken")
	}
	if ok, _ := p.Allow("10.0.0.1", now); ok {
		t.Fatal("second request after one refill passed")
	}
}

func TestPerClientBounded(t *testing.T) {
	p := New(1, 1)
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	for i := range maxClients + 10 {
		p.Allow(fmt.Sprint("c", i), now)
	}
	if n := p.Clients(); n > maxClients {
		t.Fatalf("%d clients tracked, bound %d", n, maxClients)
	}
	// Beyond the bound new clients share one bucket.
	a, _ := p.Allow("late-1", now)
	b, _ := p.Allow("late-2", now)
	if a && b {
		t.Error("two new clients beyond the bound both passed a shared burst of 1")
	}
	// Idle clients are forgotten, and new ones tracked again.
	now = now.Add(3 * time.Minute)
	if ok, _ := p.Allow("fresh", now); !ok {
		t.Fatal("new client after the idle ones were forgotten refused")
	}
	if n := p.Clients(); n != 1 {
		t.Errorf("%d clients tracked after pruning, want 1", n)
	}
}

func TestLogEvery(t *testing.T) {
	l := LogEvery{Every: time.Minute}
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	if !l.Due("a", now) || l.Due("a", now.Add(59*time.Second)) || !l.Due("b", now) || !l.Due("a", now.Add(time.Minute)) {
		t.Error("want the first event of a source logged, then none for a minute")
	}
}

func TestSource(t *testing.T) {
	proxies := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	for _, c := range []struct {
		remote, xff string
		trusted     []netip.Prefix
		want        string
	}{
		{"192.0.2.7:5000", "", nil, "192.0.2.7"},
		{"192.0.2.7:5000", "203.0.113.9", nil, "192.0.2.7"},                    // not from a proxy: header ignored
		{"10.1.2.3:5000", "203.0.113.9", proxies, "203.0.113.9"},               // the proxy's client
		{"10.1.2.3:5000", "198.51.100.1, 203.0.113.9", proxies, "203.0.113.9"}, // nearest untrusted hop, not the client's claim
		{"10.1.2.3:5000", "203.0.113.9, 10.4.4.4", proxies, "203.0.113.9"},
		{"10.1.2.3:5000", "junk", proxies, "10.1.2.3"},
		{"[2001:db8:1:2:3:4:5:6]:443", "", nil, "2001:db8:1:2::/64"},
		{"[::ffff:192.0.2.7]:443", "", nil, "192.0.2.7"},
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = c.remote
		if c.xff != "" {
			r.Header.Set("X-Forwarded-For", c.xff)
		}
		if got := Source(r, c.trusted); got != c.want {
			t.Errorf("Source(%s, XFF %q) = %s, want %s", c.remote, c.xff, got, c.want)
		}
	}
}

// A client that never stops asking still gets each token as it refills:
// refusals take nothing and push nothing back.
func TestFloodStillRefills(t *testing.T) {
	p := New(0.2, 5) // the operators' sign-in limit
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	passed := 0
	for range 20_000 { // one a millisecond for 20 s
		if ok, _ := p.Allow("guesser", now); ok {
			passed++
		}
		now = now.Add(time.Millisecond)
	}
	if passed != 5+3 { // the burst, then one at 5, 10 and 15 s
		t.Errorf("%d passed in 20 s, want 8", passed)
	}
}
