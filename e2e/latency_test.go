package e2e

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"

	"github.com/headway-transit/headway/drivers/nmea"
	"github.com/headway-transit/headway/internal/gtfs"
)

// BenchmarkEndToEndLatency measures the time from an NMEA fix written to a
// PTY to the sign's board changing because of it: agent serial read, MQTT
// publish through the hub's embedded broker, tracking and prediction, board
// rebuild, WebSocket push, the station's cache write and its /events stream.
//
// The bus stands still on its trip, so every fix (one a second, as from a
// 1 Hz receiver) makes it one second later and moves its predicted arrival
// by one second: each board change is caused by exactly one fix. Run with
// -benchtime=60x for a minute of fixes; ms/median is the figure reported.
func BenchmarkEndToEndLatency(b *testing.B) {
	skipShort(b)
	feed, err := gtfs.Load(filepath.Join(bins.root, "configs/demo-feed"))
	if err != nil {
		b.Fatal(err)
	}
	now := time.Now()
	trip, _ := tripInProgress(b, feed, now)
	// Stand between the fourth and fifth stops; watch the second-to-last.
	d := (trip.StopTimes[3].Dist + trip.StopTimes[4].Dist) / 2
	pos, track := trip.Path.At(d)
	stop := trip.StopTimes[len(trip.StopTimes)-2].StopID

	master, link := openPTY(b)
	sys := startHub(b, "")
	sys.startStation(b, stop)
	sys.startVehicle(b, "bus-lat", link, trip.ID)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	events := make(chan []byte, 256)
	go sse(ctx, b, sys.signHTTP+"/events", events)

	gpsTime := now.UTC().Truncate(time.Second)
	var last time.Time
	write := func() time.Time {
		f := nmea.Fix{Time: gpsTime, Mode: nmea.Mode3D, Lat: pos.Lat, Lon: pos.Lon, AltMSL: 20, AltHAE: 68, Speed: 0, Track: track, HDOP: 0.9, Sats: 9}
		line := nmea.AppendRMC(nil, "GP", f)
		line = nmea.AppendGGA(line, "GP", f)
		w := time.Now()
		if _, err := master.Write(line); err != nil {
			b.Fatal(err)
		}
		gpsTime = gpsTime.Add(time.Second)
		return w
	}
	// waitChange waits for the sign's predicted time for the trip to differ
	// from last, returning when it saw it.
	waitChange := func(timeout time.Duration) (time.Time, bool) {
		deadline := time.After(timeout)
		for {
			select {
			case data := <-events:
				var sb signBoard
				if json.Unmarshal(data, &sb) != nil {
					continue
				}
				if p, _, ok := sb.realtime(stop, trip.ID); ok && !p.Equal(last) {
					last = p
					return time.Now(), true
				}
			case <-deadline:
				return time.Time{}, false
			}
		}
	}
	// Warm up until the bus is on the sign.
	warm := time.Now().Add(60 * time.Second)
	for {
		w := write()
		if _, ok := waitChange(time.Second - time.Since(w)); ok {
			break
		}
		if time.Now().After(warm) {
			b.Fatalf("bus never appeared on the sign at %s", stop)
		}
	}
	time.Sleep(time.Second)

	var lat []float64
	lost := 0
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		w := write()
		seen, ok := waitChange(5 * time.Second)
		if !ok {
			lost++
			continue
		}
		lat = append(lat, float64(seen.Sub(w).Microseconds())/1000)
		if rest := time.Second - time.Since(w); rest > 0 {
			time.Sleep(rest)
		}
	}
	b.StopTimer()
	if len(lat) == 0 {
		b.Fatalf("no board change seen for %d fixes", b.N)
	}
	slices.Sort(lat)
	b.ReportMetric(lat[len(lat)/2], "ms/median")
	b.ReportMetric(lat[int(math.Min(float64(len(lat)-1), math.Ceil(0.9*float64(len(lat)))-1))], "ms/p90")
	b.ReportMetric(lat[len(lat)-1], "ms/max")
	b.ReportMetric(float64(lost), "lost")
	b.Logf("%d fixes: median %.1f ms, p90 %.1f ms, max %.1f ms, lost %d", len(lat), lat[len(lat)/2], lat[int(math.Ceil(0.9*float64(len(lat))))-1], lat[len(lat)-1], lost)
}

// tripInProgress returns a route 1 trip whose fourth stop is scheduled
// within five minutes of now.
func tripInProgress(tb testing.TB, feed *gtfs.Feed, now time.Time) (*gtfs.Trip, time.Time) {
	tb.Helper()
	today := gtfs.DateOf(now, feed.Location)
	for _, d := range []gtfs.Date{today.AddDays(-1), today} {
		ds := feed.ServiceDayStart(d)
		for _, tr := range feed.Trips {
			if tr.RouteID != "1" || !feed.ServiceRunsOn(tr.ServiceID, d) || len(tr.StopTimes) < 7 {
				continue
			}
			if dt := tr.ArrivalAt(ds, 4).Sub(now); dt > -5*time.Minute && dt < 5*time.Minute {
				return tr, ds
			}
		}
	}
	tb.Fatal("no route 1 trip in progress in the demo feed")
	return nil, time.Time{}
}

// makeRaw puts a PTY in raw mode: no echo back into the master, no line
// discipline games.
func makeRaw(tb testing.TB, slave *os.File) {
	tb.Helper()
	tio, err := unix.IoctlGetTermios(int(slave.Fd()), unix.TCGETS)
	if err != nil {
		tb.Fatal(err)
	}
	tio.Iflag &^= unix.IGNBRK | unix.BRKINT | unix.PARMRK | unix.ISTRIP | unix.INLCR | unix.IGNCR | unix.ICRNL | unix.IXON
	tio.Oflag &^= unix.OPOST
	tio.Lflag &^= unix.ECHO | unix.ECHONL | unix.ICANON | unix.ISIG | unix.IEXTEN
	tio.Cflag &^= unix.CSIZE | unix.PARENB
	tio.Cflag |= unix.CS8
	if err := unix.IoctlSetTermios(int(slave.Fd()), unix.TCSETS, tio); err != nil {
		tb.Fatal(err)
	}
}

// openPTY opens a raw PTY and links it from the test's temp dir, as a USB
// receiver would appear. The test writes NMEA to the master.
func openPTY(tb testing.TB) (*os.File, string) {
	tb.Helper()
	master, slave, err := pty.Open()
	if err != nil {
		tb.Skipf("no PTY available: %v", err)
	}
	tb.Cleanup(func() {
		master.Close()
		slave.Close()
	})
	makeRaw(tb, slave)
	link := filepath.Join(tb.TempDir(), "gps-lat")
	if err := os.Symlink(slave.Name(), link); err != nil {
		tb.Fatal(err)
	}
	return master, link
}
