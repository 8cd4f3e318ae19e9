package gps

import (
	"io"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/headway-transit/headway/drivers/nmea"
)

func TestParseBaud(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    int
		wantErr bool
	}{
		{name: "auto", in: "auto", want: Auto},
		{name: "AUTO", in: "AUTO", want: Auto},
		{name: "empty", in: "", want: Auto},
		{name: "4800", in: "4800", want: 4800},
		{name: "115200", in: " 115200 ", want: 115200},
		{name: "nonstandard", in: "1200", wantErr: true},
		{name: "word", in: "fast", wantErr: true},
		{name: "negative", in: "-9600", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseBaud(tt.in)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Errorf("ParseBaud(%q) = %d, %v; want %d, error %v", tt.in, got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestHuntOrder(t *testing.T) {
	tests := []struct {
		name     string
		lastGood int
		want     []int
	}{
		{name: "first hunt", lastGood: 0, want: []int{9600, 4800, 19200, 38400, 57600, 115200}},
		{name: "last good first", lastGood: 38400, want: []int{38400, 4800, 9600, 19200, 57600, 115200}},
		{name: "slowest", lastGood: 4800, want: []int{4800, 9600, 19200, 38400, 57600, 115200}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := huntOrder(tt.lastGood); !slices.Equal(got, tt.want) {
				t.Errorf("huntOrder(%d) = %v, want %v", tt.lastGood, got, tt.want)
			}
		})
	}
}

// fakeLine is a serial line to a receiver that talks at rate: a port
// opened at that rate reads NMEA, at any other rate the framing noise a
// UART produces at a wrong rate. It stands in for the port opener, since a
// PTY ignores the rate.
type fakeLine struct {
	tb   testing.TB
	rate atomic.Int64

	mu    sync.Mutex
	opens []int // rates the ports were opened at, in order
	cur   *io.PipeWriter
	wg    sync.WaitGroup
}

func newFakeLine(tb testing.TB, rate int) *fakeLine {
	l := &fakeLine{tb: tb}
	l.rate.Store(int64(rate))
	tb.Cleanup(l.wg.Wait) // after the Receiver stopped and closed the port
	return l
}

func (l *fakeLine) open(_ string, baud int) (io.ReadWriteCloser, error) {
	pr, pw := io.Pipe()
	l.mu.Lock()
	l.opens = append(l.opens, baud)
	l.cur = pw
	l.mu.Unlock()
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		noise := rand.New(rand.NewPCG(uint64(baud), 1))
		start := time.Date(2026, 11, 27, 7, 0, 0, 0, time.UTC)
		var buf []byte
		for i := 0; ; i++ {
			buf = buf[:0]
			if int64(baud) == l.rate.Load() {
				f := nmea.Fix{Time: start.Add(time.Duration(i) * time.Second), Mode: nmea.Mode3D,
					Lat: 48.1173, Lon: 11.5167, AltMSL: 545.4, AltHAE: 592.3, Speed: 5, Track: 90, HDOP: 0.9, Sats: 8}
				buf = nmea.AppendRMC(buf, "GP", f)
				buf = nmea.AppendGGA(buf, "GP", f)
			} else {
				for range 70 {
					buf = append(buf, byte(noise.UintN(256)))
				}
				buf = append(buf, '\r', '\n')
			}
			if _, err := pw.Write(buf); err != nil {
				return // the Receiver closed the port, or the line was cut
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()
	return readWriteCloser{pr}, nil
}

// unplug ends the current port's input with EOF.
func (l *fakeLine) unplug() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.cur.Close()
}

func (l *fakeLine) openedAt() []int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.opens)
}

type readWriteCloser struct{ *io.PipeReader }

func (readWriteCloser) Write(p []byte) (int, error) { return len(p), nil }

// startFakeReceiver runs a Receiver in Auto on l, with a short probe
// window: the fake line talks every 5 ms, so 100 ms holds many sentences.
func startFakeReceiver(tb testing.TB, l *fakeLine) *run {
	tb.Helper()
	rn := startReceiver(tb, Config{Path: "/dev/fake", Baud: Auto}, func(r *Receiver) {
		r.open = l.open
		r.window = 100 * time.Millisecond
	})
	return rn
}

// drain consumes the fixes in the background, as the vehicle agent does,
// so that the Receiver never blocks sending; tests then watch Stats.
func (rn *run) drain(tb testing.TB) {
	done := make(chan struct{})
	stop := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-rn.out:
			case <-stop:
				return
			}
		}
	}()
	tb.Cleanup(func() {
		close(stop)
		<-done
	})
}

// upTo returns s up to and including the first want.
func upTo(s []int, want int) []int {
	if i := slices.Index(s, want); i >= 0 {
		return s[:i+1]
	}
	return s
}

// TestAutoBaudDetects checks the hunt against receivers at each rate: the
// rates are tried in order, the right one is reported and fixes flow.
func TestAutoBaudDetects(t *testing.T) {
	tests := []struct {
		name  string
		rate  int
		tries []int // opens up to the right rate
	}{
		{name: "9600 first try", rate: 9600, tries: []int{9600}},
		{name: "4800", rate: 4800, tries: []int{9600, 4800}},
		{name: "38400", rate: 38400, tries: []int{9600, 4800, 19200, 38400}},
		{name: "115200 last", rate: 115200, tries: []int{9600, 4800, 19200, 38400, 57600, 115200}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := newFakeLine(t, tt.rate)
			rn := startFakeReceiver(t, l)
			f := rn.waitFix(t, time.Time{})
			if !f.HasPosition() {
				t.Errorf("fix = %+v, want a position", f)
			}
			s := waitStats(t, rn.r, "rate detected", func(s Stats) bool { return s.Detected != 0 })
			if s.Detected != tt.rate || s.Baud != tt.rate || !s.AutoBaud || s.Hunting || !s.Connected {
				t.Errorf("Detected, Baud, AutoBaud, Hunting, Connected = %d, %d, %v, %v, %v; want %d, %[6]d, true, false, true",
					s.Detected, s.Baud, s.AutoBaud, s.Hunting, s.Connected, tt.rate)
			}
			// Under heavy load a probe at the right rate could miss its
			// window and the hunt go round again: compare the first round.
			if got := upTo(l.openedAt(), tt.rate); !slices.Equal(got, tt.tries) {
				t.Errorf("opened at %v, want %v", got, tt.tries)
			}
			if len(tt.tries) > 1 && s.Rejects[nmea.ReasonGarbage]+s.Rejects[nmea.ReasonChecksum] == 0 {
				t.Errorf("Rejects = %v, want the noise at wrong rates counted", s.Rejects)
			}
			if s.Reconnects != 0 {
				t.Errorf("Reconnects = %d, want 0: trying rates is not reconnecting", s.Reconnects)
			}
		})
	}
}

// TestAutoBaudLastGoodFirst unplugs a receiver found at 38400: the next
// connection tries 38400 first, so it is read again without a new hunt.
func TestAutoBaudLastGoodFirst(t *testing.T) {
	l := newFakeLine(t, 38400)
	rn := startFakeReceiver(t, l)
	rn.drain(t)
	waitStats(t, rn.r, "rate detected", func(s Stats) bool { return s.Detected == 38400 })
	before := len(l.openedAt())
	l.unplug()
	waitStats(t, rn.r, "reconnected", func(s Stats) bool { return s.Reconnects == 1 && s.Connected })
	if got := l.openedAt()[before]; got != 38400 {
		t.Errorf("reopened at %d, want the last good rate 38400 first (opens %v)", got, l.openedAt())
	}
}

// TestAutoBaudRehunts changes the receiver's rate under a running
// Receiver, as a technician reconfiguring it would: the sentences stop
// checking out and the hunt finds the new rate.
func TestAutoBaudRehunts(t *testing.T) {
	l := newFakeLine(t, 9600)
	rn := startFakeReceiver(t, l)
	rn.drain(t)
	waitStats(t, rn.r, "rate detected", func(s Stats) bool { return s.Detected == 9600 })
	l.rate.Store(57600)
	s := waitStats(t, rn.r, "new rate detected", func(s Stats) bool { return s.Detected == 57600 && !s.Hunting })
	if s.Baud != 57600 {
		t.Errorf("Baud = %d, want 57600", s.Baud)
	}
}

// TestAutoBaudSilent checks that a port that opens but never yields a
// checksummed sentence is swept, then retried with backoff, and never
// reported as detected.
func TestAutoBaudSilent(t *testing.T) {
	l := newFakeLine(t, 1200) // a rate the hunt never tries
	rn := startFakeReceiver(t, l)
	waitStats(t, rn.r, "two sweeps", func(Stats) bool { return len(l.openedAt()) >= 2*len(Rates()) })
	s := rn.r.Stats()
	if s.Detected != 0 || s.LastError == "" {
		t.Errorf("Detected, LastError = %d, %q; want 0 and why", s.Detected, s.LastError)
	}
	if got, want := l.openedAt()[:len(Rates())], huntOrder(0); !slices.Equal(got, want) {
		t.Errorf("first sweep opened at %v, want %v", got, want)
	}
}
