// Package boltfile opens the agent's bbolt files (the sign cache, the
// vehicle outbox) the way an unattended edge device needs: a lock held by
// another process is a clear error, and a file that is not a readable
// database (a torn write on power loss, a bad SD card) is moved aside and
// replaced with an empty one, so the agent never crash-loops on it.
package boltfile

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// LockTimeout bounds the wait for another process's lock on the file.
const LockTimeout = time.Second

// ErrLocked is returned when another process holds the file.
var ErrLocked = errors.New("locked by another process")

// Open opens or creates the bbolt file at path (what names it in errors and
// logs, e.g. "sign cache"), creating its directory, and makes sure buckets
// exist. A corrupt file is renamed to path+".corrupt-<unix time>", logged,
// and replaced by an empty database.
func Open(path, what string, logger *slog.Logger, buckets ...[]byte) (*bolt.DB, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("open %s %s: %w", what, path, err)
	}
	db, err := openChecked(path)
	if err != nil {
		if errors.Is(err, berrors.ErrTimeout) {
			return nil, fmt.Errorf("open %s %s: %w", what, path, ErrLocked)
		}
		var pathErr *fs.PathError
		if errors.As(err, &pathErr) {
			// Permissions, a read-only disk: moving the file would not help
			// and might lose data, so say what is wrong.
			return nil, fmt.Errorf("open %s %s: %w", what, path, err)
		}
		aside := fmt.Sprintf("%s.corrupt-%d", path, time.Now().Unix())
		if rerr := os.Rename(path, aside); rerr != nil {
			return nil, fmt.Errorf("open %s %s: %w (and moving it aside failed: %v)", what, path, err, rerr)
		}
		logger.Error(what+" is unreadable; moved it aside and starting empty", "path", path, "error", err, "moved_to", aside)
		if db, err = openChecked(path); err != nil {
			return nil, fmt.Errorf("open fresh %s %s: %w", what, path, err)
		}
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range buckets {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("init %s %s: %w", what, path, err)
	}
	return db, nil
}

// openChecked opens the file and checks its pages. bbolt can panic on some
// corrupt files rather than return an error; that becomes an error so the
// caller can move the file aside. (A panic mid-open leaks the file
// descriptor; the agent keeps running, which matters more.)
func openChecked(path string) (db *bolt.DB, err error) {
	defer func() {
		if r := recover(); r != nil {
			db, err = nil, fmt.Errorf("bbolt panicked opening the file: %v", r)
		}
	}()
	db, err = bolt.Open(path, 0o600, &bolt.Options{Timeout: LockTimeout})
	if err != nil {
		return nil, err
	}
	// The agent's files are small (a day of boards, an outage of fixes), so
	// a full consistency check costs little and catches torn pages that
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
