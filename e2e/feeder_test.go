package e2e

import (
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/headway-transit/headway/drivers/nmea"
	"github.com/headway-transit/headway/internal/geo"
)

// feeder plays a GPS receiver on a PTY master: a fix every period, stamped
// with the wall clock, at a fixed place. Writes never block: with no reader
// attached (the agent killed) the line is dropped, as a UART would.
type feeder struct {
	w       *os.File
	written atomic.Int64
	stop    chan struct{}
	wg      sync.WaitGroup
}

func startFeeder(t testing.TB, master *os.File, pos geo.Point, track float64, period time.Duration) *feeder {
	t.Helper()
	// Close-on-exec: a copy of the master in a child (the agent under test)
	// would keep the device alive after the test unplugs it.
	fd, err := unix.FcntlInt(master.Fd(), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.SetNonblock(fd, true); err != nil {
		t.Fatal(err)
	}
	f := &feeder{w: os.NewFile(uintptr(fd), "pty-master"), stop: make(chan struct{})}
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		tick := time.NewTicker(period)
		defer tick.Stop()
		var buf []byte
		for {
			now := time.Now().UTC().Truncate(period)
			fix := nmea.Fix{Time: now, Mode: nmea.Mode3D, Lat: pos.Lat, Lon: pos.Lon, AltMSL: 20, AltHAE: 68, Speed: 0, Track: track, HDOP: 0.9, Sats: 9}
			buf = nmea.AppendGGA(nmea.AppendRMC(buf[:0], "GP", fix), "GP", fix)
			_ = f.w.SetWriteDeadline(time.Now().Add(period / 2))
			if _, err := f.w.Write(buf); err == nil {
				f.written.Add(1)
			}
			select {
			case <-tick.C:
			case <-f.stop:
				return
			}
		}
	}()
	t.Cleanup(f.close)
	return f
}

func (f *feeder) close() {
	select {
	case <-f.stop:
		return
	default:
	}
	close(f.stop)
	f.wg.Wait()
	f.w.Close()
}
