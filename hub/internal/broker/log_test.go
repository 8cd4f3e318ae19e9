package broker

import (
	"bytes"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
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

// TestRefusedLoginWarns: a refused login is a warning that says what to
// check and where the client is, logged once however often the client
// retries.
func TestRefusedLoginWarns(t *testing.T) {
	log := newLogBuf()
	b := start(t, Options{Addr: "127.0.0.1:0", Logger: log.logger(),
		Users: []User{{Username: "bus-1", Password: "bus-1-secret-pw", Role: RoleVehicle}}})
	const refused = `level=WARN msg="mqtt client refused: check its username and password against mqtt.users`
	for range 5 {
		if _, err := connect(t, connectOpts(b, "bus-1", "bus-1", "wrong-password")); err == nil {
			t.Fatal("wrong password let in")
		}
	}
	log.waitFor(t, refused, 1)
	if _, err := connect(t, connectOpts(b, "bus-1", "bus-1", "bus-1-secret-pw")); err != nil {
		t.Fatalf("right password refused: %v", err)
	}
	if n := log.count(refused); n != 1 {
		t.Errorf("%d refusals logged for 5 in a row, want 1:\n%s", n, strings.Join(log.lines(), "\n"))
	}
	if logins, _ := b.Refused(); logins != 5 {
		t.Errorf("%d refused logins counted, want 5", logins)
	}
	for _, line := range log.lines() {
		if strings.Contains(line, refused) && (!strings.Contains(line, "remote=127.0.0.1 ") || !strings.Contains(line, "component=broker")) {
			t.Errorf("refusal %q does not name the client's address and the broker", line)
		}
	}
}

// TestShutdownQuiet: closing the broker with clients connected logs no
// warning or error.
func TestShutdownQuiet(t *testing.T) {
	log := newLogBuf()
	b, err := Start(Options{Addr: "127.0.0.1:0", Logger: log.logger()})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		c := mqtt.NewClient(connectOpts(b, fmt.Sprintf("bus-%d", i), "", ""))
		if tok := c.Connect(); !tok.WaitTimeout(wait) || tok.Error() != nil {
			t.Fatalf("connect: %v", tok.Error())
		}
		t.Cleanup(func() { c.Disconnect(0) })
	}
	// One that leaves cleanly before the shutdown, one TCP probe.
	leaver := mqtt.NewClient(connectOpts(b, "leaver", "", ""))
	if tok := leaver.Connect(); !tok.WaitTimeout(wait) || tok.Error() != nil {
		t.Fatalf("connect: %v", tok.Error())
	}
	leaver.Disconnect(100)
	probe, err := net.Dial("tcp", b.Addr())
	if err != nil {
		t.Fatal(err)
	}
	_ = probe.Close()
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	for _, line := range log.lines() {
		if strings.Contains(line, "level=WARN") || strings.Contains(line, "level=ERROR") || strings.Contains(line, `msg=""`) {
			t.Errorf("logged %s", line)
		}
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
			_, port, _ := net.SplitHostPort(b.Addr())
			o := connectOpts(b, "c", "bus-1", "bus-1-secret-pw")
			o.Servers = nil
			o.AddBroker("tcp://" + net.JoinHostPort("127.0.0.1", port))
			cl := mqtt.NewClient(o)
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
			for _, line := range log.lines() {
				if !strings.Contains(line, warning) {
					continue
				}
				for _, want := range []string{"level=WARN", warning + b.Addr() + ":", "set mqtt.users", "listen on 127.0.0.1", "component=broker"} {
					if !strings.Contains(line, want) {
						t.Errorf("warning %q does not say %q", line, want)
					}
				}
			}
		})
	}
}

func TestParseClientLine(t *testing.T) {
	for _, c := range []struct {
		line, msg string
		attrs     []any
	}{
		{`127.0.0.1:51234 - mid:7 - "bus-2" - authentication error`, "mqtt client refused: check its username and password against mqtt.users or mqtt.vehicles (authentication error)",
			[]any{"remote", "127.0.0.1", "client", "bus-2"}},
		{`127.0.0.1:51235 - mid:8 - "bus-1" - Publish Violation - Subject "headway.v1.vehicles.bus-9.position"`,
			`mqtt client kept to its role's topics: Publish Violation - Subject "headway.v1.vehicles.bus-9.position"`,
			[]any{"remote", "127.0.0.1", "client", "bus-1"}},
		{`[::1]:4000 - cid:12 - Slow Consumer Detected`, "Slow Consumer Detected", []any{"remote", "::1"}},
		{`Server is ready`, "Server is ready", nil},
		{`JetStream cluster - a - b`, "JetStream cluster - a - b", nil},
	} {
		msg, attrs := parse(c.line)
		if msg != c.msg || fmt.Sprint(attrs) != fmt.Sprint(c.attrs) {
			t.Errorf("parse(%q) = %q %v, want %q %v", c.line, msg, attrs, c.msg, c.attrs)
		}
	}
}
