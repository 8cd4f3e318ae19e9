package faults

import (
	"bytes"
	"testing"
	"time"

	"github.com/headway-transit/headway/internal/yamlconf"
)

func TestGarble(t *testing.T) {
	src := []byte("$GPRMC,070001.000,A,4423.27400,N,00852.86600,E,19.438,70.00,271126,,,A*6B\r\n")
	if got := Garble(nil, src, 9600, 9600); !bytes.Equal(got, src) {
		t.Errorf("same rate changed the bytes: %q", got)
	}
	for _, tt := range []struct {
		name     string
		tx, rx   int
		min, max int // bytes read, as a fraction of those sent: min/8..max/8
	}{
		// A faster receiver splits each frame into several bytes; a slower
		// one swallows several frames per byte.
		{"receiver 2x fast", 4800, 9600, 8, 24},
		{"receiver 4x slow", 38400, 9600, 1, 4},
		{"receiver 12x slow", 115200, 9600, 0, 2},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := Garble(nil, src, tt.tx, tt.rx)
			if n := len(got) * 8 / len(src); n < tt.min || n > tt.max {
				t.Errorf("%d bytes read for %d sent", len(got), len(src))
			}
			if bytes.Contains(got, []byte("GPRMC")) {
				t.Errorf("sentence survived: %q", got)
			}
			if again := Garble(nil, src, tt.tx, tt.rx); !bytes.Equal(again, got) {
				t.Error("not deterministic")
			}
		})
	}
}

// A byte whose frame is read at half the bit time: 0xFF is a start bit
// then marks, so a receiver twice as fast sees the start bit as two
// spaces (bit 0 of its byte is the second half of the start bit) then
// marks.
func TestGarbleKnownByte(t *testing.T) {
	got := Garble(nil, []byte{0xFF}, 4800, 9600)
	if len(got) != 1 || got[0] != 0xFE {
		t.Errorf("0xFF at 4800 read at 9600 = % X, want FE", got)
	}
}

func TestEventSchedule(t *testing.T) {
	c := Config{FixLoss: EventFault{Enabled: true, At: []yamlconf.Duration{yamlconf.Duration(3 * time.Second)}, Duration: yamlconf.Duration(2 * time.Second)}}
	in, err := New(c, 1, 9600)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var got []bool
	for i := range 8 {
		got = append(got, in.Epoch(t0.Add(time.Duration(i)*time.Second), time.Second).FixLoss)
	}
	want := []bool{false, false, false, true, true, false, false, false}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("fix loss by epoch %v, want %v", got, want)
		}
	}
	if in.Counts()[FixLoss] != 1 {
		t.Errorf("counts %v", in.Counts())
	}
}

// A rate per hour gives about that many events.
func TestPerHour(t *testing.T) {
	c := Config{Multipath: Multipath{EventFault: EventFault{Enabled: true, PerHour: 60}}}
	in, _ := New(c, 3, 9600)
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 10 * 3600 {
		in.Epoch(t0.Add(time.Duration(i)*time.Second), time.Second)
	}
	if n := in.Counts()[MultipathJ]; n < 500 || n > 700 {
		t.Errorf("%d multipath events in 10 h at 60/h", n)
	}
}
