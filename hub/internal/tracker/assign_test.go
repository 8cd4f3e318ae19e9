package tracker

import (
	"math"
	"testing"
	"time"

	"github.com/headway-transit/headway/hub/internal/testfeed"
	"github.com/headway-transit/headway/internal/geo"
	"github.com/headway-transit/headway/internal/wire"
)

func TestHungarian(t *testing.T) {
	tests := []struct {
		name string
		cost [][]float64
		want []int
	}{
		{name: "none", cost: nil, want: nil},
		{name: "one", cost: [][]float64{{-5, 0}}, want: []int{0}},
		// Greedy would give row 0 column 0 (its best) and leave row 1 worse
		// off: together they do best the other way round.
		{name: "give way", cost: [][]float64{{-10, -9, 0, 0}, {-10, -1, 0, 0}}, want: []int{1, 0}},
		{name: "square", cost: [][]float64{{4, 1, 3}, {2, 0, 5}, {3, 2, 2}}, want: []int{1, 0, 2}},
		{name: "wider", cost: [][]float64{{7, 3, 9, 1}, {2, 8, 4, 6}}, want: []int{3, 0}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := hungarian(tc.cost)
			if len(got) != len(tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Fatalf("got %v, want %v", got, tc.want)
				}
			}
		})
	}
}

// TestHungarianIsOptimal checks the matching against every assignment of
// small random matrices.
func TestHungarianIsOptimal(t *testing.T) {
	seed := uint64(1)
	next := func() float64 { // a small LCG: the test must not depend on math/rand's sequence
		seed = seed*6364136223846793005 + 1442695040888963407
		return float64(seed>>40%100) - 50
	}
	for n := 1; n <= 4; n++ {
		for m := n; m <= 5; m++ {
			cost := make([][]float64, n)
			for i := range cost {
				cost[i] = make([]float64, m)
				for j := range cost[i] {
					cost[i][j] = next()
				}
			}
			got := hungarian(cost)
			seen := map[int]bool{}
			total := 0.0
			for i, j := range got {
				if j < 0 || j >= m || seen[j] {
					t.Fatalf("%dx%d: invalid matching %v", n, m, got)
				}
				seen[j] = true
				total += cost[i][j]
			}
			if best := bestTotal(cost, 0, map[int]bool{}); math.Abs(total-best) > 1e-9 {
				t.Errorf("%dx%d: total %v, best %v", n, m, total, best)
			}
		}
	}
}

func bestTotal(cost [][]float64, i int, used map[int]bool) float64 {
	if i == len(cost) {
		return 0
	}
	best := math.Inf(1)
	for j := range cost[i] {
		if used[j] {
			continue
		}
		used[j] = true
		best = math.Min(best, cost[i][j]+bestTotal(cost, i+1, used))
		used[j] = false
	}
	return best
}

// TestForgetDropsClaims: a forgotten vehicle no longer competes for blocks,
// and its evidence does not pile up in the tracker.
func TestForgetDropsClaims(t *testing.T) {
	feed := testfeed.Line(t)
	tr := New(feed, Config{MaxOffRoute: 100, MaxFuture: time.Minute})
	day := time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)
	at := day.Add(8*time.Hour + 4*time.Minute)
	for i := 0; i < 3; i++ {
		pt := geo.Offset(testfeed.Origin, 90, 1500+float64(i)*100)
		p := wire.Position{V: 1, Vehicle: "bus-1", Seq: uint64(i + 1), Time: at.Add(time.Duration(i) * 10 * time.Second),
			Lat: pt.Lat, Lon: pt.Lon, Mode: 3, Speed: wire.Float(10), Track: wire.Float(90)}
		if _, err := tr.Update(p, p.Time); err != nil {
			t.Fatal(err)
		}
	}
	if len(tr.claimants) == 0 {
		t.Fatal("no block claimed after three fixes")
	}
	tr.Forget(at.Add(time.Hour))
	if len(tr.claimants) != 0 {
		t.Errorf("%d blocks still claimed after Forget", len(tr.claimants))
	}
}
