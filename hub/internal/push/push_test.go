package push_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/headway-transit/headway/hub/internal/push"
	"github.com/headway-transit/headway/internal/wire"
)

type source struct {
	mu     sync.Mutex
	boards map[string][]byte
}

func (s *source) KnownStop(stop string) bool { return stop != "nope" }
func (s *source) Board(stop string) []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	if b, ok := s.boards[stop]; ok {
		return b
	}
	b, _ := json.Marshal(wire.Board{Type: wire.TypeBoard, Stop: stop, GeneratedAt: time.Now().UTC(), Arrivals: []wire.Arrival{}})
	return b
}
func (s *source) Timetable(stop string) []byte {
	now := time.Now().UTC()
	b, _ := json.Marshal(wire.Timetable{Type: wire.TypeTimetable, Stop: stop, From: now, Until: now.Add(25 * time.Hour), Departures: []wire.Departure{}})
	return b
}

func start(t *testing.T, opts push.Options) (*push.Server, string) {
	t.Helper()
	if opts.Source == nil {
		opts.Source = &source{}
	}
	s := push.New(opts)
	ts := httptest.NewServer(s)
	t.Cleanup(func() {
		s.Close()
		ts.Close()
	})
	return s, "ws" + strings.TrimPrefix(ts.URL, "http")
}

func dial(t *testing.T, url string, hdr http.Header) *websocket.Conn {
	t.Helper()
	c, _, err := websocket.DefaultDialer.Dial(url, hdr)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func read(t *testing.T, c *websocket.Conn) (string, []byte) {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, msg, err := c.ReadMessage()
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	typ, err := wire.MessageType(msg)
	if err != nil {
		t.Fatalf("bad message from hub: %v", err)
	}
	return typ, msg
}

func subscribe(t *testing.T, c *websocket.Conn, display string, stops ...string) {
	t.Helper()
	if err := c.WriteJSON(wire.Subscribe{Type: wire.TypeSubscribe, Display: display, Stops: stops}); err != nil {
		t.Fatal(err)
	}
}

func TestSubscribeBoardsAndHeartbeat(t *testing.T) {
	s, url := start(t, push.Options{})
	c := dial(t, url, nil)
	subscribe(t, c, "sign-1", "A", "B")
	seen := map[string]int{}
	for i := 0; i < 4; i++ {
		typ, msg := read(t, c)
		seen[typ]++
		if typ == wire.TypeTimetable {
			if _, err := wire.DecodeTimetable(msg); err != nil {
				t.Fatal(err)
			}
		}
	}
	if seen[wire.TypeBoard] != 2 || seen[wire.TypeTimetable] != 2 {
		t.Fatalf("on subscribe got %v, want 2 boards and 2 timetables", seen)
	}
	b, _ := json.Marshal(wire.Board{Type: wire.TypeBoard, Stop: "B", StopName: "changed", GeneratedAt: time.Now().UTC(), Arrivals: []wire.Arrival{}})
	s.Publish("B", b)
	s.Publish("C", b) // not subscribed: must not arrive
	if _, msg := read(t, c); !strings.Contains(string(msg), "changed") {
		t.Fatalf("got %s, want the changed board", msg)
	}
	if err := c.WriteJSON(wire.Heartbeat{Type: wire.TypeHeartbeat, Display: "sign-1", CacheAgeS: 12, Version: "v9"}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		ds := s.Displays()
		if len(ds) == 1 && ds[0].Version == "v9" && ds[0].CacheAgeS == 12 && ds[0].Connected {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("displays %+v", ds)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestHostileClients(t *testing.T) {
	tests := []struct {
		name     string
		send     func(*websocket.Conn) error
		wantCode string
	}{
		{"junk", func(c *websocket.Conn) error { return c.WriteMessage(websocket.TextMessage, []byte("\x00\xffjunk")) }, wire.CodeBadMessage},
		{"binary", func(c *websocket.Conn) error {
			return c.WriteMessage(websocket.BinaryMessage, []byte(`{"type":"subscribe"}`))
		}, wire.CodeBadMessage},
		{"unknown type", func(c *websocket.Conn) error {
			return c.WriteMessage(websocket.TextMessage, []byte(`{"type":"reboot"}`))
		}, wire.CodeBadMessage},
		{"oversized", func(c *websocket.Conn) error {
			return c.WriteMessage(websocket.TextMessage, []byte(`{"type":"subscribe","display":"`+strings.Repeat("x", 3*wire.MaxPayload)+`"}`))
		}, wire.CodeTooLarge},
		{"over the limit", func(c *websocket.Conn) error {
			return c.WriteMessage(websocket.TextMessage, []byte(`{"type":"subscribe","display":"`+strings.Repeat("x", wire.MaxPayload)+`"}`))
		}, wire.CodeTooLarge},
		{"thousands of stops", func(c *websocket.Conn) error {
			stops := make([]string, 5000)
			for i := range stops {
				stops[i] = "s"
			}
			return c.WriteJSON(wire.Subscribe{Type: wire.TypeSubscribe, Display: "d", Stops: stops})
		}, wire.CodeTooManyStop},
		{"unknown stop", func(c *websocket.Conn) error {
			return c.WriteJSON(wire.Subscribe{Type: wire.TypeSubscribe, Display: "d", Stops: []string{"nope"}})
		}, wire.CodeUnknownStop},
	}
	_, url := start(t, push.Options{})
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := dial(t, url, nil)
			if err := tc.send(c); err != nil {
				if tc.wantCode == wire.CodeTooLarge {
					return // the hub stopped reading and reset the connection mid-write
				}
				t.Fatal(err)
			}
			if tc.wantCode == wire.CodeTooLarge {
				// Up to twice the limit the hub answers with a too_large
				// error; beyond, gorilla closes with 1009 by itself.
				_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
				_, msg, err := c.ReadMessage()
				if !websocket.IsCloseError(err, websocket.CloseMessageTooBig) && !strings.Contains(string(msg), wire.CodeTooLarge) {
					t.Fatalf("oversized: got %s, %v", msg, err)
				}
				return
			}
			typ, msg := read(t, c)
			if typ != wire.TypeError {
				t.Fatalf("got %s, want an error message", msg)
			}
			e, err := wire.DecodeError(msg)
			if err != nil || e.Code != tc.wantCode {
				t.Fatalf("error %+v (%v), want code %s", e, err, tc.wantCode)
			}
			_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
			if _, _, err := c.ReadMessage(); !websocket.IsCloseError(err, websocket.ClosePolicyViolation, websocket.CloseUnsupportedData, websocket.CloseMessageTooBig) {
				t.Fatalf("want a close frame, got %v", err)
			}
		})
	}
	// After all that, a good client is served.
	c := dial(t, url, nil)
	subscribe(t, c, "sign-ok", "A")
	if typ, _ := read(t, c); typ != wire.TypeBoard {
		t.Fatalf("good client got %s", typ)
	}
}

// slowAndFast opens two signs on stop A: "slow", which never reads, and
// "fast", which has read what a subscribe sends; big is a board large
// enough to fill the slow one's socket buffers in a few writes.
func slowAndFast(t *testing.T, url string) (fast *websocket.Conn, big []byte) {
	t.Helper()
	slow := dial(t, url, nil)
	subscribe(t, slow, "slow", "A")
	fast = dial(t, url, nil)
	subscribe(t, fast, "fast", "A")
	read(t, fast)
	read(t, fast)
	big, _ = json.Marshal(wire.Board{Type: wire.TypeBoard, Stop: "A", StopName: strings.Repeat("x", 256<<10), GeneratedAt: time.Now().UTC(), Arrivals: []wire.Arrival{}})
	return fast, big
}

func TestSlowClientDropped(t *testing.T) {
	s, url := start(t, push.Options{WriteTimeout: 300 * time.Millisecond})
	// Large boards fill the slow client's socket buffers until a write to
	// it times out; the fast one keeps reading the latest board.
	fast, big := slowAndFast(t, url)
	stop := make(chan struct{})
	go func() {
		for {
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
				s.Publish("A", big)
			}
		}
	}()
	defer close(stop)
	deadline := time.Now().Add(30 * time.Second)
	for {
		_ = fast.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, _, err := fast.ReadMessage(); err != nil {
			t.Fatalf("fast client cut off: %v", err)
		}
		gone := false
		for _, d := range s.Displays() {
			if d.ID == "slow" && !d.Connected {
				gone = true
			}
		}
		if gone {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("slow client never dropped: %+v", s.Displays())
		}
	}
}

func TestSubscribeBurstIsNotSlow(t *testing.T) {
	// A sign subscribing to the most stops it may gets a board and a large
	// timetable for each at once: that burst must not count as slowness.
	src := &source{boards: map[string][]byte{}}
	_, url := start(t, push.Options{Source: &bigTimetables{src}})
	c := dial(t, url, nil)
	stops := make([]string, wire.MaxStopsPerSubscribe)
	for i := range stops {
		stops[i] = fmt.Sprintf("s%d", i)
	}
	subscribe(t, c, "busy", stops...)
	got := map[string]int{}
	for i := 0; i < 2*len(stops); i++ {
		typ, _ := read(t, c)
		got[typ]++
	}
	if got[wire.TypeBoard] != len(stops) || got[wire.TypeTimetable] != len(stops) {
		t.Fatalf("got %v, want %d boards and %d timetables", got, len(stops), len(stops))
	}
}

// bigTimetables serves 200 kB timetables, a busy stop's day.
type bigTimetables struct{ *source }

func (b *bigTimetables) Timetable(stop string) []byte {
	now := time.Now().UTC()
	deps := make([]wire.Departure, 1500)
	for i := range deps {
		deps[i] = wire.Departure{Trip: fmt.Sprintf("trip-%d", i), Route: "R", RouteShortName: "1", Headsign: "Somewhere far away", Scheduled: now.Add(time.Duration(i) * time.Minute)}
	}
	b2, _ := json.Marshal(wire.Timetable{Type: wire.TypeTimetable, Stop: stop, From: now, Until: now.Add(25 * time.Hour), Departures: deps})
	return b2
}

func TestHeartbeatNeedsSubscribe(t *testing.T) {
	s, url := start(t, push.Options{})
	c := dial(t, url, nil)
	if err := c.WriteJSON(wire.Heartbeat{Type: wire.TypeHeartbeat, Display: "ghost", CacheAgeS: 1}); err != nil {
		t.Fatal(err)
	}
	if typ, _ := read(t, c); typ != wire.TypeError {
		t.Fatalf("got %s, want an error", typ)
	}
	if ds := s.Displays(); len(ds) != 0 {
		t.Errorf("a heartbeat without subscribe registered %+v", ds)
	}
}

func TestOriginCheck(t *testing.T) {
	_, url := start(t, push.Options{AllowedOrigins: []string{"https://signs.example.org"}})
	for _, tc := range []struct {
		origin string
		ok     bool
	}{
		{"", true},
		{"https://signs.example.org", true},
		{"https://evil.example.com", false},
	} {
		hdr := http.Header{}
		if tc.origin != "" {
			hdr.Set("Origin", tc.origin)
		}
		c, resp, err := websocket.DefaultDialer.Dial(url, hdr)
		if (err == nil) != tc.ok {
			t.Errorf("origin %q: err %v, want ok=%v", tc.origin, err, tc.ok)
		}
		if c != nil {
			c.Close()
		}
		if !tc.ok && (resp == nil || resp.StatusCode != http.StatusForbidden) {
			t.Errorf("origin %q: want 403, got %v", tc.origin, resp)
		}
	}
}
