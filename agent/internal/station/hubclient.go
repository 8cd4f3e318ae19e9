package station

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"github.com/headway-transit/headway/internal/tlsfiles"
	"github.com/headway-transit/headway/internal/wire"
)

const (
	backoffMin       = 500 * time.Millisecond
	backoffMax       = 30 * time.Second
	handshakeTimeout = 10 * time.Second
	writeTimeout     = 10 * time.Second

	defaultHeartbeatEvery = 30 * time.Second
	// defaultReadTimeout is how long a connection may be silent (no
	// message, ping or pong) before the sign gives up on it and tries the
	// next hub. The sign pings every pingEvery itself, so a live hub always
	// answers well inside it; a hub hung or cut off without closing the
	// connection (a machine gone, a network down) is left within 15 s.
	defaultReadTimeout = 15 * time.Second
	defaultPingEvery   = 5 * time.Second
)

// backoff returns the wait before retry number attempt (0-based):
// exponential from backoffMin, capped at backoffMax, with jitter in
// [d/2, d) so that signs cut off together do not reconnect together.
// rnd returns a number in [0, 1).
func backoff(attempt int, rnd func() float64) time.Duration {
	d := backoffMax
	if attempt < 16 {
		d = min(backoffMin<<attempt, backoffMax)
	}
	return d/2 + time.Duration(rnd()*float64(d/2))
}

// nextHub is the index of the hub to dial after a session with hub idx of
// n ended with err: the same one after a drop from a hub that worked (it
// restarted, say), the next one after a hub that failed or went silent. A
// hub gone silent (hung, or its machine cut off) still accepts connections
// in its kernel and would hold the sign for its handshake timeout.
func nextHub(idx, n int, useful bool, err error) int {
	var ne net.Error
	if useful && !(errors.As(err, &ne) && ne.Timeout()) {
		return idx
	}
	return (idx + 1) % n
}

// runHub keeps the sign connected to one of the configured hubs until ctx
// is done. A hub that fails or goes silent is left for the next one in the
// list; a hub that worked is retried first after a drop.
func (s *Station) runHub(ctx context.Context) {
	idx, attempt := 0, 0
	for dials := 0; ; dials++ {
		if dials > 0 {
			s.metrics.reconnects.Inc()
		}
		// The configuration in force now: SIGHUP may have changed the
		// stops, the hubs, the token or the TLS files.
		cfg := s.config()
		s.handler.stops = cfg.Stops // only sessions read it, and none runs
		dialer := &websocket.Dialer{
			HandshakeTimeout: handshakeTimeout,
			Proxy:            http.ProxyFromEnvironment,
		}
		if cfg.TLS != (TLSFiles{}) {
			// Read at every dial, so renewed files are taken.
			tc, err := tlsfiles.Client(cfg.TLS.CA, cfg.TLS.Cert, cfg.TLS.Key)
			if err != nil {
				s.logger.Error("tls: hub connection made without it", "err", err)
			} else {
				dialer.TLSClientConfig = tc
			}
		}
		idx %= len(cfg.Hub)
		url := cfg.Hub[idx]
		sctx, cancel := context.WithCancel(ctx)
		reloaded := make(chan struct{})
		go func() {
			select {
			case <-s.reload:
				close(reloaded)
				cancel()
			case <-sctx.Done():
			}
		}()
		useful, err := s.session(sctx, dialer, url, cfg)
		cancel()
		if ctx.Err() != nil {
			return
		}
		select {
		case <-reloaded:
			s.logger.Info("configuration reloaded: connecting again", "hub", cfg.Hub[0])
			idx, attempt = 0, 0
			continue
		default:
		}
		if useful {
			attempt = 0
		}
		idx = nextHub(idx, len(cfg.Hub), useful, err)
		wait := backoff(attempt, rand.Float64)
		attempt++
		s.logger.Warn("hub connection ended; retrying", "hub", url, "error", err,
			"next_hub", cfg.Hub[idx], "retry_in", wait.Round(time.Millisecond))
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-s.reload:
			t.Stop()
			idx, attempt = 0, 0
		case <-t.C:
		}
	}
}

// session runs one connection: subscribe, then read until it fails or ctx
// is done. useful reports whether the hub sent anything valid, which resets
// the backoff (a hub that accepts and immediately drops us does not).
func (s *Station) session(ctx context.Context, dialer *websocket.Dialer, url string, cfg Config) (useful bool, err error) {
	var hdr http.Header
	if cfg.Token != "" {
		hdr = http.Header{"Authorization": []string{"Bearer " + cfg.Token}}
	}
	conn, resp, err := dialer.DialContext(ctx, url, hdr)
	if err != nil {
		if resp != nil {
			return false, fmt.Errorf("dial %s: %w (HTTP %s)", url, err, resp.Status)
		}
		return false, fmt.Errorf("dial %s: %w", url, err)
	}
	defer conn.Close()
	s.logger.Info("connected to hub", "hub", url)

	conn.SetReadLimit(wire.MaxServerMessage)
	_ = conn.SetReadDeadline(time.Now().Add(s.readTimeout))
	// alive is called on every sign of life from the hub. The sign counts
	// as online from the hub's first answer, not from the dial: until the
	// fresh boards come, the cached ones are no more current than before.
	alive := func() {
		_ = conn.SetReadDeadline(time.Now().Add(s.readTimeout))
		s.state.heard(s.now())
		s.state.setOnline(true)
	}
	conn.SetPongHandler(func(string) error { alive(); return nil })
	conn.SetPingHandler(func(data string) error {
		alive()
		err := conn.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(writeTimeout))
		var ne net.Error
		if errors.Is(err, websocket.ErrCloseSent) || (errors.As(err, &ne) && ne.Timeout()) {
			return nil // as gorilla's default handler: the read loop will see the failure
		}
		return err
	})

	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	var writeErr error
	wg.Go(func() {
		writeErr = s.writeLoop(sctx, conn, cfg)
		cancel()
	})
	wg.Go(func() {
		// Closing the connection is the only way to unblock ReadMessage.
		<-sctx.Done()
		_ = conn.WriteControl(websocket.CloseMessage,
			websocket.FormatCloseMessage(websocket.CloseGoingAway, ""), time.Now().Add(time.Second))
		conn.Close()
	})
	defer func() {
		cancel()
		wg.Wait()
		s.state.setOnline(false)
		s.metrics.connected.Set(0)
		if err == nil && ctx.Err() == nil {
			err = writeErr
		}
	}()

	for {
		typ, msg, rerr := conn.ReadMessage()
		if rerr != nil {
			if ctx.Err() != nil {
				return useful, nil
			}
			return useful, fmt.Errorf("read from %s: %w", url, rerr)
		}
		_ = conn.SetReadDeadline(time.Now().Add(s.readTimeout))
		if typ != websocket.TextMessage {
			s.logger.Debug("ignoring non-text hub message", "hub", url, "frame_type", typ)
			continue
		}
		if herr := s.handler.handle(msg); herr != nil {
			s.logger.Warn("rejected hub message", "hub", url, "error", herr)
			continue
		}
		if t, _ := wire.MessageType(msg); t == wire.TypeError {
			// The hub refusing this sign (its token, say): logged by the
			// handler; not a working connection, so the backoff grows.
			continue
		}
		useful = true
		alive()
	}
}

// writeLoop is the connection's only writer of data frames (gorilla allows
// one): the subscribe, then heartbeats and keep-alive pings until ctx ends.
func (s *Station) writeLoop(ctx context.Context, conn *websocket.Conn, cfg Config) error {
	write := func(v any) error {
		_ = conn.SetWriteDeadline(time.Now().Add(writeTimeout))
		return conn.WriteJSON(v)
	}
	sub := wire.Subscribe{Type: wire.TypeSubscribe, Display: cfg.Display, Stops: cfg.Stops}
	if err := write(sub); err != nil {
		return fmt.Errorf("send subscribe: %w", err)
	}
	s.metrics.connected.Set(1)
	// A heartbeat at once: the hub knows the sign's version and cache age
	// from the start (the dashboard's fleet versions), not 30 s later.
	if err := write(s.heartbeat()); err != nil {
		return fmt.Errorf("send heartbeat: %w", err)
	}

	hb := time.NewTicker(s.heartbeatEvery)
	defer hb.Stop()
	ping := time.NewTicker(s.pingEvery)
	defer ping.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-hb.C:
			if err := write(s.heartbeat()); err != nil {
				return fmt.Errorf("send heartbeat: %w", err)
			}
		case <-ping.C:
			if err := conn.WriteControl(websocket.PingMessage, nil, time.Now().Add(writeTimeout)); err != nil {
				return fmt.Errorf("send ping: %w", err)
			}
		}
	}
}

// heartbeat reports the age of what the sign shows. With no board ever
// received, that is how long the sign has been running without one (the
// contract has no "unknown", and 0 would claim fresh data).
func (s *Station) heartbeat() wire.Heartbeat {
	_, last := s.state.status()
	now := s.now()
	if last.IsZero() {
		last = s.started
	}
	return wire.Heartbeat{
		Type:      wire.TypeHeartbeat,
		Display:   s.config().Display,
		CacheAgeS: max(now.Sub(last).Seconds(), 0),
		Version:   s.version,
	}
}
