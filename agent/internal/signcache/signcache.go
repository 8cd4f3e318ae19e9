// Package signcache keeps a station sign's last boards, timetables and
// service alerts, and the agency's time zone, in a bbolt file, so that a sign restarted while
// the hub is unreachable shows what it last knew, in the agency's time,
// instead of a blank screen.
//
// The cache is disposable: a file that bbolt cannot read is moved aside and
// replaced by an empty one, because a sign that starts empty and fills from
// the hub is better than a sign that does not start.
package signcache

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/headway-transit/headway/agent/internal/boltfile"

	"github.com/headway-transit/headway/internal/wire"
)

var (
	bucketBoards     = []byte("boards")
	bucketTimetables = []byte("timetables")
	bucketAlerts     = []byte("alerts")
	bucketMeta       = []byte("meta")
	keyLastUpdate    = []byte("last_update")
	keyZone          = []byte("agency_timezone")
)

// ErrLocked is returned by Open when another process holds the cache file.
var ErrLocked = errors.New("sign cache is locked by another process")

// StoredBoard is a board as the sign received it.
type StoredBoard struct {
	Board      wire.Board `json:"board"`
	ReceivedAt time.Time  `json:"received_at"`
}

// Cache is an open sign cache. Its methods are safe for concurrent use.
type Cache struct {
	db     *bolt.DB
	path   string
	logger *slog.Logger
}

// Open opens or creates the cache at path, creating its directory if needed.
// A file that is not a readable bbolt database is renamed to
// path+".corrupt-<unix time>" and a fresh cache is created in its place. A
// file locked by another process is an error (ErrLocked), never moved aside.
func Open(path string, logger *slog.Logger) (*Cache, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	db, err := boltfile.Open(path, "sign cache", logger, bucketBoards, bucketTimetables, bucketAlerts, bucketMeta)
	if errors.Is(err, boltfile.ErrLocked) {
		return nil, fmt.Errorf("%w: %w (is another station agent running? stop it or set cache to another file)", ErrLocked, err)
	}
	if err != nil {
		return nil, err
	}
	return &Cache{db: db, path: path, logger: logger.With("cache", path)}, nil
}

// Path returns the cache file's path.
func (c *Cache) Path() string { return c.path }

// PutBoard stores b as its stop's board, replacing the previous one, and
// records receivedAt as the time of the last update, in one transaction.
func (c *Cache) PutBoard(b wire.Board, receivedAt time.Time) error {
	if err := wire.ValidID("stop", b.Stop); err != nil {
		return fmt.Errorf("put board: %w", err)
	}
	v, err := json.Marshal(StoredBoard{Board: b, ReceivedAt: receivedAt})
	if err != nil {
		return fmt.Errorf("put board %s: %w", b.Stop, err)
	}
	ts, err := receivedAt.UTC().MarshalText()
	if err != nil {
		return fmt.Errorf("put board %s: received at: %w", b.Stop, err)
	}
	err = c.db.Update(func(tx *bolt.Tx) error {
		if err := tx.Bucket(bucketBoards).Put([]byte(b.Stop), v); err != nil {
			return err
		}
		return tx.Bucket(bucketMeta).Put(keyLastUpdate, ts)
	})
	if err != nil {
		return fmt.Errorf("put board %s in %s: %w", b.Stop, c.path, err)
	}
	return nil
}

// PutTimetable stores t as its stop's timetable, replacing the previous one.
func (c *Cache) PutTimetable(t wire.Timetable) error {
	if err := wire.ValidID("stop", t.Stop); err != nil {
		return fmt.Errorf("put timetable: %w", err)
	}
	v, err := json.Marshal(t)
	if err != nil {
		return fmt.Errorf("put timetable %s: %w", t.Stop, err)
	}
	err = c.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketTimetables).Put([]byte(t.Stop), v)
	})
	if err != nil {
		return fmt.Errorf("put timetable %s in %s: %w", t.Stop, c.path, err)
	}
	return nil
}

// PutAlerts stores a's alerts as its stop's, replacing the previous ones.
func (c *Cache) PutAlerts(a wire.Alerts) error {
	if err := wire.ValidID("stop", a.Stop); err != nil {
		return fmt.Errorf("put alerts: %w", err)
	}
	v, err := json.Marshal(a)
	if err != nil {
		return fmt.Errorf("put alerts %s: %w", a.Stop, err)
	}
	err = c.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketAlerts).Put([]byte(a.Stop), v)
	})
	if err != nil {
		return fmt.Errorf("put alerts %s in %s: %w", a.Stop, c.path, err)
	}
	return nil
}

// Alerts returns every stop's stored alerts, skipping (and logging)
// entries that do not decode.
func (c *Cache) Alerts() (map[string]wire.Alerts, error) {
	out := make(map[string]wire.Alerts)
	err := c.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketAlerts).ForEach(func(k, v []byte) error {
			var a wire.Alerts
			if err := json.Unmarshal(v, &a); err != nil {
				c.logger.Warn("skipping unreadable cached alerts", "stop", string(k), "error", err)
				return nil
			}
			out[string(k)] = a
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("read alerts from %s: %w", c.path, err)
	}
	return out, nil
}

// PutZone stores the agency's IANA time zone name as the hub reported it.
// The cache stores it as given: the caller checks it before and after.
func (c *Cache) PutZone(name string) error {
	err := c.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketMeta).Put(keyZone, []byte(name))
	})
	if err != nil {
		return fmt.Errorf("put time zone in %s: %w", c.path, err)
	}
	return nil
}

// Zone returns the stored agency time zone name, or "" if none ever was.
func (c *Cache) Zone() (string, error) {
	var name string
	err := c.db.View(func(tx *bolt.Tx) error {
		name = string(tx.Bucket(bucketMeta).Get(keyZone)) // copied: bbolt's bytes live only in the transaction
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("read time zone from %s: %w", c.path, err)
	}
	return name, nil
}

// Boards returns every stored board by stop id. An entry that does not
// decode is logged and skipped: one bad record must not hide the others.
func (c *Cache) Boards() (map[string]StoredBoard, error) {
	out := make(map[string]StoredBoard)
	err := c.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketBoards).ForEach(func(k, v []byte) error {
			var sb StoredBoard
			if err := json.Unmarshal(v, &sb); err != nil {
				c.logger.Warn("skipping unreadable cached board", "stop", string(k), "error", err)
				return nil
			}
			out[string(k)] = sb
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("read boards from %s: %w", c.path, err)
	}
	return out, nil
}

// Timetables returns every stored timetable by stop id, skipping (and
// logging) entries that do not decode.
func (c *Cache) Timetables() (map[string]wire.Timetable, error) {
	out := make(map[string]wire.Timetable)
	err := c.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketTimetables).ForEach(func(k, v []byte) error {
			var tt wire.Timetable
			if err := json.Unmarshal(v, &tt); err != nil {
				c.logger.Warn("skipping unreadable cached timetable", "stop", string(k), "error", err)
				return nil
			}
			out[string(k)] = tt
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("read timetables from %s: %w", c.path, err)
	}
	return out, nil
}

// LastUpdate returns when the last board was stored, or the zero time if
// none ever was.
func (c *Cache) LastUpdate() (time.Time, error) {
	var t time.Time
	err := c.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketMeta).Get(keyLastUpdate)
		if v == nil {
			return nil
		}
		return t.UnmarshalText(v)
	})
	if err != nil {
		return time.Time{}, fmt.Errorf("read last update from %s: %w", c.path, err)
	}
	return t, nil
}

// Close closes the file and releases its lock.
func (c *Cache) Close() error {
	if err := c.db.Close(); err != nil {
		return fmt.Errorf("close sign cache %s: %w", c.path, err)
	}
	return nil
}
