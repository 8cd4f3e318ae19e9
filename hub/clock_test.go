package main

import (
	"strings"
	"testing"
	"time"
)

func TestHubClock(t *testing.T) {
	now, err := hubClock("", 1)
	if err != nil || now().Sub(time.Now()).Abs() > time.Second {
		t.Fatalf("the real clock: %v, %v", now(), err)
	}
	start := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	now, err = hubClock(start.Format(time.RFC3339), 100)
	if err != nil {
		t.Fatal(err)
	}
	a := now()
	time.Sleep(20 * time.Millisecond)
	b := now()
	// 20 ms of real time later the simulated clock is at least 2 s on,
	// and it started at start (however slow the machine, not hours on).
	if a.Before(start) || a.After(start.Add(time.Hour)) || b.Sub(a) < 2*time.Second {
		t.Errorf("-clock %v -clock-rate 100: %v then, 20 ms later, %v", start, a, b)
	}
	for _, c := range []struct {
		start string
		rate  float64
		want  string
	}{
		{"", 10, "needs -clock"},
		{"noon", 1, "RFC 3339"},
		{"2026-12-06T12:00:00Z", 0, "above 0"},
		{"2026-12-06T12:00:00Z", -3, "above 0"},
		{"2026-12-06T12:00:00Z", 1e6, "at most 1000"},
	} {
		if _, err := hubClock(c.start, c.rate); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("hubClock(%q, %v): %v, want an error saying %q", c.start, c.rate, err, c.want)
		}
	}
}
