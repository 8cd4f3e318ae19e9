package feedpoll

import (
	"testing"
	"time"
)

func TestBackoff(t *testing.T) {
	for n, want := range map[int]time.Duration{0: 15 * time.Second, 1: 15 * time.Second, 2: 30 * time.Second, 3: time.Minute, 6: MaxBackoff, 60: MaxBackoff} {
		if got := Backoff(15*time.Second, n); got != want {
			t.Errorf("backoff after %d failures: %v, want %v", n, got, want)
		}
	}
}
