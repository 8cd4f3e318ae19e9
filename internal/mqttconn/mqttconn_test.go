package mqttconn

import (
	"bytes"
	"errors"
	"log/slog"
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
