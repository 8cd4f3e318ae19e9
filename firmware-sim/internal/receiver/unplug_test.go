package receiver

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/headway-transit/headway/drivers/gps"
	"github.com/headway-transit/headway/drivers/nmea"
	"github.com/headway-transit/headway/firmware-sim/internal/faults"
	"github.com/headway-transit/headway/firmware-sim/internal/ptyport"
	"github.com/headway-transit/headway/internal/yamlconf"
)

// A real agent-side driver reading the PTY's symlink sees the receiver
// go, reconnects when it comes back, and gets fixes again.
func TestUnplugReplugReconnectsDriver(t *testing.T) {
	link := filepath.Join(t.TempDir(), "gps0")
	port, err := ptyport.Open(link)
	if err != nil {
		t.Skipf("no PTY: %v", err)
	}
	defer port.Close()
	const unplugAt, unplugFor = 30 * time.Second, 5 * time.Second
	rx, err := NewWith(port, Options{Profile: "ublox-m8", Seed: 1, NoiseM: 1,
		Faults: faults.Config{Unplug: faults.EventFault{Enabled: true, At: at(unplugAt), Duration: yamlconf.Duration(unplugFor)}}})
	if err != nil {
		t.Fatal(err)
	}

	g := gps.New(gps.Config{Path: link, Baud: 9600})
	ctx, cancel := context.WithCancel(context.Background())
	fixes := make(chan nmea.Fix, 16)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		g.Run(ctx, fixes)
	}()
	defer func() {
		cancel()
		wg.Wait()
	}()

	deadline := time.Now().Add(30 * time.Second)
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("gave up waiting for %s; driver stats %+v", what, g.Stats())
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	waitFor("the driver to open the port", func() bool { return g.Stats().Connected })

	var last nmea.Fix
	k := 0
	emit := func() {
		t.Helper()
		if err := rx.Emit(straight(simStart.Add(time.Duration(k) * time.Second))); err != nil {
			t.Fatal(err)
		}
		k++
		time.Sleep(10 * time.Millisecond) // let the driver read, as a 1 Hz receiver would
		for {
			select {
			case last = <-fixes:
				continue
			default:
			}
			return
		}
	}
	for time.Duration(k)*time.Second < unplugAt {
		emit()
	}
	waitFor("a fix before the unplug", func() bool {
		select {
		case last = <-fixes:
		default:
		}
		return !last.Time.IsZero()
	})
	replugged := simStart.Add(unplugAt + unplugFor)
	for last.Time.Before(replugged) || g.Stats().Reconnects == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("no fix after the replug; last %v, driver stats %+v", last.Time, g.Stats())
		}
		emit()
	}
	if got := rx.FaultCounts()[faults.Unplug]; got != 1 {
		t.Errorf("unplugs counted %d, want 1", got)
	}
	if port.Replugs() != 1 {
		t.Errorf("port replugged %d times, want 1", port.Replugs())
	}
}
