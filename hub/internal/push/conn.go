package push

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"github.com/headway-transit/headway/internal/wire"
)

// conn is one sign connection. Only writeLoop writes to ws.
//
// Outgoing messages are coalesced by stop and kind: a board replaces the
// board of its stop whole, so a board that has not been written yet is
// simply replaced by a newer one. The pending set is therefore bounded by
// the subscription, a burst (a subscribe to many stops, the hourly
// timetables) never overflows it, and a sign that cannot keep up sees the
// latest state rather than a backlog. A sign that stops reading is dropped
// when a write times out.
type conn struct {
	s      *Server
	ws     *websocket.Conn
	remote string
	quit   chan struct{}
	once   sync.Once

	// Guarded by s.mu.
	stops   []string
	display string

	subscribed atomic.Bool
	// grant is what the sign's token allows (Options.Auth); nil when the
	// hub registers no signs. Set before the read loop starts.
	grant *grant

	mu      sync.Mutex
	pending map[msgKey][]byte
	order   []msgKey // first-queued first, so a subscribe's boards go in stop order
	wake    chan struct{}
	// closeMsg is the close frame writeLoop sends on its way out.
	closeMsg []byte
}

type msgKey struct{ stop, kind string }

type grant struct {
	display string
	stops   []string
}

func newConn(s *Server, ws *websocket.Conn, remote string) *conn {
	return &conn{s: s, ws: ws, remote: remote, quit: make(chan struct{}), pending: map[msgKey][]byte{}, wake: make(chan struct{}, 1)}
}

// send queues msg about stop, replacing any unwritten message of the same
// stop and kind.
func (c *conn) send(k msgKey, msg []byte) {
	select {
	case <-c.quit:
		return
	default:
	}
	c.mu.Lock()
	if _, ok := c.pending[k]; !ok {
		c.order = append(c.order, k)
	} else {
		c.s.m.coalesced.Inc()
	}
	c.pending[k] = msg
	c.mu.Unlock()
	c.s.m.sent.Inc()
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// take removes and returns the pending messages in queue order.
func (c *conn) take() [][]byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([][]byte, 0, len(c.order))
	for _, k := range c.order {
		out = append(out, c.pending[k])
		delete(c.pending, k)
	}
	c.order = c.order[:0]
	return out
}

func (c *conn) displayID() string {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	return c.display
}

// close stops the writer without a close frame.
func (c *conn) close() { c.once.Do(func() { close(c.quit) }) }

// closeWith stops the writer, which sends a close frame first.
func (c *conn) closeWith(code int, text string) {
	c.mu.Lock()
	if c.closeMsg == nil {
		c.closeMsg = websocket.FormatCloseMessage(code, text)
	}
	c.mu.Unlock()
	c.close()
}

// fail sends an error message and closes.
func (c *conn) fail(code, msg string, status int) {
	b, _ := json.Marshal(wire.Error{Type: wire.TypeError, Code: code, Message: msg})
	c.send(msgKey{kind: wire.TypeError}, b)
	c.closeWith(status, code)
}

func (c *conn) writeLoop() {
	ping := time.NewTicker(c.s.opts.PingEvery)
	defer ping.Stop()
	defer c.ws.Close()
	for {
		select {
		case <-c.wake:
			if !c.flush() {
				return
			}
		case <-ping.C:
			if err := c.write(websocket.PingMessage, nil); err != nil {
				c.writeFailed(err)
				return
			}
		case <-c.quit:
			// Flush what is queued (an error message, say), then say goodbye.
			if !c.flush() {
				return
			}
			c.mu.Lock()
			cm := c.closeMsg
			c.mu.Unlock()
			if cm != nil {
				_ = c.ws.WriteControl(websocket.CloseMessage, cm, time.Now().Add(time.Second))
			}
			return
		}
	}
}

// flush writes every pending message; false when the connection failed.
func (c *conn) flush() bool {
	for _, msg := range c.take() {
		if err := c.write(websocket.TextMessage, msg); err != nil {
			c.writeFailed(err)
			return false
		}
	}
	return true
}

// writeFailed ends the connection after a failed write. A timeout means the
// sign stopped reading (or its network did): it is dropped, not waited for.
func (c *conn) writeFailed(err error) {
	var ne interface{ Timeout() bool }
	if errors.As(err, &ne) && ne.Timeout() {
		c.s.m.dropped.Inc()
		c.s.log.Warn("dropping slow sign", "remote", c.remote, "display", c.displayID())
	}
	c.close()
}

func (c *conn) write(kind int, msg []byte) error {
	_ = c.ws.SetWriteDeadline(time.Now().Add(c.s.opts.WriteTimeout))
	return c.ws.WriteMessage(kind, msg)
}

func (c *conn) readLoop() {
	// Read up to twice the limit so an oversized message gets a clear error
	// from us; beyond that gorilla closes with 1009 (message too big) itself.
	c.ws.SetReadLimit(2 * wire.MaxPayload)
	_ = c.ws.SetReadDeadline(time.Now().Add(readTimeout))
	c.ws.SetPongHandler(func(string) error {
		return c.ws.SetReadDeadline(time.Now().Add(readTimeout))
	})
	for {
		kind, msg, err := c.ws.ReadMessage()
		if err != nil {
			if errors.Is(err, websocket.ErrReadLimit) {
				// gorilla has already sent close 1009 (message too big).
				c.s.m.badFrames.WithLabelValues("too_large").Inc()
			}
			return
		}
		_ = c.ws.SetReadDeadline(time.Now().Add(readTimeout))
		if len(msg) > wire.MaxPayload {
			c.s.m.badFrames.WithLabelValues("too_large").Inc()
			c.fail(wire.CodeTooLarge, fmt.Sprintf("message is %d bytes, at most %d", len(msg), wire.MaxPayload), websocket.CloseMessageTooBig)
			return
		}
		if kind != websocket.TextMessage {
			c.s.m.badFrames.WithLabelValues("binary").Inc()
			c.fail(wire.CodeBadMessage, "binary frames are not part of the protocol; send JSON text", websocket.CloseUnsupportedData)
			return
		}
		if !c.handle(msg) {
			return
		}
	}
}

// handle acts on one client message; false ends the connection.
func (c *conn) handle(msg []byte) bool {
	typ, err := wire.MessageType(msg)
	if err != nil {
		c.s.m.badFrames.WithLabelValues("not_json").Inc()
		c.fail(wire.CodeBadMessage, err.Error(), websocket.CloseUnsupportedData)
		return false
	}
	switch typ {
	case wire.TypeSubscribe:
		sub, err := wire.DecodeSubscribe(msg)
		if err != nil {
			code := wire.CodeBadMessage
			if errors.Is(err, wire.ErrTooManyStops) {
				code = wire.CodeTooManyStop
			}
			c.s.m.badFrames.WithLabelValues("subscribe").Inc()
			c.fail(code, err.Error(), websocket.ClosePolicyViolation)
			return false
		}
		if g := c.grant; g != nil {
			var err error
			if sub.Display != g.display {
				err = fmt.Errorf("this token is display %q's, not %q's", g.display, sub.Display)
			}
			for _, st := range sub.Stops {
				if err == nil && !slices.Contains(g.stops, st) {
					err = fmt.Errorf("display %q is not registered for stop %q", g.display, st)
				}
			}
			if err != nil {
				c.s.deny(c, "not_registered", err)
				c.fail(wire.CodeForbidden, err.Error(), wire.CloseForbidden)
				return false
			}
		}
		for _, st := range sub.Stops {
			if !c.s.opts.Source.KnownStop(st) {
				c.s.m.badFrames.WithLabelValues("unknown_stop").Inc()
				c.fail(wire.CodeUnknownStop, fmt.Sprintf("stop %q is not in the hub's schedule", st), websocket.ClosePolicyViolation)
				return false
			}
		}
		c.s.subscribe(c, sub)
		c.subscribed.Store(true)
		for _, st := range c.stops {
			if b := c.s.opts.Source.Board(st); b != nil {
				c.send(msgKey{st, wire.TypeBoard}, b)
			}
			if tt := c.s.opts.Source.Timetable(st); tt != nil {
				c.send(msgKey{st, wire.TypeTimetable}, tt)
			}
		}
	case wire.TypeHeartbeat:
		h, err := wire.DecodeHeartbeat(msg)
		if err == nil && h.Display != c.displayID() {
			err = fmt.Errorf("heartbeat for display %q on a connection subscribed as %q: subscribe first", h.Display, c.displayID())
		}
		if err != nil {
			c.s.m.badFrames.WithLabelValues("heartbeat").Inc()
			c.fail(wire.CodeBadMessage, err.Error(), websocket.ClosePolicyViolation)
			return false
		}
		c.s.heartbeat(c, h)
	default:
		c.s.m.badFrames.WithLabelValues("unknown_type").Inc()
		c.fail(wire.CodeBadMessage, fmt.Sprintf("unknown message type %q", typ), websocket.ClosePolicyViolation)
		return false
	}
	return true
}
