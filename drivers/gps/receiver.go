package gps

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/headway-transit/headway/drivers/nmea"
)

// Backoff between attempts to (re)open the port: it doubles from
// minBackoff to maxBackoff, and starts over once a connection has
// delivered a checksummed sentence. The cap is what bounds the time from a
// receiver coming back to reading it again: at most maxBackoff plus one
// open.
const (
	minBackoff = 100 * time.Millisecond
	maxBackoff = 2 * time.Second
)

// errWrongBaud ends a session whose rate produced no checksummed sentences.
var errWrongBaud = errors.New("no checksummed sentences at this baud rate")

// Config configures a Receiver.
type Config struct {
	Path   string // device path, e.g. /dev/ttyUSB0 or a PTY symlink
	Baud   int    // a fixed rate such as 9600, or Auto (0) to hunt for it
	Logger *slog.Logger
}

// Receiver reads fixes from a GPS receiver on a serial port.
type Receiver struct {
	path string
	baud int // fixed rate, or Auto
	log  *slog.Logger

	// Replaceable in tests of this package.
	open   func(path string, baud int) (io.ReadWriteCloser, error)
	after  func(time.Duration) <-chan time.Time
	now    func() time.Time
	window time.Duration // probeWindow

	mu        sync.Mutex
	done      nmea.Stats    // counts of finished sessions
	dec       *nmea.Decoder // current session's decoder, nil when closed
	connects  uint64        // connections: first successful opens after a loss
	portBaud  int           // rate of the open (or last opened) port
	hunting   bool          // Auto, and portBaud is not confirmed yet
	lastGood  int           // Auto: the rate last confirmed by sentences
	latest    nmea.Fix      // last epoch decoded, with or without a position
	latestAt  time.Time
	lastFix   time.Time // GPS time of the last fix delivered
	lastFixAt time.Time // wall-clock time it was received
	lastErr   string    // why the port was last lost or could not be opened
	sky
}

// New returns a Receiver for cfg. It does not touch the port until Run.
func New(cfg Config) *Receiver {
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Receiver{
		path:   cfg.Path,
		baud:   cfg.Baud,
		log:    log.With("component", "gps", "port", cfg.Path),
		open:   Open,
		after:  time.After,
		now:    time.Now,
		window: probeWindow,
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
		progressed, err := r.connect(ctx, out)
		if ctx.Err() != nil {
			return nil
		}
		if progressed {
			backoff = minBackoff
		}
		r.log.Warn("gps port lost, retrying", "err", err, "retry_in", backoff)
		r.mu.Lock()
		r.lastErr = err.Error()
		r.mu.Unlock()
		select {
		case <-ctx.Done():
			return nil
		case <-r.after(backoff):
		}
		backoff = min(2*backoff, maxBackoff)
	}
}

// connect reads the receiver until the port is lost. With Auto it tries
// the rates in huntOrder until one delivers checksummed sentences, and
// hunts again if they stop checking out. progressed reports whether any
// checksummed sentence was read.
func (r *Receiver) connect(ctx context.Context, out chan<- nmea.Fix) (progressed bool, err error) {
	var c connection
	if r.baud != Auto {
		return r.session(ctx, out, r.baud, &c)
	}
	r.mu.Lock()
	order := huntOrder(r.lastGood)
	r.mu.Unlock()
	for _, baud := range order {
		p, err := r.session(ctx, out, baud, &c)
		progressed = progressed || p
		if !errors.Is(err, errWrongBaud) || ctx.Err() != nil {
			return progressed, err
		}
		r.log.Debug("wrong baud rate", "baud", baud)
	}
	return progressed, fmt.Errorf("read %s: no checksummed NMEA at any of %v baud (is it a GPS receiver, and is it sending NMEA?)", r.path, Rates())
}

// connection is one connect call's state across its sessions.
type connection struct{ opened bool }

// session reads from one opening of the port at baud until it fails, ctx
// is done or, when hunting, the rate proves wrong. progressed reports
// whether any checksummed sentence was read.
func (r *Receiver) session(ctx context.Context, out chan<- nmea.Fix, baud int, c *connection) (progressed bool, err error) {
	port, err := r.open(r.path, baud)
	if err != nil {
		return false, err
	}
	// Closing the port is the only way to cancel a blocked read.
	var closeOnce sync.Once
	closePort := func() { closeOnce.Do(func() { _ = port.Close() }) }
	stop := context.AfterFunc(ctx, closePort)

	dec := nmea.NewDecoder(port)
	hunt := r.baud == Auto
	r.mu.Lock()
	if !c.opened {
		c.opened = true
		r.connects++
	}
	reconnect := r.connects > 1
	r.dec = dec
	r.portBaud = baud
	r.hunting = hunt
	r.mu.Unlock()

	var wrongBaud, confirmed atomic.Bool
	confirm := func() {
		if confirmed.CompareAndSwap(false, true) {
			r.mu.Lock()
			r.lastGood, r.hunting = baud, false
			r.mu.Unlock()
			r.log.Info("baud rate detected", "baud", baud)
		}
	}
	watchDone := make(chan struct{})
	var wg sync.WaitGroup
	if hunt {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if r.watch(dec, &confirmed, confirm, baud, watchDone) {
				wrongBaud.Store(true)
				closePort()
			}
		}()
	}
	defer func() {
		// Runs after the return statement, so it sets the results.
		close(watchDone)
		wg.Wait()
		stop()
		closePort()
		s := dec.Stats()
		progressed = checked(s) > 0
		r.mu.Lock()
		r.done.Add(s)
		r.sky.keep(dec)
		r.dec = nil
		r.hunting = false
		r.mu.Unlock()
		if wrongBaud.Load() && ctx.Err() == nil {
			err = fmt.Errorf("read %s at %d baud: %w", r.path, baud, errWrongBaud)
		}
	}()
	r.log.Info("gps port open", "baud", baud, "hunting", hunt, "reconnect", reconnect)

	for {
		fix, err := dec.Next()
		r.epoch(fix, err == nil)
		if hunt && err == nil && !confirmed.Load() && checked(dec.Stats()) >= probeSentences {
			confirm() // no need to wait for the end of the window
		}
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
	}
}

// epoch records the result of a call of dec.Next: the fix when ok.
func (r *Receiver) epoch(fix nmea.Fix, ok bool) {
	if !ok {
		return
	}
	now := r.now()
	r.mu.Lock()
	defer r.mu.Unlock()
	r.latest, r.latestAt = fix, now
	if fix.HasPosition() && !fix.Time.IsZero() {
		r.lastFix, r.lastFixAt = fix.Time, now
	}
}

// watch checks dec's counts every window while the port is open at baud
// and reports true when the rate looks wrong: before it is confirmed, a
// window without a new checksummed sentence; after, a window with rejects
// but no checksummed sentence (the receiver was reconfigured, or another
// one plugged in). A silent port is not a wrong rate: it is left alone.
func (r *Receiver) watch(dec *nmea.Decoder, confirmed *atomic.Bool, confirm func(), baud int, done <-chan struct{}) bool {
	var prevChecked, prevRejects uint64
	for {
		select {
		case <-done:
			return false
		case <-r.after(r.window):
		}
		s := dec.Stats()
		n, rejects := checked(s), sum(s.Rejects)
		switch {
		// A decoded fix counts too: with a consumer that is slow to take
		// it, the session may be blocked sending it and read nothing more.
		case !confirmed.Load() && (n >= probeSentences || s.Fixes > 0):
			confirm()
		case !confirmed.Load() && n == prevChecked:
			return true
		case confirmed.Load() && n == prevChecked && rejects > prevRejects:
			r.log.Warn("sentences stopped checking out: hunting for the baud rate again", "baud", baud)
			return true
		}
		prevChecked, prevRejects = n, rejects
	}
}

// checked counts the sentences that passed their checksum, decoded or not.
func checked(s nmea.Stats) uint64 { return sum(s.Sentences) + sum(s.Ignored) }

func sum(m map[string]uint64) uint64 {
	var n uint64
	for _, v := range m {
		n += v
	}
	return n
}
