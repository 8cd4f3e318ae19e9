package engine

import (
	"runtime"
	"testing"
	"time"

	"github.com/headway-transit/headway/hub/internal/boards"
)

// A bus predicted a stop 10 min ahead, then 5 min ahead; it passed 30 s
// after the later prediction: both scored, in their horizon's band and
// bucket, in the route's and the hub's windows, and in the metrics.
func TestAccuracyScoresOnPassage(t *testing.T) {
	a := newAccuracy()
	t0 := time.Date(2026, 12, 6, 8, 0, 0, 0, time.UTC)
	run := boards.TripKey{Trip: "T1", DayStart: t0.Truncate(24 * time.Hour).Unix()}
	a.predicted(run, 5, "R1", t0, t0.Add(10*time.Minute))
	a.predicted(run, 5, "R1", t0.Add(10*time.Second), t0.Add(10*time.Minute)) // within 15 s: not kept
	a.predicted(run, 5, "R1", t0.Add(5*time.Minute), t0.Add(10*time.Minute+30*time.Second))
	a.predicted(run, 6, "R1", t0, t0.Add(45*time.Minute)) // beyond the horizon
	if len(a.pending) != 1 || len(a.pending[liveKey{run, 5}].samples) != 2 {
		t.Fatalf("pending %+v", a.pending)
	}
	a.passed(run, 5, t0.Add(11*time.Minute))
	if len(a.pending) != 0 {
		t.Fatal("passed stop still pending")
	}
	e := &Engine{acc: a}
	r := e.Accuracy(t0.Add(12 * time.Minute))
	w := r.All.Windows["15m"]
	// 10 min ahead, 60 s late (bucket 10-20, band 6-12: in); 5.5 min
	// ahead, 30 s late (bucket 5-10, band 3-6: in).
	if w.Scored != 2 || w.N[2] != 1 || w.N[1] != 1 || w.MAE[2] != 60 || w.MAE[1] != 30 || w.InBandPct != 100 {
		t.Errorf("15m window: %+v", w)
	}
	if len(r.Routes) != 1 || r.Routes[0].Route != "R1" || r.Routes[0].Windows["day"].Scored != 2 {
		t.Errorf("routes %+v", r.Routes)
	}
	if r := e.Accuracy(t0.Add(2 * time.Hour)); r.All.Windows["15m"].Scored != 0 || r.All.Windows["1h"].Scored != 0 || r.All.Windows["day"].Scored != 2 {
		t.Errorf("two hours on: %+v", r.All.Windows)
	}
	// A stop never passed goes after ghostLate.
	a.predicted(run, 7, "R1", t0, t0.Add(20*time.Minute))
	a.expire(t0.Add(20*time.Minute + ghostLate + time.Second))
	if len(a.pending) != 0 {
		t.Error("a never-passed stop kept")
	}
}

// BenchmarkAccuracyMemory: 5,000 buses predicting every second the stops
// of their trip (30 stops, one passed a minute) for 10 minutes. Reports
// the heap the live scores hold at the end and the stops pending.
func BenchmarkAccuracyMemory(b *testing.B) {
	for range b.N {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		a := newAccuracy()
		t0 := time.Date(2026, 12, 6, 8, 0, 0, 0, time.UTC)
		const buses, stops = 5000, 30
		routes := []string{"1", "2", "3", "4", "5", "6", "7", "8", "9", "10"}
		for sec := 0; sec < 600; sec++ {
			now := t0.Add(time.Duration(sec) * time.Second)
			passedTo := sec / 60 // one stop a minute
			for v := range buses {
				run := boards.TripKey{Trip: "T" + string(rune('a'+v%26)) + string(rune(v)), DayStart: 0}
				if sec%60 == 0 && passedTo > 0 {
					a.passed(run, passedTo-1, now)
				}
				for i := passedTo; i < stops; i++ {
					a.predicted(run, i, routes[v%len(routes)], now, now.Add(time.Duration(i-passedTo+1)*time.Minute))
				}
			}
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/(1<<20), "MiB-held")
		b.ReportMetric(float64(len(a.pending)), "stops-pending")
		runtime.KeepAlive(a)
	}
}
