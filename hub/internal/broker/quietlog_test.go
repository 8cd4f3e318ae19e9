package broker

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"
)

func TestQuietLog(t *testing.T) {
	var buf bytes.Buffer
	now := time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC)
	log := slog.New(newQuiet(slog.NewTextHandler(&buf, nil), time.Minute, func() time.Time { return now }))
	for range 60 {
		log.Warn("", "error", "bad username or password")
		log.Info("client connected") // below Warn: always passed
		now = now.Add(time.Second)
	}
	log.Warn("", "error", "connection reset")
	log.Warn("", "error", "bad username or password") // a minute on: passed, with the count
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	var warns []string
	for _, l := range lines {
		if strings.Contains(l, "WARN") {
			warns = append(warns, l)
		}
	}
	if len(lines)-len(warns) != 60 {
		t.Errorf("%d info lines, want 60", len(lines)-len(warns))
	}
	if len(warns) != 3 || !strings.Contains(warns[1], "connection reset") || !strings.Contains(warns[2], "repeated=59") {
		t.Errorf("warnings:\n%s\nwant the first refusal, the reset, and the refusal again with repeated=59", strings.Join(warns, "\n"))
	}
}
