// Package signcache keeps a station sign's last boards and timetables in a
// bbolt file, so that a sign restarted while the hub is unreachable shows
// what it last knew instead of a blank screen.
//
// The cache is disposable: a file that bbolt cannot read is moved aside and
// replaced by an empty one, because a sign that starts empty and fills from
// the hub is better than a sign that does not start.
package signcache

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/headway-transit/headway/internal/wire"
)

var (
	bucketBoards     = []byte("boards")
	bucketTimetables = []byte("timetables")
	bucketMeta       = []byte("meta")
	keyLastUpdate    = []byte("last_update")
)

// lockTimeout bounds the wait for another process's lock on the file.
const lockTimeout = time.Second

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
	logger = logger.With("cache", path)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("open sign cache %s: %w", path, err)
	}
	db, err := openChecked(path)
	if err == nil {
		c := &Cache{db: db, path: path, logger: logger}
		if err := c.init(); err != nil {
			db.Close()
			return nil, err
		}
		return c, nil
	}
	if errors.Is(err, berrors.ErrTimeout) {
		return nil, fmt.Errorf("open sign cache %s: %w (is another station agent running? stop it or set cache to another file)", path, ErrLocked)
	}
	var pathErr *fs.PathError
	if errors.As(err, &pathErr) {
		// Permissions, a missing directory, a read-only disk: moving the
		// file would not help and might lose data, so say what is wrong.
		return nil, fmt.Errorf("open sign cache %s: %w", path, err)
	}
	aside := fmt.Sprintf("%s.corrupt-%d", path, time.Now().Unix())
	if rerr := os.Rename(path, aside); rerr != nil {
		return nil, fmt.Errorf("open sign cache %s: %w (and moving it aside failed: %v)", path, err, rerr)
	}
	logger.Error("sign cache is unreadable; moved it aside and starting empty", "error", err, "moved_to", aside)
	db, err = openChecked(path)
	if err != nil {
		return nil, fmt.Errorf("open fresh sign cache %s: %w", path, err)
	}
	c := &Cache{db: db, path: path, logger: logger}
	if err := c.init(); err != nil {
		db.Close()
		return nil, err
	}
	return c, nil
}

// openChecked opens the bbolt file and checks its pages. bbolt can panic on
// some corrupt files rather than return an error; that is turned into an
// error so the caller can move the file aside. (A panic mid-open leaks the
// file descriptor; the sign keeps running, which matters more.)
func openChecked(path string) (db *bolt.DB, err error) {
	defer func() {
		if r := recover(); r != nil {
			db, err = nil, fmt.Errorf("bbolt panicked opening the file: %v", r)
		}
	}()
	db, err = bolt.Open(path, 0o600, &bolt.Options{Timeout: lockTimeout})
	if err != nil {
		return nil, err
	}
	// A sign cache holds a few boards and a day of timetables, so a full
	// consistency check costs milliseconds and catches torn pages that
	// bbolt's meta checksums do not.
	err = db.View(func(tx *bolt.Tx) error {
		var errs []error
		for cerr := range tx.Check() {
			errs = append(errs, cerr)
		}
		return errors.Join(errs...)
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("consistency check: %w", err)
	}
	return db, nil
}

func (c *Cache) init() error {
	err := c.db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketBoards, bucketTimetables, bucketMeta} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("init sign cache %s: %w", c.path, err)
	}
	return nil
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
