package push

import (
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"github.com/headway-transit/headway/internal/wire"
)

// conn is one sign connection. Only writeLoop writes to ws.
type conn struct {
	s      *Server
	ws     *websocket.Conn
	remote string
	queue  chan []byte
	quit   chan struct{}
	once   sync.Once

	// Guarded by s.mu.
	stops   []string
	display string

	// closeMsg is the close frame writeLoop sends on its way out.
	closeMu  sync.Mutex
	closeMsg []byte
}

func newConn(s *Server, ws *websocket.Conn, remote string) *conn {
	return &conn{s: s, ws: ws, remote: remote, queue: make(chan []byte, s.opts.Queue), quit: make(chan struct{})}
}

// send queues msg, dropping the client if its queue is full.
func (c *conn) send(msg []byte) {
	select {
	case <-c.quit:
		return
	default:
	}
	select {
	case c.queue <- msg:
		c.s.m.sent.Inc()
	default:
		c.s.m.dropped.Inc()
		c.s.log.Warn("dropping slow sign", "remote", c.remote, "display", c.displayID())
		c.closeWith(websocket.ClosePolicyViolation, "too slow")
	}
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
	c.closeMu.Lock()
	if c.closeMsg == nil {
		c.closeMsg = websocket.FormatCloseMessage(code, text)
	}
	c.closeMu.Unlock()
	c.close()
}

// fail sends an error message and closes.
func (c *conn) fail(code, msg string, status int) {
	b, _ := json.Marshal(wire.Error{Type: wire.TypeError, Code: code, Message: msg})
	select {
	case c.queue <- b:
	default:
	}
	c.closeWith(status, code)
}

func (c *conn) writeLoop() {
	ping := time.NewTicker(pingEvery)
	defer ping.Stop()
	defer c.ws.Close()
	for {
		select {
		case msg := <-c.queue:
			if err := c.write(websocket.TextMessage, msg); err != nil {
				c.close()
				return
			}
		case <-ping.C:
			if err := c.write(websocket.PingMessage, nil); err != nil {
				c.close()
				return
			}
		case <-c.quit:
			// Flush what is queued (an error message, say), then say goodbye.
		flush:
			for {
				select {
				case msg := <-c.queue:
					if c.write(websocket.TextMessage, msg) != nil {
						return
					}
				default:
					break flush
				}
			}
			c.closeMu.Lock()
			cm := c.closeMsg
			c.closeMu.Unlock()
			if cm != nil {
				_ = c.ws.WriteControl(websocket.CloseMessage, cm, time.Now().Add(time.Second))
			}
			return
		}
	}
}

func (c *conn) write(kind int, msg []byte) error {
	_ = c.ws.SetWriteDeadline(time.Now().Add(writeTimeout))
	return c.ws.WriteMessage(kind, msg)
}

func (c *conn) readLoop() {
	c.ws.SetReadLimit(wire.MaxPayload)
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
		for _, st := range sub.Stops {
			if !c.s.opts.Source.KnownStop(st) {
				c.s.m.badFrames.WithLabelValues("unknown_stop").Inc()
				c.fail(wire.CodeUnknownStop, fmt.Sprintf("stop %q is not in the hub's schedule", st), websocket.ClosePolicyViolation)
				return false
			}
		}
		c.s.subscribe(c, sub)
		for _, st := range c.stops {
			if b := c.s.opts.Source.Board(st); b != nil {
				c.send(b)
			}
			if tt := c.s.opts.Source.Timetable(st); tt != nil {
				c.send(tt)
			}
		}
	case wire.TypeHeartbeat:
		h, err := wire.DecodeHeartbeat(msg)
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
