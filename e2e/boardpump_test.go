package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/headway-transit/headway/internal/wire"
)

// boardPump is a hub's /ws that pushes boards as fast as the sign takes
// them: every one is a cache write on the sign. Each connection waits for
// release() after its subscribe, so a test can look at the sign before the
// hub says anything.
type boardPump struct {
	srv   *httptest.Server
	stops []string
	rows  int
	// Set before the first connection: auto skips the gate, every paces
	// the boards (0: as fast as the sign takes them).
	auto    bool
	every   time.Duration
	gate    chan struct{}
	subs    chan struct{}
	sent    atomic.Int64 // boards written, all connections
	connSeq atomic.Int64
	quit    chan struct{}
	wg      sync.WaitGroup
}

// newBoardPump serves boards of rows arrivals for stops.
func newBoardPump(tb testing.TB, rows int, stops ...string) *boardPump {
	p := &boardPump{stops: stops, rows: rows, gate: make(chan struct{}), subs: make(chan struct{}, 16), quit: make(chan struct{})}
	p.srv = httptest.NewServer(http.HandlerFunc(p.serve))
	tb.Cleanup(func() {
		close(p.quit)
		p.srv.CloseClientConnections()
		p.srv.Close()
		p.wg.Wait()
	})
	return p
}

func (p *boardPump) url() string { return "ws" + strings.TrimPrefix(p.srv.URL, "http") + "/ws" }

// release lets the connection waiting after its subscribe start pumping.
func (p *boardPump) release(tb testing.TB) {
	tb.Helper()
	select {
	case <-p.subs:
	case <-time.After(20 * time.Second):
		tb.Fatal("the station never subscribed")
	}
	p.gate <- struct{}{}
}

func (p *boardPump) serve(w http.ResponseWriter, r *http.Request) {
	p.wg.Add(1)
	defer p.wg.Done()
	conn, err := (&websocket.Upgrader{}).Upgrade(w, r, nil)
	if err != nil {
		return
	}
	defer conn.Close()
	if _, _, err := conn.ReadMessage(); err != nil { // the subscribe
		return
	}
	if !p.auto {
		p.subs <- struct{}{}
		select {
		case <-p.gate:
		case <-p.quit:
			return
		}
	}
	go func() { // heartbeats, and noticing the close
		for {
			if _, _, err := conn.ReadMessage(); err != nil {
				conn.Close()
				return
			}
		}
	}()
	id := p.connSeq.Add(1)
	for n := 0; ; n++ {
		select {
		case <-p.quit:
			return
		default:
		}
		now := time.Now().UTC()
		var msg []byte
		if n%50 == 0 {
			msg = p.timetable(now, p.stops[(n/50)%len(p.stops)])
		} else {
			msg = p.board(now, p.stops[n%len(p.stops)], id, n)
		}
		_ = conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
		if err := conn.WriteMessage(websocket.TextMessage, msg); err != nil {
			return
		}
		if n%50 != 0 {
			p.sent.Add(1)
		}
		if p.every > 0 {
			select {
			case <-time.After(p.every):
			case <-p.quit:
				return
			}
		}
	}
}

func (p *boardPump) board(now time.Time, stop string, conn int64, n int) []byte {
	b := wire.Board{Type: wire.TypeBoard, Stop: stop, StopName: fmt.Sprintf("Stop %s (conn %d, board %d)", stop, conn, n), GeneratedAt: now, Arrivals: make([]wire.Arrival, p.rows)}
	for i := range b.Arrivals {
		sched := now.Add(time.Duration(i+1) * 3 * time.Minute).Truncate(time.Second)
		pred := sched.Add(time.Duration(n%120) * time.Second)
		b.Arrivals[i] = wire.Arrival{Trip: fmt.Sprintf("trip-%d", i), Route: "R1", RouteShortName: "1", Headsign: "University via Central Station",
			Vehicle: fmt.Sprintf("bus-%d", i), StopSequence: 7, Scheduled: sched, Predicted: &pred, Source: wire.SourceRealtime}
	}
	msg, _ := json.Marshal(b)
	return msg
}

func (p *boardPump) timetable(now time.Time, stop string) []byte {
	tt := wire.Timetable{Type: wire.TypeTimetable, Stop: stop, From: now, Until: now.Add(24 * time.Hour)}
	for t := now.Add(time.Minute).Truncate(time.Minute); t.Before(tt.Until); t = t.Add(5 * time.Minute) {
		tt.Departures = append(tt.Departures, wire.Departure{Trip: "tt-" + t.Format("1504"), Route: "R1", RouteShortName: "1", Headsign: "University", Scheduled: t})
	}
	msg, _ := json.Marshal(tt)
	return msg
}
