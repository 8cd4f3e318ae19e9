package gps

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/headway-transit/headway/drivers/nmea"
)

// Backoff between attempts to (re)open the port: it doubles from
// minBackoff to maxBackoff, and starts over once a session has read data.
const (
	minBackoff = 100 * time.Millisecond
	maxBackoff = 2 * time.Second
)

// Config configures a Receiver.
type Config struct {
	Path   string // device path, e.g. /dev/ttyUSB0 or a PTY symlink
	Baud   int    // e.g. 9600; 0 means DefaultBaud (auto-baud comes later)
	Logger *slog.Logger
}

// Stats describes a Receiver's work over all its sessions.
type Stats struct {
	Bytes      uint64            // bytes read from the port
	Sentences  map[string]uint64 // decoded sentences by type, e.g. "RMC"
	Ignored    map[string]uint64 // well-formed sentences not decoded, by type
	Rejects    map[string]uint64 // malformed lines by reason, e.g. "checksum"
	Reconnects uint64            // times the port was opened again after the first open
	Connected  bool              // the port is open now
	LastFix    time.Time         // GPS time of the last fix delivered; zero if none
}

// Receiver reads fixes from a GPS receiver on a serial port.
type Receiver struct {
	path string
	baud int
	log  *slog.Logger

	// open and after are replaceable in tests of this package.
	open  func(path string, baud int) (io.ReadWriteCloser, error)
	after func(time.Duration) <-chan time.Time

	mu      sync.Mutex
	done    nmea.Stats    // counts of finished sessions
	dec     *nmea.Decoder // current session's decoder, nil when closed
	opened  uint64        // successful opens
	lastFix time.Time
}

// New returns a Receiver for cfg. It does not touch the port until Run.
func New(cfg Config) *Receiver {
	baud := cfg.Baud
	if baud == 0 {
		baud = DefaultBaud
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Receiver{
		path:  cfg.Path,
		baud:  baud,
		log:   log.With("component", "gps", "port", cfg.Path),
		open:  Open,
		after: time.After,
	}
}

// Run opens the port, decodes NMEA and sends to out each fix that has a
// position and a time. The send blocks, so a slow consumer slows the
// reading, but Run still returns when ctx is done. When the port cannot be
// opened, reaches EOF or fails (the receiver was unplugged), Run closes it
// and tries again with backoff. Run returns nil once ctx is done.
func (r *Receiver) Run(ctx context.Context, out chan<- nmea.Fix) error {
	backoff := minBackoff
	for {
		progressed, err := r.session(ctx, out)
		if ctx.Err() != nil {
			return nil
		}
		if progressed {
			backoff = minBackoff
		}
		r.log.Warn("gps port lost, retrying", "err", err, "retry_in", backoff)
		select {
		case <-ctx.Done():
			return nil
		case <-r.after(backoff):
		}
		backoff = min(2*backoff, maxBackoff)
	}
}

// session reads from one opening of the port until it fails or ctx is
// done. progressed reports whether any byte was read.
func (r *Receiver) session(ctx context.Context, out chan<- nmea.Fix) (progressed bool, err error) {
	port, err := r.open(r.path, r.baud)
	if err != nil {
		return false, err
	}
	// Closing the port is the only way to cancel a blocked read.
	var closeOnce sync.Once
	closePort := func() { closeOnce.Do(func() { _ = port.Close() }) }
	stop := context.AfterFunc(ctx, closePort)
	defer func() {
		stop()
		closePort()
	}()

	dec := nmea.NewDecoder(port)
	r.mu.Lock()
	r.opened++
	reconnect := r.opened > 1
	r.dec = dec
	r.mu.Unlock()
	defer func() {
		// Runs after the return statement, so it sets the result.
		s := dec.Stats()
		progressed = s.Bytes > 0
		r.mu.Lock()
		r.done.Add(s)
		r.dec = nil
		r.mu.Unlock()
	}()
	r.log.Info("gps port open", "baud", r.baud, "reconnect", reconnect)

	for {
		fix, err := dec.Next()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return false, fmt.Errorf("read %s: end of input", r.path)
			}
			return false, fmt.Errorf("read %s: %w", r.path, err)
		}
		if !fix.HasPosition() || fix.Time.IsZero() {
			continue
		}
		select {
		case out <- fix:
		case <-ctx.Done():
			return false, ctx.Err()
		}
		r.mu.Lock()
		r.lastFix = fix.Time
		r.mu.Unlock()
	}
}

// Stats returns the counts so far. It is safe for concurrent use, also
// while Run is running.
func (r *Receiver) Stats() Stats {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := r.done.Clone()
	if r.dec != nil {
		n.Add(r.dec.Stats())
	}
	var reconnects uint64
	if r.opened > 1 {
		reconnects = r.opened - 1
	}
	return Stats{
		Bytes:      n.Bytes,
		Sentences:  n.Sentences,
		Ignored:    n.Ignored,
		Rejects:    n.Rejects,
		Reconnects: reconnects,
		Connected:  r.dec != nil,
		LastFix:    r.lastFix,
	}
}
