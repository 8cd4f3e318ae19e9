// Package score measures arrival predictions against recorded vehicle
// positions the way ../shared/tools/avl_score.py does, so `hub replay`
// prints the same figures as the independent scorer:
//
//   - the observed passage of stop k of a trip is the midpoint of the last
//     ping at or before k (by current_stop_sequence) and the first ping past
//     k, when those are at most 90 s apart;
//   - horizon is predicted minus made_at (0 if negative); error is observed
//     minus predicted; predictions made after the passage are not scored;
//   - reported: MAE per horizon bucket (0-5, 5-10, 10-20, 20-30 min) and the
//     share inside the MBTA accuracy bands;
//   - and, as its ghosts command counts them (CountGhosts), the predictions
//     for a bus that did not come, those made by a bus on another trip, and
//     the passages no prediction announced.
package score

import (
	"math"
	"sort"

	"github.com/headway-transit/headway/hub/internal/avl"
)

// MaxGap is the longest gap between the two pings around a passage.
const MaxGap = 90

// Key is one stop of one trip.
type Key struct {
	Trip string
	Seq  int
}

// Truth returns the observed passage time (unix seconds) of each trip stop.
func Truth(pings []avl.Ping) map[Key]float64 {
	order, byTrip := tripPings(pings)
	out := map[Key]float64{}
	for _, trip := range order {
		ps := byTrip[trip]
		lo, hi := math.MaxInt, math.MinInt
		for _, p := range ps {
			lo, hi = min(lo, p.seq), max(hi, p.seq)
		}
		for k := lo; k < hi; k++ {
			b, a := -1, -1
			for i, p := range ps {
				if p.seq <= k {
					b = i // the last, in time order
				} else if a < 0 {
					a = i // the first
				}
			}
			if b < 0 || a < 0 {
				continue
			}
			ta, tb := ps[a].t, ps[b].t
			if ta < tb || ta-tb > MaxGap {
				continue
			}
			out[Key{trip, k}] = float64(ta+tb) / 2
		}
	}
	return out
}

// tripPing is one ping of a trip, as avl_score.py keeps it.
type tripPing struct {
	t       int64
	seq     int
	vehicle string
}

// tripPings groups the pings that carry a stop sequence by trip (trips in
// order of first appearance), each trip's in time order with only the
// first of several at the same second, as avl_score.py's load_avl does.
func tripPings(pings []avl.Ping) ([]string, map[string][]tripPing) {
	byTrip := map[string][]tripPing{}
	var order []string
	for _, p := range pings {
		if p.StopSeq < 0 {
			continue
		}
		if _, ok := byTrip[p.Trip]; !ok {
			order = append(order, p.Trip)
		}
		byTrip[p.Trip] = append(byTrip[p.Trip], tripPing{p.Time.Unix(), p.StopSeq, p.Vehicle})
	}
	for _, trip := range order {
		ps := byTrip[trip]
		sort.SliceStable(ps, func(i, j int) bool { return ps[i].t < ps[j].t })
		dedup := ps[:0]
		for _, p := range ps {
			if len(dedup) > 0 && dedup[len(dedup)-1].t == p.t {
				continue
			}
			dedup = append(dedup, p)
		}
		byTrip[trip] = dedup
	}
	return order, byTrip
}

// Prediction is one prediction made.
type Prediction struct {
	MadeAt    float64 // unix seconds
	Vehicle   string  // the bus that made it; for Ghosts
	Trip      string
	Seq       int
	Predicted float64 // unix seconds
}

// Bucket is a horizon range in seconds, [Lo, Hi).
type Bucket struct{ Lo, Hi float64 }

// Buckets are the horizon ranges MAE is reported for.
var Buckets = []Bucket{{0, 300}, {300, 600}, {600, 1200}, {1200, 1800}}

// Band is an MBTA accuracy band: over horizons [Lo, Hi) seconds, an error
// (observed minus predicted) within [Early, Late] counts as accurate.
type Band struct{ Lo, Hi, Early, Late float64 }

// Bands are the MBTA's.
var Bands = []Band{{0, 180, -60, 60}, {180, 360, -90, 120}, {360, 720, -150, 210}, {720, 1800, -240, 360}}

// Result is the score of a set of predictions.
type Result struct {
	Scored int
	// Per bucket (index as Buckets): mean absolute error in seconds and the
	// number of predictions.
	MAE [4]float64
	N   [4]int
	// Per band (index as Bands): share in band, percent; and overall.
	BandPct   [4]float64
	BandN     [4]int
	InBandPct float64
}

// Score scores preds against truth.
func Score(preds []Prediction, truth map[Key]float64) Result {
	var r Result
	var sum [4]float64
	var in [4]int
	for _, p := range preds {
		act, ok := truth[Key{p.Trip, p.Seq}]
		if !ok || act < p.MadeAt {
			continue
		}
		h := math.Max(0, p.Predicted-p.MadeAt)
		e := act - p.Predicted
		r.Scored++
		for i, b := range Buckets {
			if h >= b.Lo && h < b.Hi {
				sum[i] += math.Abs(e)
				r.N[i]++
			}
		}
		for i, b := range Bands {
			if h >= b.Lo && h < b.Hi {
				r.BandN[i]++
				if e >= b.Early && e <= b.Late {
					in[i]++
				}
			}
		}
	}
	total, inTotal := 0, 0
	for i := range Buckets {
		if r.N[i] > 0 {
			r.MAE[i] = sum[i] / float64(r.N[i])
		}
		if r.BandN[i] > 0 {
			r.BandPct[i] = 100 * float64(in[i]) / float64(r.BandN[i])
		}
		total += r.BandN[i]
		inTotal += in[i]
	}
	if total > 0 {
		r.InBandPct = 100 * float64(inTotal) / float64(total)
	}
	return r
}
