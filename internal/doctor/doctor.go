// Package doctor runs a device's self-checks (agent doctor, hub doctor):
// each check says ok, warn or FAIL, what it saw, and for a failure what to
// do about it; the exit code tells a script whether anything failed.
package doctor

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
	"golang.org/x/sys/unix"
)

// Level of a result.
type Level int

const (
	OK Level = iota
	Warn
	Fail
)

func (l Level) String() string { return [...]string{"ok", "warn", "FAIL"}[l] }

// Result is what one check found.
type Result struct {
	Level Level
	What  string // what it saw
	Fix   string // what to do, for warn and FAIL
}

// Okf, Warnf and Failf make results; fix may be "".
func Okf(format string, a ...any) Result { return Result{Level: OK, What: fmt.Sprintf(format, a...)} }
func Warnf(fix, format string, a ...any) Result {
	return Result{Level: Warn, What: fmt.Sprintf(format, a...), Fix: fix}
}
func Failf(fix, format string, a ...any) Result {
	return Result{Level: Fail, What: fmt.Sprintf(format, a...), Fix: fix}
}

// Check is one named check; it may report several results (one per
// broker, hub or output).
type Check struct {
	Name string
	Run  func(ctx context.Context) []Result
}

// Timeout bounds each check.
var Timeout = 10 * time.Second

// Run runs the checks in order and prints one line per result (and its
// fix, indented), then a summary; it returns the exit code: 0 when nothing
// failed, 1 otherwise.
func Run(ctx context.Context, w io.Writer, checks []Check) int {
	var fails, warns int
	for _, c := range checks {
		cctx, cancel := context.WithTimeout(ctx, Timeout)
		results := c.Run(cctx)
		cancel()
		for _, r := range results {
			fmt.Fprintf(w, "%-4s  %-10s %s\n", r.Level, c.Name, r.What)
			if r.Fix != "" && r.Level != OK {
				fmt.Fprintf(w, "      %-10s -> %s\n", "", r.Fix)
			}
			switch r.Level {
			case Fail:
				fails++
			case Warn:
				warns++
			}
		}
	}
	switch {
	case fails > 0:
		fmt.Fprintf(w, "%d failed, %d warnings: fix the FAIL lines above\n", fails, warns)
		return 1
	case warns > 0:
		fmt.Fprintf(w, "all checks passed, %d warnings\n", warns)
	default:
		fmt.Fprintln(w, "all checks passed")
	}
	return 0
}

// Clock reports whether the kernel's clock is synchronised (NTP, chrony,
// systemd-timesyncd or gpsd set it): predictions and fixes are compared
// across machines by time.
func Clock() []Result {
	var tx unix.Timex
	state, err := unix.Adjtimex(&tx)
	if err != nil {
		return []Result{Warnf("", "cannot read the kernel's clock state: %v", err)}
	}
	if state == unix.TIME_ERROR || tx.Status&unix.STA_UNSYNC != 0 {
		return []Result{Failf("enable time sync: systemctl enable --now systemd-timesyncd (or chrony), and let it reach an NTP server",
			"the clock is not synchronised (now %s)", time.Now().UTC().Format(time.RFC3339))}
	}
	return []Result{Okf("synchronised, estimated error %v", time.Duration(tx.Esterror)*time.Microsecond)}
}

// Disk checks that dir exists and can be written, and how much room its
// file system has left.
func Disk(dir string, need uint64) []Result {
	st, err := os.Stat(dir)
	if err != nil {
		return []Result{Failf(fmt.Sprintf("create it for the service's user: install -d -o headway -g headway %s", dir), "%v", err)}
	}
	if !st.IsDir() {
		return []Result{Failf("", "%s is not a directory", dir)}
	}
	f, err := os.CreateTemp(dir, ".doctor-*")
	if err != nil {
		return []Result{Failf(fmt.Sprintf("let the service's user write there: chown headway: %s", dir), "%s: cannot write: %v", dir, err)}
	}
	f.Close()
	os.Remove(f.Name())
	var fs unix.Statfs_t
	if err := unix.Statfs(dir, &fs); err != nil {
		return []Result{Warnf("", "%s: %v", dir, err)}
	}
	free := fs.Bavail * uint64(fs.Bsize)
	if free < need {
		return []Result{Failf("free some space (journalctl --vacuum-size=50M, old logs)", "%s: %s free, want at least %s", dir, size(free), size(need))}
	}
	return []Result{Okf("%s: writable, %s free", dir, size(free))}
}

func size(n uint64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.0f MiB", float64(n)/(1<<20))
	}
	return fmt.Sprintf("%d KiB", n>>10)
}

// Bolt checks a bbolt file (a sign's cache, a bus's outbox): its pages are
// consistent, or it is in use by the running service (which holds the
// lock; it is then checked as the service reads it).
func Bolt(path, what string) []Result {
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return []Result{Okf("%s %s: not made yet (the service makes it at its first start)", what, path)}
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: 500 * time.Millisecond})
	if errors.Is(err, bolt.ErrTimeout) {
		return []Result{Okf("%s %s: in use by the running service", what, path)}
	}
	if err != nil {
		return []Result{Failf(fmt.Sprintf("stop the service, move %s aside, start it (it starts a fresh one)", path), "%s %s: %v", what, path, err)}
	}
	defer db.Close()
	var problems []string
	err = db.View(func(tx *bolt.Tx) error {
		for e := range tx.Check() {
			problems = append(problems, e.Error())
		}
		return nil
	})
	if err != nil || len(problems) > 0 {
		return []Result{Failf(fmt.Sprintf("stop the service, move %s aside, start it (it starts a fresh one)", path), "%s %s damaged: %v %s", what, path, err, strings.Join(problems, "; "))}
	}
	st, _ := os.Stat(path)
	return []Result{Okf("%s %s: consistent, %s", what, path, size(uint64(st.Size())))}
}

// Dial checks that addr (host:port) takes TCP connections.
func Dial(ctx context.Context, addr string) error {
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	return c.Close()
}

// DirOf is the directory of a file path ("." for a bare name).
func DirOf(path string) string { return filepath.Dir(path) }
