package broker

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"sync/atomic"
	"syscall"

	"github.com/mochi-mqtt/server/v2/packets"
)

// connLog is a slog.Handler for mochi's logger that words the records its
// listener logs without a message, at WARN, each time a client connection
// ends with an error: a shutdown or a bus leaving coverage is routine
// (debug), a refused login or a broken client is worth a warning, and
// neither should reach an operator as `level=WARN msg=""`.
type connLog struct {
	next    slog.Handler
	closing *atomic.Bool // set by Close: every connection is about to end
}

func (h *connLog) Enabled(ctx context.Context, l slog.Level) bool { return h.next.Enabled(ctx, l) }

func (h *connLog) Handle(ctx context.Context, r slog.Record) error {
	if r.Message != "" {
		return h.next.Handle(ctx, r)
	}
	var err error
	r.Attrs(func(a slog.Attr) bool {
		if e, ok := a.Value.Any().(error); ok && a.Key == "error" {
			err = e
			return false
		}
		return true
	})
	level, msg := connEnded(err, h.closing.Load())
	if !h.next.Enabled(ctx, level) {
		return nil
	}
	out := slog.NewRecord(r.Time, level, msg, r.PC)
	r.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(a)
		return true
	})
	return h.next.Handle(ctx, out)
}

func (h *connLog) WithAttrs(as []slog.Attr) slog.Handler {
	return &connLog{next: h.next.WithAttrs(as), closing: h.closing}
}

func (h *connLog) WithGroup(name string) slog.Handler {
	return &connLog{next: h.next.WithGroup(name), closing: h.closing}
}

// connEnded says how to log a client connection that ended with err.
func connEnded(err error, closing bool) (slog.Level, string) {
	if closing {
		return slog.LevelDebug, "mqtt client disconnected: broker shutting down"
	}
	var code packets.Code
	if errors.As(err, &code) {
		switch code.Code {
		case packets.ErrBadUsernameOrPassword.Code, packets.ErrNotAuthorized.Code:
			return slog.LevelWarn, "mqtt client refused: check its username and password against mqtt.users"
		case packets.ErrSessionTakenOver.Code:
			return slog.LevelDebug, "mqtt client replaced by a new connection with its client id"
		}
		return slog.LevelWarn, "mqtt client disconnected for breaking the protocol"
	}
	var ne net.Error
	switch {
	case err == nil:
		return slog.LevelDebug, "mqtt client disconnected"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, net.ErrClosed),
		errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE),
		errors.As(err, &ne) && ne.Timeout():
		// A bus out of coverage, a session taken over by its reconnect, a
		// load balancer's TCP probe.
		return slog.LevelDebug, "mqtt client connection lost"
	}
	return slog.LevelWarn, "mqtt client connection failed"
}
