package broker

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
	"github.com/mochi-mqtt/server/v2/packets"
)

// logBuf is what a broker's logger writes to, as text lines; tests wait on
// its writes rather than on the clock.
type logBuf struct {
	mu    sync.Mutex
	b     bytes.Buffer
	wrote chan struct{}
}

func newLogBuf() *logBuf { return &logBuf{wrote: make(chan struct{}, 1)} }

func (l *logBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	n, err := l.b.Write(p)
	l.mu.Unlock()
	select {
	case l.wrote <- struct{}{}:
	default:
	}
	return n, err
}

func (l *logBuf) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

func (l *logBuf) lines() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Split(strings.TrimSpace(l.b.String()), "\n")
}

func (l *logBuf) count(substr string) int {
	n := 0
	for _, line := range l.lines() {
		if strings.Contains(line, substr) {
			n++
		}
	}
	return n
}

// waitFor waits until n lines contain substr.
func (l *logBuf) waitFor(t *testing.T, substr string, n int) {
	t.Helper()
	deadline := time.After(wait)
	for l.count(substr) < n {
		select {
		case <-l.wrote:
		case <-deadline:
			t.Fatalf("waited for %d log lines with %q; log:\n%s", n, substr, strings.Join(l.lines(), "\n"))
		}
	}
}

// TestShutdownQuiet: closing the broker with clients connected logs no
// warning, and no record without a message.
func TestShutdownQuiet(t *testing.T) {
	log := newLogBuf()
	b, err := Start(Options{Addr: "127.0.0.1:0", Logger: log.logger()})
	if err != nil {
		t.Fatal(err)
	}
	const clients = 3
	for i := range clients {
		c := mqtt.NewClient(mqtt.NewClientOptions().AddBroker(b.URL()).SetClientID(fmt.Sprintf("bus-%d", i)).
			SetAutoReconnect(false).SetConnectRetry(false))
		if tok := c.Connect(); !tok.WaitTimeout(wait) || tok.Error() != nil {
			t.Fatalf("connect: %v", tok.Error())
		}
		t.Cleanup(func() { c.Disconnect(0) })
	}
	// One that leaves cleanly before the shutdown, one TCP probe.
	leaver := mqtt.NewClient(mqtt.NewClientOptions().AddBroker(b.URL()).SetClientID("leaver").SetAutoReconnect(false))
	if tok := leaver.Connect(); !tok.WaitTimeout(wait) || tok.Error() != nil {
		t.Fatalf("connect: %v", tok.Error())
	}
	leaver.Disconnect(100)
	probe, err := net.Dial("tcp", b.Addr())
	if err != nil {
		t.Fatal(err)
	}
	_ = probe.Close()
	log.waitFor(t, `msg="mqtt client connection lost"`, 1)

	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	// Each client idles in a read, which the shutdown ends with an error.
	log.waitFor(t, `msg="mqtt client disconnected: broker shutting down"`, clients)
	for _, line := range log.lines() {
		if strings.Contains(line, "level=WARN") || strings.Contains(line, "level=ERROR") || strings.Contains(line, `msg=""`) {
			t.Errorf("logged %s", line)
		}
	}
}

// TestRefusedLoginWarns: a refused login is still a warning, now one that
// says what happened.
func TestRefusedLoginWarns(t *testing.T) {
	log := newLogBuf()
	b, err := Start(Options{Addr: "127.0.0.1:0", Logger: log.logger(),
		Users: []User{{Username: "bus-1", Password: "bus-1-secret-pw", Role: RoleVehicle}}})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if _, err := connect(t, b, "bus-1", "bus-1", "wrong-password"); err == nil {
		t.Fatal("wrong password let in")
	}
	log.waitFor(t, `level=WARN msg="mqtt client refused: check its username and password against mqtt.users"`, 1)
	if n := log.count(`msg=""`); n != 0 {
		t.Errorf("%d records without a message:\n%s", n, strings.Join(log.lines(), "\n"))
	}
}

// TestOpenBrokerWarning: a broker that lets anyone in says so, once, when
// it listens beyond this machine.
func TestOpenBrokerWarning(t *testing.T) {
	const warning = "embedded broker accepts any client on "
	users := []User{{Username: "bus-1", Password: "bus-1-secret-pw", Role: RoleVehicle}}
	for _, c := range []struct {
		name  string
		addr  string
		users []User
		warn  bool
	}{
		{name: "all IPv4 interfaces", addr: "0.0.0.0:0", warn: true},
		{name: "all interfaces", addr: ":0", warn: true},
		{name: "loopback", addr: "127.0.0.1:0"},
		{name: "localhost", addr: "localhost:0"},
		{name: "all interfaces with users", addr: "0.0.0.0:0", users: users},
	} {
		t.Run(c.name, func(t *testing.T) {
			log := newLogBuf()
			b, err := Start(Options{Addr: c.addr, Users: c.users, Logger: log.logger()})
			if err != nil {
				t.Fatal(err)
			}
			// A client in and out, then the shutdown: still one warning.
			cl := mqtt.NewClient(mqtt.NewClientOptions().AddBroker("tcp://" + net.JoinHostPort("127.0.0.1", port(t, b.Addr()))).
				SetClientID("c").SetUsername("bus-1").SetPassword("bus-1-secret-pw").SetAutoReconnect(false))
			if tok := cl.Connect(); !tok.WaitTimeout(wait) || tok.Error() != nil {
				t.Fatalf("connect: %v", tok.Error())
			}
			cl.Disconnect(100)
			_ = b.Close()
			n := log.count(warning)
			if !c.warn {
				if n != 0 {
					t.Errorf("warned with %s:\n%s", c.addr, strings.Join(log.lines(), "\n"))
				}
				return
			}
			if n != 1 {
				t.Fatalf("%d warnings, want 1:\n%s", n, strings.Join(log.lines(), "\n"))
			}
			var line string
			for _, l := range log.lines() {
				if strings.Contains(l, warning) {
					line = l
				}
			}
			// As configured, with the port bound (0.0.0.0 binds [::] too).
			host, _, _ := net.SplitHostPort(c.addr)
			shown := net.JoinHostPort(host, port(t, b.Addr()))
			for _, want := range []string{"level=WARN", warning + shown + ":", "set mqtt.users", "listen on 127.0.0.1", "component=broker"} {
				if !strings.Contains(line, want) {
					t.Errorf("warning %q does not say %q", line, want)
				}
			}
		})
	}
}

func port(t *testing.T, addr string) string {
	t.Helper()
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

type timeoutErr struct{}

func (timeoutErr) Error() string   { return "i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

func TestConnEnded(t *testing.T) {
	for _, c := range []struct {
		name    string
		err     error
		closing bool
		level   slog.Level
		msg     string
	}{
		{"shutdown", fmt.Errorf("read tcp: %w", net.ErrClosed), true, slog.LevelDebug, "broker shutting down"},
		{"shutdown whatever the error", packets.ErrBadUsernameOrPassword, true, slog.LevelDebug, "broker shutting down"},
		{"refused login", packets.ErrBadUsernameOrPassword, false, slog.LevelWarn, "refused"},
		{"not authorized", packets.ErrNotAuthorized, false, slog.LevelWarn, "refused"},
		{"malformed", fmt.Errorf("read connection: %w", packets.ErrMalformedProtocolName), false, slog.LevelWarn, "protocol"},
		{"taken over", packets.ErrSessionTakenOver, false, slog.LevelDebug, "replaced"},
		{"tcp probe", fmt.Errorf("read connection: %w", io.EOF), false, slog.LevelDebug, "lost"},
		{"closed", &net.OpError{Op: "read", Net: "tcp", Err: net.ErrClosed}, false, slog.LevelDebug, "lost"},
		{"reset", &net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("read", syscall.ECONNRESET)}, false, slog.LevelDebug, "lost"},
		{"keepalive timeout", &net.OpError{Op: "read", Net: "tcp", Err: timeoutErr{}}, false, slog.LevelDebug, "lost"},
		{"no error", nil, false, slog.LevelDebug, "disconnected"},
		{"other", errors.New("something new"), false, slog.LevelWarn, "failed"},
	} {
		t.Run(c.name, func(t *testing.T) {
			level, msg := connEnded(c.err, c.closing)
			if level != c.level || !strings.Contains(msg, c.msg) {
				t.Errorf("connEnded(%v, %v) = %v %q, want %v and a message with %q", c.err, c.closing, level, msg, c.level, c.msg)
			}
		})
	}
}

// TestConnLogKeepsOthers: records with a message, and the attributes of
// those it words, pass unchanged.
func TestConnLogKeepsOthers(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(&connLog{next: slog.NewTextHandler(&buf, nil), closing: new(atomic.Bool)}).With("component", "broker")
	log.Info("mochi mqtt starting", "version", "2.7.9")
	log.Warn("", "error", packets.ErrBadUsernameOrPassword)
	log.Warn("", "error", io.EOF) // debug: below the handler's level
	got := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(got) != 2 ||
		!strings.Contains(got[0], `level=INFO msg="mochi mqtt starting" component=broker version=2.7.9`) ||
		!strings.Contains(got[1], `level=WARN msg="mqtt client refused`) || !strings.Contains(got[1], `component=broker error="bad username or password"`) {
		t.Errorf("logged:\n%s", buf.String())
	}
}
