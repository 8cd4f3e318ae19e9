package avlfeed

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/headway-transit/headway/internal/wire"
)

// sink collects what a source hands to the engine.
type sink struct {
	mu   sync.Mutex
	got  []wire.Position
	full bool // refuse everything, as a full queue does
}

func (s *sink) enqueue(topic string, b []byte) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.full {
		return false
	}
	p, err := wire.DecodePosition(b)
	if err != nil {
		panic(fmt.Sprintf("the source sent a position the contract refuses: %v", err))
	}
	if want := (wire.Topics{}).Position(p.Vehicle); topic != want {
		panic(fmt.Sprintf("topic %s, want %s", topic, want))
	}
	s.got = append(s.got, p)
	return true
}

func (s *sink) take() []wire.Position {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.got
	s.got = nil
	return g
}

// feedServer serves whatever body holds, with an ETag per body, and counts
// the requests and the conditional ones it answered 304.
type feedServer struct {
	*httptest.Server
	mu          sync.Mutex
	body        []byte
	contentType string
	requests    atomic.Int32
	notModified atomic.Int32
	lastHeader  http.Header
}

func newFeedServer(t *testing.T) *feedServer {
	fs := &feedServer{contentType: "application/x-protobuf"}
	fs.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fs.requests.Add(1)
		fs.mu.Lock()
		body, ct := fs.body, fs.contentType
		fs.lastHeader = r.Header.Clone()
		fs.mu.Unlock()
		etag := fmt.Sprintf(`"%x"`, sha256.Sum256(body))
		if r.Header.Get("If-None-Match") == etag {
			fs.notModified.Add(1)
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("ETag", etag)
		w.Header().Set("Content-Type", ct)
		w.Write(body)
	}))
	t.Cleanup(fs.Close)
	return fs
}

func (fs *feedServer) serve(b []byte) {
	fs.mu.Lock()
	fs.body = b
	fs.mu.Unlock()
}

func testConfig(url string) Config {
	return Config{Name: "agency", URL: url, Every: time.Second, Timeout: 2 * time.Second,
		Prefix: "ag-", MaxAge: 5 * time.Minute, MaxBytes: 1 << 20,
		Headers: map[string]string{"X-Api-Key": "secret"}}
}

func newSource(t *testing.T, cfg Config, sk *sink, now *time.Time) *Source {
	t.Helper()
	s, err := New(Options{Feed: cfg, Enqueue: sk.enqueue, Now: func() time.Time { return *now }})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestPollOrdersAndDedupes(t *testing.T) {
	fs := newFeedServer(t)
	now := time.Unix(1_800_000_000, 0)
	sk := &sink{}
	src := newSource(t, testConfig(fs.URL+"/vp.pb?key=secret"), sk, &now)
	ts := uint64(now.Unix())

	// Vehicle 2 listed twice, newer first: both taken, in time order.
	fs.serve(feedBytes(t, ts,
		vehicleEntity{id: "1", trip: "t1", lat: 44.40, lon: 8.90, ts: ts - 10},
		vehicleEntity{id: "2", lat: 44.41, lon: 8.91, ts: ts - 5},
		vehicleEntity{id: "2", lat: 44.42, lon: 8.92, ts: ts - 20},
	))
	if err := src.Poll(context.Background()); err != nil {
		t.Fatal(err)
	}
	got := sk.take()
	if len(got) != 3 {
		t.Fatalf("%d positions, want 3", len(got))
	}
	if got[0].Vehicle != "ag-2" || got[1].Vehicle != "ag-1" || got[2].Vehicle != "ag-2" {
		t.Fatalf("not in time order, or the prefix missing: %v %v %v", got[0].Vehicle, got[1].Vehicle, got[2].Vehicle)
	}
	if got[1].Trip != "t1" || got[1].Mode != 2 || got[2].Seq != got[0].Seq+1 {
		t.Errorf("trip %q mode %d; vehicle 2's seqs %d then %d, want consecutive", got[1].Trip, got[1].Mode, got[0].Seq, got[2].Seq)
	}
	if h := fs.lastHeader; h.Get("X-Api-Key") != "secret" || !strings.Contains(h.Get("Accept"), "protobuf") {
		t.Errorf("request headers %v", h)
	}

	// The same document: the server says 304 and nothing is handed on.
	if err := src.Poll(context.Background()); err != nil {
		t.Fatal(err)
	}
	if fs.notModified.Load() != 1 || len(sk.take()) != 0 {
		t.Fatalf("304s %d", fs.notModified.Load())
	}

	// A new document: vehicle 1 repeats its position, vehicle 2 went back
	// in time (a producer restart), vehicle 3 is new, vehicle 4 is stale
	// and vehicle 5 an hour in the future.
	now = now.Add(30 * time.Second)
	fs.serve(feedBytes(t, ts+30,
		vehicleEntity{id: "1", trip: "t1", lat: 44.40, lon: 8.90, ts: ts - 10},
		vehicleEntity{id: "2", lat: 44.41, lon: 8.91, ts: ts - 30},
		vehicleEntity{id: "3", lat: 44.43, lon: 8.93, ts: ts + 25},
		vehicleEntity{id: "4", lat: 44.43, lon: 8.93, ts: ts - 3600},
		vehicleEntity{id: "5", lat: 44.43, lon: 8.93, ts: ts + 3600},
		vehicleEntity{id: "bad/id", lat: 44.43, lon: 8.93, ts: ts},
	))
	if err := src.Poll(context.Background()); err != nil {
		t.Fatal(err)
	}
	got = sk.take()
	if len(got) != 1 || got[0].Vehicle != "ag-3" {
		t.Fatalf("handed on %+v, want vehicle 3's fix alone", got)
	}
	h := src.Health()
	want := map[string]uint64{Accepted: 4, Repeat: 1, Backwards: 1, Stale: 1, Future: 1, BadID: 1}
	for k, v := range want {
		if h.Positions[k] != v {
			t.Errorf("positions[%s] = %d, want %d (all: %v)", k, h.Positions[k], v, h.Positions)
		}
	}
	if !h.OK || h.Vehicles != 6 || h.Source != fs.URL+"/vp.pb" || !h.FeedTime.Equal(time.Unix(int64(ts+30), 0)) {
		t.Errorf("health %+v (the source must not show the query, which may hold a key)", h)
	}
}

// A hub restarted numbers a vehicle's fixes above what it gave before, so
// the engine never takes the new ones for an outbox reset or duplicates.
func TestSeqsRiseAcrossRestarts(t *testing.T) {
	fs := newFeedServer(t)
	now := time.Unix(1_800_000_000, 0)
	var last uint64
	for run := 0; run < 3; run++ {
		sk := &sink{}
		src := newSource(t, testConfig(fs.URL), sk, &now)
		for i := 0; i < 5; i++ {
			now = now.Add(time.Second)
			// Fixes one millisecond apart are the worst case.
			fs.serve(feedBytes(t, uint64(now.Unix()), vehicleEntity{id: "1", lat: 44.4, lon: 8.9, ts: uint64(now.Unix())}))
			if err := src.Poll(context.Background()); err != nil {
				t.Fatal(err)
			}
			for _, p := range sk.take() {
				if p.Seq <= last {
					t.Fatalf("run %d: seq %d after %d", run, p.Seq, last)
				}
				if last != 0 && i > 0 && p.Seq != last+1 {
					t.Fatalf("run %d: seq %d after %d, want consecutive", run, p.Seq, last)
				}
				last = p.Seq
			}
		}
	}
}

// A fix the engine's full queue refused is taken on the next poll.
func TestQueueFullRetakes(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "vp.pb")
	now := time.Unix(1_800_000_000, 0)
	ts := uint64(now.Unix())
	if err := os.WriteFile(file, feedBytes(t, ts, vehicleEntity{id: "1", lat: 44.4, lon: 8.9, ts: ts}), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := testConfig("")
	cfg.URL, cfg.File = "", file
	sk := &sink{full: true}
	src := newSource(t, cfg, sk, &now)
	if err := src.Poll(context.Background()); err != nil {
		t.Fatal(err)
	}
	if src.Health().Positions[Dropped] != 1 {
		t.Fatalf("positions %v", src.Health().Positions)
	}
	// The file has not changed; the feed's vehicle is still there on the
	// next document, and taken then.
	sk.full = false
	now = now.Add(time.Second)
	if err := os.WriteFile(file, feedBytes(t, ts+1, vehicleEntity{id: "1", lat: 44.4, lon: 8.9, ts: ts}), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := src.Poll(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := sk.take(); len(got) != 1 {
		t.Fatalf("after the queue emptied: %d positions, want the refused fix", len(got))
	}
}

// In a partitioned cluster a hub takes only the vehicles it tracks.
func TestOwns(t *testing.T) {
	fs := newFeedServer(t)
	now := time.Unix(1_800_000_000, 0)
	ts := uint64(now.Unix())
	sk := &sink{}
	mine := map[string]bool{"ag-1": true}
	src, err := New(Options{Feed: testConfig(fs.URL), Enqueue: sk.enqueue, Now: func() time.Time { return now },
		Owns: func(v string) bool { return mine[v] }})
	if err != nil {
		t.Fatal(err)
	}
	fs.serve(feedBytes(t, ts, vehicleEntity{id: "1", lat: 44.4, lon: 8.9, ts: ts}, vehicleEntity{id: "2", lat: 44.4, lon: 8.9, ts: ts}))
	if err := src.Poll(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := sk.take(); len(got) != 1 || got[0].Vehicle != "ag-1" || src.Health().Positions[OtherHub] != 1 {
		t.Fatalf("took %+v, positions %v", got, src.Health().Positions)
	}
	// Vehicle 2 moves to this hub: its current fix is taken on the next
	// document.
	mine["ag-2"] = true
	now = now.Add(time.Second)
	fs.serve(feedBytes(t, ts+1, vehicleEntity{id: "1", lat: 44.4, lon: 8.9, ts: ts}, vehicleEntity{id: "2", lat: 44.4, lon: 8.9, ts: ts}))
	if err := src.Poll(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := sk.take(); len(got) != 1 || got[0].Vehicle != "ag-2" {
		t.Fatalf("took %+v", got)
	}
}

// Hostile or broken feeds: each poll fails with an error that says what
// is wrong, counted by kind, and the source keeps going.
func TestPollRefuses(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	ts := uint64(now.Unix())
	good := feedBytes(t, ts, vehicleEntity{id: "1", lat: 44.4, lon: 8.9, ts: ts})
	huge := make([]byte, 2<<20)
	var mode atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch mode.Load().(string) {
		case "html":
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Write([]byte("<html>Service unavailable</html>"))
		case "401":
			http.Error(w, "no key", http.StatusUnauthorized)
		case "huge-declared":
			w.Header().Set("Content-Type", "application/octet-stream")
			w.Header().Set("Content-Length", fmt.Sprint(len(huge)))
			w.Write(huge)
		case "huge-chunked":
			w.Header().Set("Content-Type", "application/octet-stream")
			for i := 0; i < 4; i++ {
				w.Write(huge[:len(huge)/2])
				w.(http.Flusher).Flush()
			}
		case "truncated":
			w.Header().Set("Content-Type", "application/x-protobuf")
			w.Write(good[:len(good)-3])
		case "slow":
			time.Sleep(3 * time.Second)
		case "stale":
			w.Header().Set("Content-Type", "application/x-protobuf")
			w.Write(feedBytes(t, ts-3600, vehicleEntity{id: "1", lat: 44.4, lon: 8.9, ts: ts - 3600}))
		default:
			w.Header().Set("Content-Type", "application/x-protobuf")
			w.Write(good)
		}
	}))
	defer srv.Close()
	cfg := testConfig(srv.URL)
	cfg.Timeout = 500 * time.Millisecond
	sk := &sink{}
	src := newSource(t, cfg, sk, &now)
	for _, c := range []struct{ mode, want string }{
		{"html", "Content-Type text/html is not a gtfs-rt feed"},
		{"401", "HTTP 401 Unauthorized (check the feed's headers: an API key?)"},
		{"huge-declared", "more than max_bytes 1048576"},
		{"huge-chunked", "larger than max_bytes 1048576"},
		{"truncated", "not a FeedMessage"},
		{"slow", "no answer within 500ms"},
	} {
		mode.Store(c.mode)
		err := src.Poll(context.Background())
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), `feed "agency"`) {
			t.Errorf("%s: err %v, want one naming the feed and saying %q", c.mode, err, c.want)
		}
		if h := src.Health(); h.OK || h.Error != err.Error() {
			t.Errorf("%s: health %+v", c.mode, h)
		}
	}
	if h := src.Health(); h.Failures != 6 {
		t.Errorf("consecutive failures %d, want 6", h.Failures)
	}
	// A producer stuck an hour ago: read, its fixes stale, the feed shown
	// as failing with why.
	mode.Store("stale")
	if err := src.Poll(context.Background()); err != nil {
		t.Fatal(err)
	}
	if h := src.Health(); h.OK || !strings.Contains(h.Error, "is the producer stuck?") || h.Positions[Stale] != 1 {
		t.Errorf("stale feed: health %+v", h)
	}
	mode.Store("good")
	if err := src.Poll(context.Background()); err != nil {
		t.Fatal(err)
	}
	if h := src.Health(); !h.OK || h.Failures != 0 || len(sk.take()) != 1 {
		t.Errorf("after the feed recovered: health %+v", h)
	}
}

func TestNewRefusesBadConfig(t *testing.T) {
	for _, c := range []struct {
		change func(*Config)
		want   string
	}{
		{func(c *Config) { c.URL = "" }, "give url or file"},
		{func(c *Config) { c.File = "/tmp/x" }, "give url or file"},
		{func(c *Config) { c.URL = "ftp://x/y" }, "want http:// or https://"},
		{func(c *Config) { c.Format = "csv" }, `unknown feed format "csv"`},
		{func(c *Config) { c.Every = 0 }, "above zero"},
	} {
		cfg := testConfig("http://127.0.0.1:1/vp.pb")
		c.change(&cfg)
		if _, err := New(Options{Feed: cfg, Enqueue: (&sink{}).enqueue}); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("err %v, want %q", err, c.want)
		}
	}
}

// A SIRI feed goes the same way, over HTTP with its XML content type.
func TestPollSIRI(t *testing.T) {
	b, err := os.ReadFile("testdata/vm.xml")
	if err != nil {
		t.Fatal(err)
	}
	fs := newFeedServer(t)
	fs.contentType = "text/xml; charset=utf-8"
	fs.serve(b)
	now := time.Date(2026, 12, 6, 9, 0, 30, 0, time.UTC)
	cfg := testConfig(fs.URL)
	cfg.Format = FormatSIRI
	sk := &sink{}
	src := newSource(t, cfg, sk, &now)
	if err := src.Poll(context.Background()); err != nil {
		t.Fatal(err)
	}
	got := sk.take()
	if len(got) != 1 || got[0].Vehicle != "ag-4711" || got[0].Trip != "1-0-0900" {
		// 4712's fix is at 09:59:58Z, an hour after the document's
		// 10:00:05+01:00: a producer's clock gone wrong.
		out, _ := json.Marshal(got)
		t.Fatalf("took %s", out)
	}
	if h := src.Health(); h.Positions[Future] != 1 || h.Positions[Skipped] != 1 || !strings.Contains(fs.lastHeader.Get("Accept"), "xml") {
		t.Errorf("health %+v, accept %q", h, fs.lastHeader.Get("Accept"))
	}
}
