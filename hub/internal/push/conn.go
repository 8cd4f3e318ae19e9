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

// conn is one sign connection. At most one goroutine writes to ws at a
// time, and only while there is something to write (drain): an idle sign
// costs no writer goroutine, and a slow one holds up only its own.
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

	// Guarded by s.mu.
	stops   []string
	display string

	subscribed atomic.Bool
	// grant is what the sign's token allows (Options.Auth); nil when the
	// hub registers no signs. Set before the read loop starts.
	grant *grant

	mu      sync.Mutex
	pending []pendingMsg // first-queued first, so a subscribe's boards go in stop order
	ping    bool         // a keep-alive ping is due
	writing bool         // a drain goroutine is running (or has closed ws)
	closing bool         // no more messages: flush, say goodbye, close
	// closeMsg is the close frame sent on the way out.
	closeMsg []byte
	// done is closed once ws is closed.
	done chan struct{}

	// What the sign sent, waiting for handleQueued (in order); handling
	// is whether that goroutine runs. The reader only reads, so its
	// stack stays small while it waits.
	in       [][]byte
	handling bool
}

type msgKey struct{ stop, kind string }

// pendingMsg is a message waiting to be written: its bytes, or the frame
// prepared once for every sign it goes to (publish).
type pendingMsg struct {
	k   msgKey
	msg []byte
	pm  *websocket.PreparedMessage
	f   *fanout // the publish it belongs to; nil for a message to this sign alone
}

// fanout follows one published message until every sign it went to has
// been written it, been sent a newer one of its stop and kind instead, or
// gone: how long the hub takes to push a board to all of a stop's signs
// (headway_ws_fanout_seconds).
type fanout struct {
	s     *Server
	kind  string
	n     int
	start time.Time
	left  atomic.Int64
}

// done counts one sign finished with the message.
func (f *fanout) done() {
	if f == nil || f.left.Add(-1) != 0 {
		return
	}
	d := time.Since(f.start)
	f.s.m.fanout.WithLabelValues(f.kind).Observe(d.Seconds())
	if h := f.s.fanned; h != nil {
		h(f.kind, f.n, d)
	}
}

// doneAll counts every message of msgs finished.
func doneAll(msgs []pendingMsg) {
	for _, m := range msgs {
		m.f.done()
	}
}

type grant struct {
	display string
	stops   []string
}

func newConn(s *Server, ws *websocket.Conn, remote string) *conn {
	return &conn{s: s, ws: ws, remote: remote, done: make(chan struct{})}
}

// send queues msg about stop, replacing any unwritten message of the same
// stop and kind.
func (c *conn) send(k msgKey, msg []byte) { c.queue(pendingMsg{k: k, msg: msg}) }

// sendPrepared is send with the frame already made.
func (c *conn) sendPrepared(k msgKey, pm *websocket.PreparedMessage, f *fanout) {
	c.queue(pendingMsg{k: k, pm: pm, f: f})
}

func (c *conn) queue(m pendingMsg) {
	k := m.k
	c.mu.Lock()
	if c.closing {
		c.mu.Unlock()
		m.f.done()
		return
	}
	replaced := false
	for i := range c.pending {
		if c.pending[i].k == k {
			c.pending[i].f.done()
			c.pending[i], replaced = m, true
			break
		}
	}
	if !replaced {
		c.pending = append(c.pending, m)
	}
	c.startDrain()
	c.mu.Unlock()
	if replaced {
		c.s.m.coalesced.Inc()
	}
	c.s.m.sent.Inc()
}

// keepAlive queues a ping.
func (c *conn) keepAlive() {
	c.mu.Lock()
	if !c.closing {
		c.ping = true
		c.startDrain()
	}
	c.mu.Unlock()
}

// startDrain starts the writer unless one runs. c.mu is held.
func (c *conn) startDrain() {
	if !c.writing {
		c.writing = true
		go c.drain()
	}
}

func (c *conn) isClosing() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closing
}

func (c *conn) displayID() string {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	return c.display
}

// close ends the connection without a close frame, once what is queued is
// written.
func (c *conn) close() { c.closeWith(0, "") }

// closeWith ends the connection with a close frame (code 0: none), once
// what is queued is written.
func (c *conn) closeWith(code int, text string) {
	c.mu.Lock()
	if code != 0 && c.closeMsg == nil {
		c.closeMsg = websocket.FormatCloseMessage(code, text)
	}
	if !c.closing {
		c.closing = true
		c.startDrain()
	}
	c.mu.Unlock()
}

// fail sends an error message and closes.
func (c *conn) fail(code, msg string, status int) {
	b, _ := json.Marshal(wire.Error{Type: wire.TypeError, Code: code, Message: msg})
	c.send(msgKey{kind: wire.TypeError}, b)
	c.closeWith(status, code)
}

// drain writes what is queued until nothing is, then returns; when the
// connection is closing it flushes, sends the close frame and closes ws.
func (c *conn) drain() {
	for {
		c.mu.Lock()
		msgs, ping, closing, cm := c.pending, c.ping, c.closing, c.closeMsg
		c.pending, c.ping = nil, false
		if len(msgs) == 0 && !ping && !closing {
			c.writing = false
			c.mu.Unlock()
			return
		}
		c.mu.Unlock()
		ok := true
		if ping {
			ok = c.written(c.write(websocket.PingMessage, nil))
		}
		for _, m := range msgs {
			if ok {
				if m.pm != nil {
					_ = c.ws.SetWriteDeadline(time.Now().Add(c.s.opts.WriteTimeout))
					ok = c.written(c.ws.WritePreparedMessage(m.pm))
				} else {
					ok = c.written(c.write(websocket.TextMessage, m.msg))
				}
			}
			m.f.done() // written, or never will be
		}
		if !ok || closing {
			if ok && cm != nil {
				_ = c.ws.WriteControl(websocket.CloseMessage, cm, time.Now().Add(time.Second))
			}
			c.mu.Lock()
			left := c.pending
			c.closing, c.pending = true, nil
			c.mu.Unlock()
			doneAll(left)
			c.ws.Close()
			close(c.done)
			return // writing stays true: nothing is written again
		}
	}
}

// written reports whether a write went through. A timeout means the sign
// stopped reading (or its network did): it is dropped, not waited for.
func (c *conn) written(err error) bool {
	if err == nil {
		return true
	}
	var ne interface{ Timeout() bool }
	if errors.As(err, &ne) && ne.Timeout() {
		c.s.m.dropped.Inc()
		c.s.log.Warn("dropping slow sign", "remote", c.remote, "display", c.displayID())
	}
	return false
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
		c.received(msg)
	}
}

// maxInbound bounds the messages from one sign waiting to be handled.
const maxInbound = 32

// received queues msg for handleQueued, starting it unless it runs. A
// sign sends a subscribe and then a heartbeat every half minute: a
// handler goroutine exists for moments only.
func (c *conn) received(msg []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closing {
		return
	}
	if len(c.in) >= maxInbound {
		// A sign sends a subscribe, then a heartbeat a half minute: this
		// is a flood, not a sign. (fail takes c.mu: queue the error here.)
		c.s.m.badFrames.WithLabelValues("flood").Inc()
		b, _ := json.Marshal(wire.Error{Type: wire.TypeError, Code: wire.CodeBadMessage,
			Message: fmt.Sprintf("more than %d messages waiting: a sign sends a subscribe, then a heartbeat every half minute", maxInbound)})
		c.pending = append(c.pending, pendingMsg{k: msgKey{kind: wire.TypeError}, msg: b})
		c.closeMsg = websocket.FormatCloseMessage(websocket.ClosePolicyViolation, wire.CodeBadMessage)
		c.closing = true
		c.startDrain()
		return
	}
	c.in = append(c.in, msg)
	if !c.handling {
		c.handling = true
		go c.handleQueued()
	}
}

// handleQueued handles what the sign sent, in order, until nothing waits.
// A message that ends the connection (handle false) closes it, and what
// follows it is dropped.
func (c *conn) handleQueued() {
	for {
		c.mu.Lock()
		if len(c.in) == 0 || c.closing {
			c.in, c.handling = nil, false
			c.mu.Unlock()
			return
		}
		msg := c.in[0]
		c.in = c.in[1:]
		c.mu.Unlock()
		if !c.handle(msg) {
			c.close()
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
			if c.s.opts.Alerts != nil {
				if al := c.s.opts.Alerts(st); al != nil {
					c.send(msgKey{st, wire.TypeAlerts}, al)
				}
			}
		}
		if c.s.opts.Fleet != nil {
			if f := c.s.opts.Fleet(); f != nil {
				c.send(msgKey{kind: wire.TypeFleet}, f)
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
