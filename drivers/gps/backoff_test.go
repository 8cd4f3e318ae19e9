package gps

import (
	"context"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/headway-transit/headway/drivers/nmea"
)

type readCloser struct{ io.Reader }

func (readCloser) Write(p []byte) (int, error) { return len(p), nil }
func (readCloser) Close() error                { return nil }

// TestReceiverBackoff runs Run on a fake port and a fake clock: the wait
// doubles up to maxBackoff and starts over after a session that read data.
func TestReceiverBackoff(t *testing.T) {
	ms := time.Millisecond
	epoch := string(nmea.AppendRMC(nil, "GP", nmea.Fix{
		Time: time.Date(2026, 11, 27, 7, 0, 0, 0, time.UTC), Mode: nmea.Mode2D, Lat: 1, Lon: 2, Sats: -1,
	}))
	tests := []struct {
		name  string
		good  int // which open succeeds (1-based), 0 for none
		waits int
		want  []time.Duration
	}{
		{name: "never opens", waits: 7, want: []time.Duration{100 * ms, 200 * ms, 400 * ms, 800 * ms, 1600 * ms, 2000 * ms, 2000 * ms}},
		{name: "resets after data", good: 3, waits: 5, want: []time.Duration{100 * ms, 200 * ms, 100 * ms, 200 * ms, 400 * ms}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			r := New(Config{Path: "/dev/fake", Baud: 9600})
			opens := 0
			r.open = func(string, int) (io.ReadWriteCloser, error) {
				opens++
				if opens == tt.good {
					return readCloser{strings.NewReader(epoch)}, nil
				}
				return nil, errors.New("no such device")
			}
			var waits []time.Duration
			r.after = func(d time.Duration) <-chan time.Time {
				waits = append(waits, d)
				if len(waits) == tt.waits {
					cancel()
				}
				c := make(chan time.Time, 1)
				c <- time.Time{}
				return c
			}
			out := make(chan nmea.Fix, 10)
			if err := r.Run(ctx, out); err != nil {
				t.Fatalf("Run = %v", err)
			}
			if !slices.Equal(waits, tt.want) {
				t.Errorf("waits = %v, want %v", waits, tt.want)
			}
			if tt.good > 0 && len(out) != 1 {
				t.Errorf("got %d fixes, want 1", len(out))
			}
		})
	}
}
