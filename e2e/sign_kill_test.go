package e2e

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"syscall"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// TestStationKilledDuringCacheWrites cuts the station agent's power, in
// effect, at random moments while a hub pushes boards as fast as it takes
// them (each one a bbolt transaction): SIGKILL 0-400 ms into the stream,
// HEADWAY_KILLS times (default 200). Each time the cache must open, pass
// bbolt's consistency check and hold boards; the next start must serve a
// board from it on /board.json before the hub says anything; and no cache
// file is ever moved aside as corrupt.
func TestStationKilledDuringCacheWrites(t *testing.T) {
	skipShort(t)
	kills := 200
	if n, err := strconv.Atoi(os.Getenv("HEADWAY_KILLS")); err == nil && n > 0 {
		kills = n
	}
	seed := uint64(time.Now().UnixNano())
	rng := rand.New(rand.NewPCG(seed, 0))
	t.Logf("seed %d", seed)

	pump := newBoardPump(t, 20, "CEN", "HBR")
	dir := t.TempDir()
	cache := filepath.Join(dir, "sign.db")
	port := freePort(t)
	sign := fmt.Sprintf("http://127.0.0.1:%d", port)
	cfg := writeFile(t, dir, "station.yaml", fmt.Sprintf("display: kill-sign\nstops: [CEN, HBR]\nhub: [%q]\ncache: %s\nlisten: \"127.0.0.1:%d\"\n",
		pump.url(), cache, port))
	logf, err := os.Create(filepath.Join(dir, "station.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	t.Cleanup(func() {
		if t.Failed() {
			b, _ := os.ReadFile(logf.Name())
			t.Logf("--- station log (tail) ---\n%s", b[max(0, len(b)-6000):])
		}
	})

	var served []time.Duration
	began := time.Now()
	for i := range kills {
		before := pump.sent.Load()
		cmd := exec.Command(bins.agent, "station", "-config", cfg)
		cmd.Stdout, cmd.Stderr = logf, logf
		start := time.Now()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		waited := make(chan error, 1)
		go func() { waited <- cmd.Wait() }()

		// The hub holds its tongue until the page has been read: what it
		// serves is the cache.
		var b signBoard
		eventually(t, 10*time.Second, fmt.Sprintf("run %d: /board.json", i), func() bool {
			return getJSON(t, sign+"/board.json", &b) == nil
		})
		served = append(served, time.Since(start))
		if i > 0 && rowsIn(b) == 0 {
			t.Fatalf("run %d: the restarted sign serves no board from its cache: %+v", i, b)
		}
		pump.release(t)
		// Kill while boards stream in: after the first one of this run
		// (under load the agent may take a while to reconnect), at a
		// random moment in the next 400 ms.
		eventually(t, 10*time.Second, fmt.Sprintf("run %d: boards pushed", i), func() bool { return pump.sent.Load() > before })
		time.Sleep(time.Duration(rng.IntN(401)) * time.Millisecond)
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		if err := <-waited; err == nil || !killed(err) {
			t.Fatalf("run %d: the agent exited before the kill: %v", i, err)
		}
		if pump.sent.Load() == before {
			t.Fatalf("run %d: no board was pushed before the kill", i)
		}
		if err := checkCache(cache); err != nil {
			t.Fatalf("run %d: %v", i, err)
		}
	}
	aside, _ := filepath.Glob(cache + ".corrupt-*")
	if len(aside) > 0 {
		t.Errorf("cache files moved aside as corrupt: %v", aside)
	}
	t.Logf("%d kills in %v; %d boards pushed (each a cache write); board served %v after start (median)",
		kills, time.Since(began).Round(time.Second), pump.sent.Load(), median(served).Round(time.Millisecond))
}

func killed(err error) bool {
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		return false
	}
	ws, ok := ee.Sys().(syscall.WaitStatus)
	return ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL
}

// checkCache opens the sign cache as bbolt and runs its consistency check.
func checkCache(path string) error {
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 2 * time.Second, ReadOnly: true})
	if err != nil {
		return fmt.Errorf("open cache: %w", err)
	}
	defer db.Close()
	return db.View(func(tx *bolt.Tx) error {
		var errs []error
		for err := range tx.Check() {
			errs = append(errs, err)
		}
		if len(errs) > 0 {
			return fmt.Errorf("consistency check: %w", errors.Join(errs...))
		}
		boards := tx.Bucket([]byte("boards"))
		if boards == nil || boards.Stats().KeyN == 0 {
			return errors.New("cache holds no boards")
		}
		return nil
	})
}

func rowsIn(b signBoard) int {
	n := 0
	for _, s := range b.Stops {
		n += len(s.Arrivals)
	}
	return n
}

func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}
