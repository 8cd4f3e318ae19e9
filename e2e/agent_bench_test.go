package e2e

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/headway-transit/headway/internal/wire"
)

// BenchmarkVehicleAgent measures the vehicle agent process (bin/agent
// vehicle) reading a receiver at 1 Hz and at 10 Hz: its CPU share of one
// core, its resident memory, and the bytes it sends per fix. Each run is a
// fixed window (HEADWAY_BENCH_WINDOW, default 60 s) whatever b.N is: run it
// with -benchtime=1x.
func BenchmarkVehicleAgent(b *testing.B) {
	skipShort(b)
	window := 60 * time.Second
	if d, err := time.ParseDuration(os.Getenv("HEADWAY_BENCH_WINDOW")); err == nil {
		window = d
	}
	for _, hz := range []int{1, 10} {
		b.Run(fmt.Sprintf("%dHz", hz), func(b *testing.B) {
			sys := startHub(b, "")
			pos, track, trip := onTrip(b)
			master, link := openPTY(b)
			startFeeder(b, master, pos, track, time.Second/time.Duration(hz))
			v := sys.startVehicle(b, "bus-bench", link, trip)
			eventually(b, 30*time.Second, "fixes at the hub", func() bool {
				hv, ok := sys.vehicle(b, "bus-bench")
				return ok && hv.Seq >= 3
			})
			time.Sleep(3 * time.Second) // past start-up
			pid := v.cmd.Process.Pid
			cpu0, t0 := cpuTicks(b, pid), time.Now()
			m0 := scrape(b, v.http+"/metrics")
			b.ResetTimer()
			time.Sleep(window)
			b.StopTimer()
			cpu1, t1 := cpuTicks(b, pid), time.Now()
			m1 := scrape(b, v.http+"/metrics")
			rss, hwm := memKiB(b, pid, "VmRSS"), memKiB(b, pid, "VmHWM")

			cpuPct := 100 * float64(cpu1-cpu0) / clockTicks / t1.Sub(t0).Seconds()
			published := m1["headway_agent_published_total"] - m0["headway_agent_published_total"]
			payload := (m1["headway_agent_payload_bytes_total"] - m0["headway_agent_payload_bytes_total"]) / published
			topic := len(wire.Topics{}.Position("bus-bench"))
			// PUBLISH QoS 1: fixed header (1 + remaining length), topic
			// (2 + name), packet id (2), payload; then the broker's PUBACK (4).
			remaining := 2 + topic + 2 + int(payload)
			mqtt := 1 + varintLen(remaining) + remaining + 4
			b.ReportMetric(cpuPct, "%cpu")
			b.ReportMetric(float64(rss)/1024, "MiB-rss")
			b.ReportMetric(float64(hwm)/1024, "MiB-peak")
			b.ReportMetric(payload, "payload-B/fix")
			b.ReportMetric(float64(mqtt), "mqtt-B/fix")
			b.Logf("%d Hz input for %v: %.2f%% of a core, RSS %.1f MiB (peak %.1f), %.0f fixes published, %.0f B payload and %d B of MQTT per fix",
				hz, t1.Sub(t0).Round(time.Second), cpuPct, float64(rss)/1024, float64(hwm)/1024, published, payload, mqtt)
		})
	}
}

// clockTicks is USER_HZ, the unit of /proc/PID/stat times (100 on Linux).
const clockTicks = 100

// cpuTicks returns utime+stime of pid.
func cpuTicks(tb testing.TB, pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		tb.Fatal(err)
	}
	// Fields after the command name (which may hold spaces) in parentheses.
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
	u, _ := strconv.ParseInt(f[11], 10, 64)
	s, _ := strconv.ParseInt(f[12], 10, 64)
	return u + s
}

// memKiB returns a field of /proc/PID/status in KiB.
func memKiB(tb testing.TB, pid int, field string) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		tb.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, field+":") {
			n, _ := strconv.ParseInt(strings.Fields(line)[1], 10, 64)
			return n
		}
	}
	tb.Fatalf("no %s in /proc/%d/status", field, pid)
	return 0
}

func varintLen(n int) int {
	l := 1
	for n >= 128 {
		n >>= 7
		l++
	}
	return l
}
