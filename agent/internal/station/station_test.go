package station

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/headway-transit/headway/agent/internal/signcache"
	"github.com/headway-transit/headway/internal/wire"
)

var t0 = time.Date(2026, 11, 27, 7, 0, 0, 0, time.UTC)

// testClock is the injected clock: the hub's times and the sign's minutes
// are decided by it, not by when the test happens to run.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

func testLogger(tb testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(tb.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}))
}

func testConfig(tb testing.TB, hubs []string) Config {
	cfg := DefaultConfig()
	cfg.Display = "sign-test"
	cfg.Stops = []string{"CEN", "HBR"}
	cfg.Hub = hubs
	cfg.Cache = filepath.Join(tb.TempDir(), "run", "sign.db")
	cfg.Listen = "127.0.0.1:0"
	return cfg
}

// deadURL is a ws URL on a loopback port that refuses connections.
func deadURL(tb testing.TB) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return "ws://" + addr + "/ws"
}

func mustJSON(tb testing.TB, v any) []byte {
	tb.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func board(stop, trip string, sched time.Time, pred *time.Time) wire.Board {
	src := wire.SourceSchedule
	if pred != nil {
		src = wire.SourceRealtime
	}
	return wire.Board{
		Type: wire.TypeBoard, Stop: stop, StopName: "Central Station", GeneratedAt: t0,
		Arrivals: []wire.Arrival{{
			Trip: trip, Route: "r12", RouteShortName: "12", Headsign: "Harbour", Vehicle: "bus-17",
			StopSequence: 7, Scheduled: sched, Predicted: pred, Source: src,
		}},
	}
}

func ptr(t time.Time) *time.Time { return &t }

// fakeHub is a hub's WebSocket endpoint: it checks the subscribe, sends
// the initial messages, then whatever the test pushes.
type fakeHub struct {
	tb         testing.TB
	srv        *httptest.Server
	mu         sync.Mutex
	initial    [][]byte // what a hub sends on subscribe: its current boards
	subs       chan wire.Subscribe
	heartbeats chan wire.Heartbeat
	push       chan []byte
	kick       chan struct{}
	quit       chan struct{}
	wg         sync.WaitGroup
}

func newFakeHub(tb testing.TB, initial ...[]byte) *fakeHub {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	return newFakeHubOn(tb, ln, initial...)
}

// newFakeHubOn serves on ln: a hub restarted on the same address.
func newFakeHubOn(tb testing.TB, ln net.Listener, initial ...[]byte) *fakeHub {
	h := &fakeHub{
		tb:         tb,
		initial:    initial,
		subs:       make(chan wire.Subscribe, 10),
		heartbeats: make(chan wire.Heartbeat, 100),
		push:       make(chan []byte),
		kick:       make(chan struct{}),
		quit:       make(chan struct{}),
	}
	h.srv = httptest.NewUnstartedServer(http.HandlerFunc(h.serve))
	h.srv.Listener.Close()
	h.srv.Listener = ln
	h.srv.Start()
	tb.Cleanup(func() {
		close(h.quit)
		h.srv.Close()
		h.wg.Wait()
	})
	return h
}

func (h *fakeHub) setInitial(msgs ...[]byte) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.initial = msgs
}

func (h *fakeHub) URL() string { return "ws" + strings.TrimPrefix(h.srv.URL, "http") + "/ws" }

func (h *fakeHub) serve(w http.ResponseWriter, r *http.Request) {
	h.wg.Add(1)
	defer h.wg.Done()
	up := websocket.Upgrader{}
	conn, err := up.Upgrade(w, r, nil)
	if err != nil {
		h.tb.Errorf("hub: upgrade: %v", err)
		return
	}
	defer conn.Close()
	_, msg, err := conn.ReadMessage()
	if err != nil {
		h.tb.Errorf("hub: read subscribe: %v", err)
		return
	}
	sub, err := wire.DecodeSubscribe(msg)
	if err != nil {
		h.tb.Errorf("hub: first message is not a valid subscribe: %v: %s", err, msg)
		return
	}
	h.subs <- sub
	h.mu.Lock()
	initial := h.initial
	h.mu.Unlock()
	for _, m := range initial {
		if err := conn.WriteMessage(websocket.TextMessage, m); err != nil {
			return
		}
	}
	readDone := make(chan struct{})
	go func() {
		defer close(readDone)
		for {
			_, msg, err := conn.ReadMessage()
			if err != nil {
				return
			}
			hb, err := wire.DecodeHeartbeat(msg)
			if err != nil {
				h.tb.Errorf("hub: message after subscribe is not a valid heartbeat: %v: %s", err, msg)
				continue
			}
			select {
			case h.heartbeats <- hb:
			default:
			}
		}
	}()
	for {
		select {
		case m := <-h.push:
			if err := conn.WriteMessage(websocket.TextMessage, m); err != nil {
				return
			}
		case <-h.kick:
			conn.WriteMessage(websocket.TextMessage, mustJSON(h.tb, wire.Error{Type: wire.TypeError, Code: "shutting_down", Message: "bye"}))
			conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseGoingAway, ""), time.Now().Add(time.Second))
			return
		case <-readDone:
			return
		case <-h.quit:
			return
		}
	}
}

func recv[T any](tb testing.TB, ch <-chan T, what string) T {
	tb.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(10 * time.Second):
		tb.Fatalf("timed out waiting for %s", what)
		panic("unreachable")
	}
}

// startStation runs st until the test ends and returns its base URL.
func startStation(tb testing.TB, st *Station) (base string, stop func()) {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- st.Run(ctx) }()
	select {
	case <-st.Ready():
	case err := <-errc:
		cancel()
		tb.Fatalf("Run: %v", err)
	case <-time.After(10 * time.Second):
		cancel()
		tb.Fatal("station not ready")
	}
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-errc:
				if err != nil {
					tb.Errorf("Run: %v", err)
				}
			case <-time.After(10 * time.Second):
				tb.Error("Run did not return after cancel")
			}
		})
	}
	tb.Cleanup(stop)
	return "http://" + st.Addr().String(), stop
}

func getView(tb testing.TB, base string) View {
	tb.Helper()
	resp, err := http.Get(base + "/board.json")
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		tb.Fatalf("/board.json: %s", resp.Status)
	}
	var v View
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
		tb.Fatal(err)
	}
	return v
}

func getBody(tb testing.TB, url string) (string, *http.Response) {
	tb.Helper()
	resp, err := http.Get(url)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatal(err)
	}
	return string(b), resp
}

func eventually(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func trips(sv StopView) []string {
	var out []string
	for _, a := range sv.Arrivals {
		out = append(out, a.Trip)
	}
	return out
}

func TestStationEndToEnd(t *testing.T) {
	clock := &testClock{t: t0}
	hub := newFakeHub(t,
		mustJSON(t, board("CEN", "t1", t0.Add(5*time.Minute), ptr(t0.Add(5*time.Minute+30*time.Second)))),
		mustJSON(t, board("XXX", "not-mine", t0.Add(time.Minute), nil)),
		[]byte(`{"type":"board","stop":"CEN"}`), // invalid: ignored, connection kept
		mustJSON(t, wire.Timetable{
			Type: wire.TypeTimetable, Stop: "HBR", From: t0.Add(-time.Hour), Until: t0.Add(23 * time.Hour),
			Departures: []wire.Departure{
				{Trip: "past", Route: "r3", RouteShortName: "3", Headsign: "Old Town", Scheduled: t0.Add(-5 * time.Minute)},
				{Trip: "soon", Route: "r3", RouteShortName: "3", Headsign: "Old Town", Scheduled: t0.Add(10 * time.Minute)},
				{Trip: "later", Route: "r3", RouteShortName: "3", Headsign: "Old Town", Scheduled: t0.Add(2 * time.Hour)},
			},
		}),
	)
	// The first hub is down: the station must fail over to the second.
	cfg := testConfig(t, []string{deadURL(t), hub.URL()})
	st, err := New(cfg, Options{Logger: testLogger(t), Now: clock.Now, Version: "test-1"})
	if err != nil {
		t.Fatal(err)
	}
	st.heartbeatEvery = 50 * time.Millisecond
	base, stop := startStation(t, st)

	sub := recv(t, hub.subs, "subscribe")
	if sub.Display != "sign-test" || strings.Join(sub.Stops, ",") != "CEN,HBR" {
		t.Errorf("subscribe = %+v", sub)
	}
	hb := recv(t, hub.heartbeats, "heartbeat")
	if hb.Display != "sign-test" || hb.Version != "test-1" {
		t.Errorf("heartbeat = %+v", hb)
	}

	var v View
	eventually(t, "board and timetable on /board.json", func() bool {
		v = getView(t, base)
		return len(v.Stops) == 2 && len(v.Stops[0].Arrivals) > 0 && len(v.Stops[1].Arrivals) > 0
	})
	if !v.Online || v.Stale || v.Display != "sign-test" || v.LastUpdate == nil || !v.LastUpdate.Equal(t0) {
		t.Errorf("view = online %v stale %v display %q last %v", v.Online, v.Stale, v.Display, v.LastUpdate)
	}
	cen := v.Stops[0]
	if cen.Stop != "CEN" || cen.StopName != "Central Station" || len(cen.Arrivals) != 1 {
		t.Fatalf("CEN = %+v", cen)
	}
	if a := cen.Arrivals[0]; a.Trip != "t1" || a.Minutes != 5 || a.Source != wire.SourceRealtime || a.RouteShortName != "12" {
		t.Errorf("CEN arrival = %+v, want t1 in 5 min, realtime", a)
	}
	hbr := v.Stops[1]
	if got := trips(hbr); strings.Join(got, ",") != "soon" {
		t.Errorf("HBR timetable fallback trips = %v, want [soon]", got)
	} else if a := hbr.Arrivals[0]; a.Minutes != 10 || a.Source != wire.SourceSchedule {
		t.Errorf("HBR arrival = %+v, want 10 min from the schedule", a)
	}

	// A new board reaches an open /events stream.
	resp, err := http.Get(base + "/events")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Errorf("/events Content-Type = %q", ct)
	}
	events := sseViews(t, resp.Body)
	if first := recv(t, events, "first event"); strings.Join(trips(first.Stops[0]), ",") != "t1" {
		t.Errorf("first event CEN trips = %v", trips(first.Stops[0]))
	}
	board2 := mustJSON(t, board("CEN", "t2", t0.Add(2*time.Minute), ptr(t0.Add(2*time.Minute))))
	hub.setInitial(board2)
	hub.push <- board2
	for {
		ev := recv(t, events, "event with the second board")
		if got := trips(ev.Stops[0]); len(got) == 1 && got[0] == "t2" {
			if ev.Stops[0].Arrivals[0].Minutes != 2 {
				t.Errorf("t2 minutes = %d, want 2", ev.Stops[0].Arrivals[0].Minutes)
			}
			break
		}
	}

	body, r := getBody(t, base+"/healthz")
	if r.StatusCode != http.StatusOK || !strings.Contains(body, `"status":"ok"`) || !strings.Contains(body, `"online":true`) {
		t.Errorf("/healthz = %s %s", r.Status, body)
	}
	body, r = getBody(t, base+"/")
	if r.StatusCode != http.StatusOK || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/html") || !strings.Contains(body, "/board.json") {
		t.Errorf("/ = %s %q", r.Status, r.Header.Get("Content-Type"))
	}
	body, _ = getBody(t, base+"/metrics")
	for _, want := range []string{
		"headway_station_connected 1",
		"headway_station_boards_received_total 2",
		"headway_station_cache_write_errors_total 0",
		"headway_station_cache_age_seconds 0",
		"headway_station_reconnects_total 1", // the dead hub, then this one
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}

	// The hub says goodbye: the station reconnects and subscribes again.
	hub.kick <- struct{}{}
	recv(t, hub.subs, "subscribe after the hub dropped the connection")
	eventually(t, "the board re-sent on subscribe", func() bool {
		body, _ := getBody(t, base+"/metrics")
		return strings.Contains(body, "headway_station_boards_received_total 3")
	})

	stop()
	resp.Body.Close()

	c, err := signcache.Open(cfg.Cache, nil)
	if err != nil {
		t.Fatal(err)
	}
	boards, err := c.Boards()
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := boards["XXX"]; ok || len(boards) != 1 || boards["CEN"].Board.Arrivals[0].Trip != "t2" {
		t.Errorf("cached boards = %+v, want CEN with t2 only", boards)
	}
	tts, _ := c.Timetables()
	if _, ok := tts["HBR"]; !ok {
		t.Errorf("cached timetables = %v, want HBR", tts)
	}
	c.Close()

	// Restart on the same cache with no hub reachable: the cached board is
	// served at once, before any connection.
	clock.Set(t0.Add(time.Minute))
	cfg2 := cfg
	cfg2.Hub = []string{deadURL(t)}
	st2, err := New(cfg2, Options{Logger: testLogger(t), Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	base2, _ := startStation(t, st2)
	v = getView(t, base2)
	if v.Online || v.Stale {
		t.Errorf("restarted: online %v stale %v, want offline and fresh", v.Online, v.Stale)
	}
	if got := trips(v.Stops[0]); len(got) != 1 || got[0] != "t2" || v.Stops[0].Arrivals[0].Minutes != 1 {
		t.Errorf("restarted CEN = %+v, want t2 in 1 min", v.Stops[0])
	}
	if got := trips(v.Stops[1]); strings.Join(got, ",") != "soon" {
		t.Errorf("restarted HBR = %v, want [soon]", got)
	}

	// Time passes with no hub: stale, and with stale data an arrival
	// leaves the sign at its time (fresh data would keep it a minute).
	clock.Set(t0.Add(2 * time.Minute))
	v = getView(t, base2)
	if !v.Stale || v.Mode != ModeStale || len(v.Stops[0].Arrivals) != 1 || v.Stops[0].Arrivals[0].Minutes != 0 || !v.Stops[0].Arrivals[0].Stale {
		t.Errorf("at +2m: mode %s CEN %+v, want stale, t2 Due and flagged", v.Mode, v.Stops[0].Arrivals)
	}
	clock.Set(t0.Add(2*time.Minute + time.Second))
	if v = getView(t, base2); len(v.Stops[0].Arrivals) != 0 || v.Stops[0].Note != NoteNoData {
		t.Errorf("at +2m1s: CEN %+v, want empty and no information (no timetable for CEN)", v.Stops[0])
	}
	body, _ = getBody(t, base2+"/healthz")
	if !strings.Contains(body, `"online":false`) || !strings.Contains(body, `"stale":true`) {
		t.Errorf("/healthz offline = %s", body)
	}
}

// sseViews decodes the "board" events of an SSE stream.
func sseViews(tb testing.TB, r io.Reader) <-chan View {
	ch := make(chan View, 100)
	go func() {
		defer close(ch)
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 0, 64<<10), 4<<20)
		var event, data string
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if event == "board" {
					var v View
					if err := json.Unmarshal([]byte(data), &v); err != nil {
						tb.Errorf("bad event data %q: %v", data, err)
						return
					}
					ch <- v
				}
				event, data = "", ""
			case strings.HasPrefix(line, "event: "):
				event = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: "):
				data += strings.TrimPrefix(line, "data: ")
			}
		}
	}()
	return ch
}

func TestRunFailsOnBusyListen(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	cfg := testConfig(t, []string{deadURL(t)})
	cfg.Listen = ln.Addr().String()
	st, err := New(cfg, Options{Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	err = st.Run(context.Background())
	if err == nil || !strings.Contains(err.Error(), "listen") {
		t.Errorf("Run on a busy port: %v, want an error telling to set listen", err)
	}
	if st.Addr() != nil {
		t.Errorf("Addr = %v after a failed Run", st.Addr())
	}
}

func TestBackoff(t *testing.T) {
	for attempt := range 40 {
		for _, r := range []float64{0, 0.5, 0.999999} {
			d := backoff(attempt, func() float64 { return r })
			if d < backoffMin/2 || d > backoffMax {
				t.Errorf("backoff(%d, %v) = %v, outside [%v, %v]", attempt, r, d, backoffMin/2, backoffMax)
			}
		}
	}
	if d := backoff(0, func() float64 { return 0.999999 }); d > backoffMin {
		t.Errorf("first backoff = %v, want at most %v", d, backoffMin)
	}
	if d := backoff(100, func() float64 { return 0 }); d != backoffMax/2 {
		t.Errorf("late backoff = %v, want %v", d, backoffMax/2)
	}
}

// TestNextHub: a sign stays with a hub that worked after it drops the
// connection, and moves on from one that failed or went silent.
func TestNextHub(t *testing.T) {
	silent := fmt.Errorf("read from ws://a/ws: %w", os.ErrDeadlineExceeded)
	reset := errors.New("read from ws://a/ws: connection reset by peer")
	for _, c := range []struct {
		name   string
		useful bool
		err    error
		want   int
	}{
		{"worked, then dropped", true, reset, 1},
		{"worked, then silent", true, silent, 2},
		{"failed", false, reset, 2},
		{"failed silent", false, silent, 2},
	} {
		if got := nextHub(1, 3, c.useful, c.err); got != c.want {
			t.Errorf("%s: next hub %d, want %d", c.name, got, c.want)
		}
	}
	if got := nextHub(2, 3, false, nil); got != 0 {
		t.Errorf("after the last hub: %d, want 0", got)
	}
}
