package mqttconn

import (
	"bytes"
	"errors"
	"log/slog"
	"net/url"
	"strings"
	"testing"

	mqtt "github.com/eclipse/paho.mqtt.golang"
)

// TestFailureLogger: a failing connection is logged when it starts failing
// and when the reason changes, not at every retry.
func TestFailureLogger(t *testing.T) {
	var buf bytes.Buffer
	h := failureLogger(slog.New(slog.NewTextHandler(&buf, nil)))
	refused := mqtt.ConnectionNotificationFailed{Reason: errors.New("not Authorized")}
	for range 5 {
		h(nil, refused)
	}
	h(nil, mqtt.ConnectionNotificationFailed{Reason: errors.New("connection refused")})
	h(nil, mqtt.ConnectionNotificationConnected{})
	h(nil, refused)
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 3 {
		t.Fatalf("logged %d lines, want 3 (start, new reason, after reconnecting):\n%s", len(lines), buf.String())
	}
	for i, want := range []string{"not Authorized", "connection refused", "not Authorized"} {
		if !strings.Contains(lines[i], "mqtt connect failed") || !strings.Contains(lines[i], want) {
			t.Errorf("line %d %q, want the failure and %q", i, lines[i], want)
		}
	}
	if !strings.Contains(lines[1], "attempts=6") || !strings.Contains(lines[2], "attempts=1") {
		t.Errorf("attempt counts wrong:\n%s", buf.String())
	}
}

// TestLastTried: after a lost connection the broker it was on is tried
// last.
func TestLastTried(t *testing.T) {
	var us []*url.URL
	for _, s := range []string{"tcp://a:1883", "tcp://b:1883", "tcp://c:1883"} {
		u, _ := url.Parse(s)
		us = append(us, u)
	}
	str := func(us []*url.URL) string {
		var out []string
		for _, u := range us {
			out = append(out, u.Host)
		}
		return strings.Join(out, ",")
	}
	for _, c := range []struct {
		last *url.URL
		want string
	}{
		{us[0], "b:1883,c:1883,a:1883"},
		{us[1], "a:1883,c:1883,b:1883"},
		{us[2], "a:1883,b:1883,c:1883"},
		{nil, "a:1883,b:1883,c:1883"},
	} {
		if got := str(lastTried(us, c.last)); got != c.want {
			t.Errorf("last %v: %s, want %s", c.last, got, c.want)
		}
	}
	if str(us) != "a:1883,b:1883,c:1883" {
		t.Errorf("lastTried changed its argument: %s", str(us))
	}
}
