package doctor

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

func TestRunPrintsAndCounts(t *testing.T) {
	var out bytes.Buffer
	code := Run(context.Background(), &out, []Check{
		{Name: "one", Run: func(context.Context) []Result { return []Result{Okf("fine")} }},
		{Name: "two", Run: func(context.Context) []Result { return []Result{Warnf("look", "odd"), Failf("do this", "broken")} }},
	})
	want := "ok    one        fine\nwarn  two        odd\n                 -> look\nFAIL  two        broken\n                 -> do this\n1 failed, 1 warnings: fix the FAIL lines above\n"
	if code != 1 || out.String() != want {
		t.Errorf("code %d, output:\n%s\nwant:\n%s", code, out.String(), want)
	}
	out.Reset()
	if code := Run(context.Background(), &out, []Check{{Name: "w", Run: func(context.Context) []Result { return []Result{Warnf("", "meh")} }}}); code != 0 || !strings.HasSuffix(out.String(), "all checks passed, 1 warnings\n") {
		t.Errorf("warnings only: code %d, %q", code, out.String())
	}
}

func TestDisk(t *testing.T) {
	dir := t.TempDir()
	if r := Disk(dir, 1); r[0].Level != OK || !strings.Contains(r[0].What, "writable") {
		t.Errorf("%+v", r)
	}
	if r := Disk(filepath.Join(dir, "nope"), 1); r[0].Level != Fail || !strings.Contains(r[0].Fix, "install -d") {
		t.Errorf("%+v", r)
	}
	if r := Disk(dir, 1<<62); r[0].Level != Fail || !strings.Contains(r[0].What, "want at least") {
		t.Errorf("%+v", r)
	}
}

func TestBolt(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "c.db")
	if r := Bolt(path, "cache"); r[0].Level != OK || !strings.Contains(r[0].What, "not made yet") {
		t.Errorf("missing: %+v", r)
	}
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	db.Update(func(tx *bolt.Tx) error {
		b, _ := tx.CreateBucketIfNotExists([]byte("b"))
		return b.Put([]byte("k"), []byte("v"))
	})
	if r := Bolt(path, "cache"); r[0].Level != OK || !strings.Contains(r[0].What, "in use by the running service") {
		t.Errorf("held: %+v", r)
	}
	db.Close()
	if r := Bolt(path, "cache"); r[0].Level != OK || !strings.Contains(r[0].What, "consistent") {
		t.Errorf("closed: %+v", r)
	}
	bad := filepath.Join(dir, "bad.db")
	os.WriteFile(bad, bytes.Repeat([]byte("not a bolt file "), 512), 0o600)
	if r := Bolt(bad, "cache"); r[0].Level != Fail || !strings.Contains(r[0].Fix, "move") {
		t.Errorf("garbage: %+v", r)
	}
}

func TestCheckTimesOut(t *testing.T) {
	defer func(d time.Duration) { Timeout = d }(Timeout)
	Timeout = 200 * time.Millisecond
	start := time.Now()
	var out bytes.Buffer
	Run(context.Background(), &out, []Check{{Name: "slow", Run: func(ctx context.Context) []Result {
		<-ctx.Done()
		return []Result{Failf("", "%v", ctx.Err())}
	}}})
	if d := time.Since(start); d > Timeout+5*time.Second || !strings.Contains(out.String(), "deadline exceeded") {
		t.Errorf("after %v: %q", d, out.String())
	}
}
