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
	Scored int `json:"scored"`
	// Per bucket (index as Buckets): mean absolute error in seconds and the
	// number of predictions.
	MAE [4]float64 `json:"mae"`
	N   [4]int     `json:"n"`
	// Per band (index as Bands): share in band, percent; and overall.
	BandPct   [4]float64 `json:"band_pct"`
	BandN     [4]int     `json:"band_n"`
	InBandPct float64    `json:"in_band_pct"`
}

// Tally accumulates scored predictions: the hub's live scorer keeps one per
// route and time slot, Score one for a whole replay, so both count by the
// same definitions.
type Tally struct {
	N, BandN, In [4]int
	Sum          [4]float64 // absolute errors, seconds
}

// Add counts one prediction made horizon h seconds ahead whose error
// (observed minus predicted) was e seconds.
func (t *Tally) Add(h, e float64) {
	h = math.Max(0, h)
	for i, b := range Buckets {
		if h >= b.Lo && h < b.Hi {
			t.Sum[i] += math.Abs(e)
			t.N[i]++
		}
	}
	for i, b := range Bands {
		if h >= b.Lo && h < b.Hi {
			t.BandN[i]++
			if e >= b.Early && e <= b.Late {
				t.In[i]++
			}
		}
	}
}

// Merge adds o's counts to t's.
func (t *Tally) Merge(o Tally) {
	for i := range 4 {
		t.N[i] += o.N[i]
		t.BandN[i] += o.BandN[i]
		t.In[i] += o.In[i]
		t.Sum[i] += o.Sum[i]
	}
}

// Result is the score t adds up to; Scored counts the predictions whose
// horizon is in a bucket.
func (t Tally) Result() Result {
	var r Result
	total, inTotal := 0, 0
	for i := range Buckets {
		r.N[i], r.BandN[i] = t.N[i], t.BandN[i]
		r.Scored += t.N[i]
		if t.N[i] > 0 {
			r.MAE[i] = t.Sum[i] / float64(t.N[i])
		}
		if t.BandN[i] > 0 {
			r.BandPct[i] = 100 * float64(t.In[i]) / float64(t.BandN[i])
		}
		total += t.BandN[i]
		inTotal += t.In[i]
	}
	if total > 0 {
		r.InBandPct = 100 * float64(inTotal) / float64(total)
	}
	return r
}

// Score scores preds against truth.
func Score(preds []Prediction, truth map[Key]float64) Result {
	var t Tally
	scored := 0
	for _, p := range preds {
		act, ok := truth[Key{p.Trip, p.Seq}]
		if !ok || act < p.MadeAt {
			continue
		}
		scored++
		t.Add(p.Predicted-p.MadeAt, act-p.Predicted)
	}
	r := t.Result()
	r.Scored = scored // every prediction with a truth, whatever its horizon
	return r
}
