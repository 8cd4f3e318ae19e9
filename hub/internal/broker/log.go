package broker

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"regexp"
	"strings"
	"sync/atomic"
	"time"
)

// natsLog writes nats-server's log lines to the hub's slog logger.
//
// The server words a client's lines "ADDR:PORT - mid:N - MESSAGE"; they
// are logged as MESSAGE with the client's address as an attribute
// (remote, without the port), so that the same trouble from the same
// place is the same record. Warnings and errors then pass through quiet:
// a bus with a wrong password retries every few seconds, and the hub's
// log must not be nothing else. A fatal line (which would end the
// process) goes to Start instead.
type natsLog struct {
	log   *slog.Logger // debug and info, as they come
	loud  *slog.Logger // warnings and errors, each once a minute per source
	fatal chan string
	// Every refusal counted, however few are logged.
	refused, violations atomic.Uint64
}

func newNATSLog(logger *slog.Logger, fatal chan string) *natsLog {
	return &natsLog{log: logger, loud: slog.New(newQuiet(logger.Handler(), time.Minute, time.Now)), fatal: fatal}
}

// clientLine matches the prefix nats-server puts on a client's lines:
// its address, then its kind and number (cid for NATS, mid for MQTT).
var clientLine = regexp.MustCompile(`^(\S+) - [a-z]+(?:ws)?:\d+ - (.*)$`)

// parse splits a client's line into its message and attributes.
func parse(line string) (string, []any) {
	m := clientLine.FindStringSubmatch(line)
	if m == nil {
		return line, nil
	}
	host, _, err := net.SplitHostPort(m[1])
	if err != nil {
		return line, nil
	}
	msg := m[2]
	attrs := []any{"remote", host}
	// The MQTT client's id, when the server knows it: `"bus-1" - message`.
	if rest, ok := strings.CutPrefix(msg, `"`); ok {
		if id, tail, ok := strings.Cut(rest, `" - `); ok {
			attrs = append(attrs, "client", id)
			msg = tail
		}
	}
	return describe(msg), attrs
}

// describe words what nats-server says about a client for an operator
// who knows the hub's config rather than the server's.
func describe(msg string) string {
	switch {
	case strings.HasPrefix(msg, "authentication error"):
		return "mqtt client refused: check its username and password against mqtt.users or mqtt.vehicles (" + msg + ")"
	case strings.Contains(msg, "Permissions Violation"), strings.HasPrefix(msg, "Publish Violation"), strings.HasPrefix(msg, "Subscription Violation"):
		return "mqtt client kept to its role's topics: " + msg
	}
	return msg
}

func (l *natsLog) Noticef(format string, v ...any) { l.put(l.log, slog.LevelDebug, format, v) }
func (l *natsLog) Debugf(format string, v ...any)  { l.put(l.log, slog.LevelDebug, format, v) }
func (l *natsLog) Warnf(format string, v ...any)   { l.put(l.loud, slog.LevelWarn, format, v) }
func (l *natsLog) Errorf(format string, v ...any)  { l.put(l.loud, slog.LevelError, format, v) }
func (l *natsLog) Tracef(format string, v ...any)  {}

func (l *natsLog) Fatalf(format string, v ...any) {
	msg := fmt.Sprintf(format, v...)
	select {
	case l.fatal <- msg:
	default:
	}
	l.log.Error(msg)
}

// put logs a line; a client's error is the client's trouble, not the
// hub's, and is a warning.
func (l *natsLog) put(to *slog.Logger, level slog.Level, format string, v []any) {
	msg, attrs := parse(fmt.Sprintf(format, v...))
	switch {
	case strings.HasPrefix(msg, "mqtt client refused:"):
		l.refused.Add(1)
	case strings.HasPrefix(msg, "mqtt client kept to its role's topics:"):
		l.violations.Add(1)
	}
	switch {
	case strings.TrimSpace(msg) == "":
		return // the blank lines of the server's start-up banner
	case strings.HasPrefix(msg, "unable to connect: authentication error"):
		// The refusal itself has just been logged, saying what to check.
		to, level = l.log, slog.LevelDebug
	case level == slog.LevelError && attrs != nil:
		level = slog.LevelWarn
	}
	to.Log(context.Background(), level, msg, attrs...)
}
