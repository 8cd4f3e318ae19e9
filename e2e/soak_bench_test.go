package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/headway-transit/headway/internal/gtfs"
)

// BenchmarkHubSoak runs a hub with BUSES buses at 1 Hz (firmware-sim
// fleet, 8 shared MQTT connections) and SIGNS signs holding WebSocket
// connections for MINUTES minutes, and logs, minute by minute, the hub's
// heap in use, goroutines, RSS, CPU and positions applied: heap and
// goroutines should stay flat.
//
//	go test -run '^$' -bench HubSoak -benchtime=1x -timeout 30m ./e2e
//	HEADWAY_SOAK_MINUTES=2 HEADWAY_SOAK_SIGNS=2000 ... (quicker)
//
// SIGNS defaults to 20,000, or as many as the open-files limit leaves room
// for (each sign costs a descriptor in the hub and one in this process).
func BenchmarkHubSoak(b *testing.B) {
	skipShort(b)
	minutes := envInts(b, "HEADWAY_SOAK_MINUTES", []int{10})[0]
	buses := envInts(b, "HEADWAY_SOAK_BUSES", []int{5000})[0]
	signs := envInts(b, "HEADWAY_SOAK_SIGNS", []int{20000})[0]
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err == nil {
		rl.Cur = rl.Max
		_ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &rl) // the hub inherits it
		if room := int(rl.Cur) - 500; signs > room {
			b.Logf("%d signs asked; the open-files limit (%d) leaves room for %d", signs, rl.Cur, room)
			signs = room
		}
	}
	feed, err := gtfs.Load(filepath.Join(bins.root, "configs/demo-feed"))
	if err != nil {
		b.Fatal(err)
	}
	for range b.N {
		s, _ := startHubConfig(b, func(string) string { return "boards: {refresh: 15s}\n" })
		pid := s.hub.cmd.Process.Pid
		_, closeSigns := holdSigns(b, "ws"+strings.TrimPrefix(s.hubHTTP, "http")+"/ws", feed, signs)
		fl := start(b, "fleet", bins.sim, "fleet", "-feed", "configs/demo-feed", "-vehicles", fmt.Sprint(buses),
			"-rate", "1", "-mqtt", s.mqttURL, "-clients", "8")
		type sample struct {
			heap, goroutines, rss, cpu, accepted float64
		}
		read := func() sample {
			m := scrape(b, s.hubHTTP+"/metrics")
			return sample{m["go_memstats_heap_inuse_bytes"], m["go_goroutines"], m["process_resident_memory_bytes"],
				m["process_cpu_seconds_total"], m[`headway_vehicle_messages_total{result="accepted"}`]}
		}
		time.Sleep(30 * time.Second) // start-up: every bus connected, every sign subscribed
		var rows []string
		var first, prev sample
		for minute := 0; minute <= minutes; minute++ {
			cur := read()
			if minute == 0 {
				first = cur
			} else {
				row := fmt.Sprintf("| %d | %.1f | %.0f | %.1f | %.2f | %.0f |", minute, cur.heap/(1<<20), cur.goroutines, cur.rss/(1<<20),
					(cur.cpu-prev.cpu)/60, (cur.accepted-prev.accepted)/60)
				rows = append(rows, row)
				// As it goes, whole: a benchmark's log is cut at 10 lines.
				fmt.Fprintln(os.Stderr, "soak:", row)
			}
			prev = cur
			if minute < minutes {
				time.Sleep(time.Minute)
			}
		}
		fl.stop(b)
		closeSigns()
		b.ReportMetric(prev.heap/(1<<20), "MiB-heap-last")
		b.ReportMetric((prev.heap-first.heap)/(1<<20), "MiB-heap-growth")
		b.ReportMetric(prev.goroutines-first.goroutines, "goroutine-growth")
		fmt.Fprintf(os.Stderr, "soak: hub pid %d, %d buses at 1 Hz, %d signs, %d minutes (start: heap %.1f MiB, %.0f goroutines):\n"+
			"| minute | heap in use (MiB) | goroutines | RSS (MiB) | CPU (cores) | positions applied/s |\n|---|---|---|---|---|---|\n%s\n",
			pid, buses, signs, minutes, first.heap/(1<<20), first.goroutines, strings.Join(rows, "\n"))
		s.hub.stop(b)
	}
}
