package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
	"time"
)

// stationCfg writes a station config for hub and returns it and the sign's
// base URL.
func stationCfg(tb testing.TB, dir, hub string, stops []string) (cfg, sign string) {
	port := freePort(tb)
	q := ""
	for i, s := range stops {
		if i > 0 {
			q += ","
		}
		q += fmt.Sprintf("%q", s)
	}
	cfg = writeFile(tb, dir, "station.yaml", fmt.Sprintf("display: bench-sign\nstops: [%s]\nhub: [%q]\ncache: %s\nlisten: \"127.0.0.1:%d\"\nrows: 20\n",
		q, hub, filepath.Join(dir, "sign.db"), port))
	return cfg, fmt.Sprintf("http://127.0.0.1:%d", port)
}

// BenchmarkStationAgentRSS measures the station agent process's memory with
// a busy sign: 8 stops of 20 arrivals, every board replaced 20 times a
// second in all (each a cache write), and two sign pages following
// /events, over HEADWAY_BENCH_WINDOW (default 30 s). Also flat out: boards
// as fast as the agent takes them. Run with -benchtime=1x.
func BenchmarkStationAgentRSS(b *testing.B) {
	skipShort(b)
	window := 30 * time.Second
	if d, err := time.ParseDuration(os.Getenv("HEADWAY_BENCH_WINDOW")); err == nil {
		window = d
	}
	stops := []string{"S1", "S2", "S3", "S4", "S5", "S6", "S7", "S8"}
	for _, tc := range []struct {
		name  string
		every time.Duration
	}{{"20boards-per-s", 50 * time.Millisecond}, {"flat-out", 0}} {
		b.Run(tc.name, func(b *testing.B) {
			pump := newBoardPump(b, 20, stops...)
			pump.auto, pump.every = true, tc.every
			cfg, sign := stationCfg(b, b.TempDir(), pump.url(), stops)
			p := start(b, "station", bins.agent, "station", "-config", cfg)
			eventually(b, 20*time.Second, "boards on the sign", func() bool {
				var sb signBoard
				return getJSON(b, sign+"/board.json", &sb) == nil && rowsIn(sb) > 0
			})
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			for range 2 {
				ev := make(chan []byte, 16)
				go sse(ctx, b, sign+"/events", ev)
				go func() {
					for range ev {
					}
				}()
			}
			pid := p.cmd.Process.Pid
			sent0, cpu0, t0 := pump.sent.Load(), cpuTicks(b, pid), time.Now()
			b.ResetTimer()
			time.Sleep(window)
			b.StopTimer()
			sent, cpu := pump.sent.Load()-sent0, cpuTicks(b, pid)-cpu0
			el := time.Since(t0)
			rss, hwm := memKiB(b, pid, "VmRSS"), memKiB(b, pid, "VmHWM")
			b.ReportMetric(float64(rss)/1024, "MiB-rss")
			b.ReportMetric(float64(hwm)/1024, "MiB-peak")
			b.ReportMetric(float64(sent)/el.Seconds(), "boards/s")
			b.ReportMetric(100*float64(cpu)/clockTicks/el.Seconds(), "%cpu")
			b.Logf("%s: %.0f boards/s cached for %v: RSS %.1f MiB, peak %.1f MiB, %.1f%% of a core",
				tc.name, float64(sent)/el.Seconds(), el.Round(time.Second), float64(rss)/1024, float64(hwm)/1024, 100*float64(cpu)/clockTicks/el.Seconds())
		})
	}
}

// BenchmarkStationStartToCachedBoard measures the time from starting the
// station agent process to /board.json serving arrivals from its cache,
// with the hub unreachable (a power cut at the stop and the network
// still down): HEADWAY_BENCH_STARTS starts (default 20), median and worst.
func BenchmarkStationStartToCachedBoard(b *testing.B) {
	skipShort(b)
	starts := 20
	if n, err := fmt.Sscan(os.Getenv("HEADWAY_BENCH_STARTS"), &starts); n != 1 || err != nil {
		starts = 20
	}
	stops := []string{"S1", "S2", "S3", "S4", "S5", "S6", "S7", "S8"}
	dir := b.TempDir()
	// Fill the cache from a hub, then take the hub away.
	pump := newBoardPump(b, 20, stops...)
	pump.auto, pump.every = true, 10*time.Millisecond
	cfg, sign := stationCfg(b, dir, pump.url(), stops)
	p := start(b, "station-fill", bins.agent, "station", "-config", cfg)
	eventually(b, 20*time.Second, "a few hundred boards cached", func() bool { return pump.sent.Load() > 300 })
	p.stop(b)
	dead := fmt.Sprintf("ws://127.0.0.1:%d/ws", freePort(b))
	cfg, sign = stationCfg(b, dir, dead, stops)

	var took []time.Duration
	b.ResetTimer()
	for range starts {
		cmd := exec.Command(bins.agent, "station", "-config", cfg)
		t0 := time.Now()
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		var sb signBoard
		for getJSON(b, sign+"/board.json", &sb) != nil || rowsIn(sb) == 0 {
			if time.Since(t0) > 10*time.Second {
				_ = cmd.Process.Kill()
				b.Fatal("no cached board on /board.json within 10 s")
			}
			time.Sleep(2 * time.Millisecond)
		}
		took = append(took, time.Since(t0))
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
	}
	b.StopTimer()
	slices.Sort(took)
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	b.ReportMetric(ms(took[len(took)/2]), "ms/median")
	b.ReportMetric(ms(took[len(took)-1]), "ms/max")
	b.Logf("%d starts: cached board served after median %v, min %v, max %v", starts, took[len(took)/2].Round(100*time.Microsecond),
		took[0].Round(100*time.Microsecond), took[len(took)-1].Round(100*time.Microsecond))
}
