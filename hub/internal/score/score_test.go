package score

import (
	"math"
	"testing"
	"time"

	"github.com/headway-transit/headway/hub/internal/avl"
)

func ping(trip string, t int64, seq int) avl.Ping {
	return avl.Ping{Trip: trip, Time: time.Unix(t, 0), StopSeq: seq}
}

func TestTruth(t *testing.T) {
	pings := []avl.Ping{
		ping("A", 1000, 1), ping("A", 1030, 1), ping("A", 1060, 2), // passes 1 at 1045
		ping("A", 1060, 3),                  // same timestamp: dropped
		ping("A", 1200, 3),                  // 140 s gap: no truth for 2
		ping("A", 1230, 2),                  // back to 2 (noise): the last <= 2 is after the first > 2: no truth for 2
		ping("A", 1260, 4), ping("B", 5, 7), // B: one ping, nothing
	}
	got := Truth(pings)
	want := map[Key]float64{{"A", 1}: 1045, {"A", 3}: 1245}
	if len(got) != len(want) {
		t.Fatalf("truth %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%v: %v, want %v", k, got[k], v)
		}
	}
}

func TestScore(t *testing.T) {
	truth := map[Key]float64{{"A", 1}: 1000, {"A", 2}: 2000}
	preds := []Prediction{
		{MadeAt: 900, Trip: "A", Seq: 1, Predicted: 950},   // horizon 50 s, error +50: in the 0-3 band
		{MadeAt: 900, Trip: "A", Seq: 2, Predicted: 1900},  // horizon 1000 s, error +100: in 12-30
		{MadeAt: 1500, Trip: "A", Seq: 1, Predicted: 1600}, // made after the passage: not scored
		{MadeAt: 900, Trip: "B", Seq: 1, Predicted: 1000},  // no truth
		{MadeAt: 900, Trip: "A", Seq: 1, Predicted: 880},   // negative horizon: 0; error +120: out of band
	}
	r := Score(preds, truth)
	if r.Scored != 3 {
		t.Fatalf("scored %d, want 3", r.Scored)
	}
	if r.N[0] != 2 || math.Abs(r.MAE[0]-85) > 1e-9 || r.N[2] != 1 || r.MAE[2] != 100 {
		t.Errorf("buckets N %v MAE %v", r.N, r.MAE)
	}
	if r.BandN[0] != 2 || r.BandPct[0] != 50 || r.BandPct[3] != 100 || math.Abs(r.InBandPct-200.0/3) > 1e-9 {
		t.Errorf("bands N %v pct %v overall %v", r.BandN, r.BandPct, r.InBandPct)
	}
}
