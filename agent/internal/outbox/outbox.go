// Package outbox is the vehicle agent's store-and-forward queue: every fix
// the agent accepts is numbered and committed to a bbolt file before it is
// published, and leaves only when the broker has acknowledged it. A tunnel,
// a broker restart or a power cut therefore loses nothing that was accepted.
//
// The outbox is bounded by count and by age; what it drops to stay inside
// its bounds is counted, never silently lost.
package outbox

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/headway-transit/headway/agent/internal/boltfile"
	"github.com/headway-transit/headway/internal/wire"
)

var (
	bucketFixes = []byte("fixes")
	bucketMeta  = []byte("meta")
	keyNextSeq  = []byte("next_seq")
)

// Options bound the outbox.
type Options struct {
	MaxFixes int           // oldest fixes beyond this count are dropped
	MaxAge   time.Duration // fixes older than this (by fix time) are dropped by Prune
	Logger   *slog.Logger
}

// Outbox is an open outbox. Its methods are safe for concurrent use.
type Outbox struct {
	db   *bolt.DB
	path string
	opts Options
	log  *slog.Logger

	mu      sync.Mutex
	next    uint64 // seq the next Append gets
	count   int
	dropped uint64
}

// Open opens or creates the outbox at path. A corrupt file is moved aside
// and reported (boltfile), and numbering starts again at 1: the hub sees
// the restart as a vehicle whose outbox was reset.
func Open(path string, o Options) (*Outbox, error) {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.MaxFixes <= 0 {
		return nil, errors.New("outbox: MaxFixes must be positive")
	}
	db, err := boltfile.Open(path, "outbox", o.Logger, bucketFixes, bucketMeta)
	if err != nil {
		if errors.Is(err, boltfile.ErrLocked) {
			return nil, fmt.Errorf("%w (is another vehicle agent running? stop it or set outbox.path to another file)", err)
		}
		return nil, err
	}
	ob := &Outbox{db: db, path: path, opts: o, log: o.Logger.With("outbox", path), next: 1}
	err = db.View(func(tx *bolt.Tx) error {
		if v := tx.Bucket(bucketMeta).Get(keyNextSeq); len(v) == 8 {
			ob.next = binary.BigEndian.Uint64(v)
		}
		ob.count = tx.Bucket(bucketFixes).Stats().KeyN
		// A fix committed with its seq but not the counter (impossible in
		// one transaction, but cheap to be sure of) must not be reused.
		if k, _ := tx.Bucket(bucketFixes).Cursor().Last(); len(k) == 8 {
			if s := binary.BigEndian.Uint64(k); s >= ob.next {
				ob.next = s + 1
			}
		}
		return nil
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("read outbox %s: %w", path, err)
	}
	return ob, nil
}

func key(seq uint64) []byte {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], seq)
	return b[:]
}

// Append gives p the next seq and commits it, together with the counter, in
// one transaction (fsynced: it survives power loss once Append returns).
// When the outbox is full the oldest fixes make room and are counted.
func (o *Outbox) Append(p wire.Position) (wire.Position, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	p.Seq = o.next
	p.Backfill = false
	v, err := json.Marshal(p)
	if err != nil {
		return p, fmt.Errorf("outbox append: %w", err)
	}
	var dropped int
	err = o.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketFixes)
		if err := b.Put(key(p.Seq), v); err != nil {
			return err
		}
		if err := tx.Bucket(bucketMeta).Put(keyNextSeq, key(p.Seq+1)); err != nil {
			return err
		}
		// Collect, then delete: deleting under a cursor that then moves on
		// can skip keys in bbolt.
		var old [][]byte
		c := b.Cursor()
		for k, _ := c.First(); k != nil && o.count+1-len(old) > o.opts.MaxFixes; k, _ = c.Next() {
			old = append(old, append([]byte(nil), k...))
		}
		for _, k := range old {
			if err := b.Delete(k); err != nil {
				return err
			}
		}
		dropped = len(old)
		return nil
	})
	if err != nil {
		return p, fmt.Errorf("outbox append %s: %w", o.path, err)
	}
	o.next++
	o.count += 1 - dropped
	if dropped > 0 {
		o.dropped += uint64(dropped)
		o.log.Warn("outbox full: dropped the oldest fixes", "dropped", dropped, "max_fixes", o.opts.MaxFixes)
	}
	return p, nil
}

// Ack removes an acknowledged fix. Acking a seq that is gone is not an error.
func (o *Outbox) Ack(seq uint64) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	removed := false
	err := o.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketFixes)
		if b.Get(key(seq)) == nil {
			return nil
		}
		removed = true
		return b.Delete(key(seq))
	})
	if err != nil {
		return fmt.Errorf("outbox ack %d: %w", seq, err)
	}
	if removed {
		o.count--
	}
	return nil
}

// Newest returns the most recent fix in the outbox.
func (o *Outbox) Newest() (wire.Position, bool, error) {
	var p wire.Position
	found := false
	err := o.db.View(func(tx *bolt.Tx) error {
		_, v := tx.Bucket(bucketFixes).Cursor().Last()
		if v == nil {
			return nil
		}
		found = true
		return json.Unmarshal(v, &p)
	})
	return p, found, err
}

// Oldest returns up to n fixes, oldest first, skipping those skip says to.
func (o *Outbox) Oldest(n int, skip func(seq uint64) bool) ([]wire.Position, error) {
	var out []wire.Position
	err := o.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketFixes).Cursor()
		for k, v := c.First(); k != nil && len(out) < n; k, v = c.Next() {
			if skip != nil && skip(binary.BigEndian.Uint64(k)) {
				continue
			}
			var p wire.Position
			if err := json.Unmarshal(v, &p); err != nil {
				return fmt.Errorf("fix %d: %w", binary.BigEndian.Uint64(k), err)
			}
			out = append(out, p)
		}
		return nil
	})
	return out, err
}

// Prune drops fixes whose time is before now-MaxAge; it returns how many.
func (o *Outbox) Prune(now time.Time) (int, error) {
	if o.opts.MaxAge <= 0 {
		return 0, nil
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	cutoff := now.Add(-o.opts.MaxAge)
	dropped := 0
	err := o.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketFixes)
		var old [][]byte
		c := b.Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			var p struct {
				Time time.Time `json:"time"`
			}
			if err := json.Unmarshal(v, &p); err == nil && !p.Time.Before(cutoff) {
				break // seqs follow time: the rest are newer
			}
			old = append(old, append([]byte(nil), k...))
		}
		for _, k := range old {
			if err := b.Delete(k); err != nil {
				return err
			}
		}
		dropped = len(old)
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("outbox prune: %w", err)
	}
	if dropped > 0 {
		o.count -= dropped
		o.dropped += uint64(dropped)
		o.log.Warn("outbox: dropped fixes older than max_age", "dropped", dropped, "max_age", o.opts.MaxAge)
	}
	return dropped, nil
}

// Len is the number of fixes waiting for acknowledgement.
func (o *Outbox) Len() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.count
}

// NextSeq is the seq the next Append will get.
func (o *Outbox) NextSeq() uint64 {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.next
}

// Dropped counts fixes dropped to keep within the bounds.
func (o *Outbox) Dropped() uint64 {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.dropped
}

// Close closes the file.
func (o *Outbox) Close() error { return o.db.Close() }
