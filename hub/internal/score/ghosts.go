package score

import (
	"sort"
	"strings"

	"github.com/headway-transit/headway/hub/internal/avl"
	"github.com/headway-transit/headway/internal/gtfs"
)

// The thresholds of avl_score.py's ghosts, in seconds.
const (
	// LateBy is how long after the predicted time a bus may pass a stop
	// before the prediction counts as a ghost ("late"). A prediction is
	// judged only when the recording runs on this long after its
	// predicted time.
	LateBy = 1800
	// A passage is announced when some prediction for it was made
	// between AnnouncedMin and AnnouncedMax before it.
	AnnouncedMin, AnnouncedMax = 60, 600
	// OnTripWithin is how recent the vehicle's last ping must be for its
	// trip then to judge whether the vehicle predicted for another.
	OnTripWithin = 180
)

// Ghosts counts what a passenger at the stop would hold against a sign:
// a realtime time for a bus that does not come, and a bus that comes with
// no realtime time.
type Ghosts struct {
	// Predictions judged, and those not: made for a stop no bus of the
	// same stop pattern is seen to pass, or too near the recording's end.
	Predictions, Unjudged int
	// Ghosts, by kind: the trip never appears in the recording, its bus
	// never gets to the stop, or gets there more than LateBy after the
	// predicted time.
	NoTrip, NotReached, Late int
	// WrongVehicle: the vehicle was recorded on another trip at the time.
	// It is counted beside the ghost kinds, not among them.
	WrongVehicle int
	// Passages observed at scheduled stops, and those Missed: announced
	// by no prediction.
	Passages, Missed int
}

// GhostPct is the share of judged predictions that are ghosts, percent.
func (g Ghosts) GhostPct() float64 {
	return pct(g.NoTrip+g.NotReached+g.Late, g.Predictions)
}

// WrongVehiclePct is the share of judged predictions made by a vehicle on
// another trip, percent.
func (g Ghosts) WrongVehiclePct() float64 { return pct(g.WrongVehicle, g.Predictions) }

// MissedPct is the share of passages no prediction announced, percent.
func (g Ghosts) MissedPct() float64 { return pct(g.Missed, g.Passages) }

func pct(n, of int) float64 { return 100 * float64(n) / float64(max(of, 1)) }

// CountGhosts judges preds against the recorded pings, their truth (from
// Truth) and the schedule, with avl_score.py's definitions (its ghosts
// command). A bus passes a stop at its truth time when there is one, else
// at its first ping past the stop.
func CountGhosts(preds []Prediction, pings []avl.Ping, truth map[Key]float64, feed *gtfs.Feed) Ghosts {
	order, byTrip := tripPings(pings)
	type onTrip struct {
		t    int64
		trip string
	}
	var (
		haveEnd   bool
		end       int64
		reached   = map[string]int{}     // highest stop sequence seen
		firstPast = map[string][]int64{} // [k]: first ping past stop k
		byVehicle = map[string][]onTrip{}
	)
	for _, trip := range order {
		var past []int64
		for _, p := range byTrip[trip] {
			if !haveEnd || p.t > end {
				end, haveEnd = p.t, true
			}
			for len(past) < p.seq {
				past = append(past, p.t)
			}
			if p.vehicle != "" {
				byVehicle[p.vehicle] = append(byVehicle[p.vehicle], onTrip{p.t, trip})
			}
		}
		reached[trip] = len(past) // pings are never empty: the highest seq
		firstPast[trip] = past
	}
	for _, v := range byVehicle {
		sort.Slice(v, func(i, j int) bool {
			return v[i].t < v[j].t || v[i].t == v[j].t && v[i].trip < v[j].trip
		})
	}

	// A stop is judged by the trips that run the same stops in the same
	// order: a stop one of them is seen to pass is one the recording
	// would show this trip passing too.
	type pattern struct {
		stops string // stop ids in sequence order
		known bool   // the trip is in the schedule
	}
	patterns := map[string]pattern{}
	patternOf := func(trip string) pattern {
		pat, ok := patterns[trip]
		if !ok {
			if tr := feed.Trips[trip]; tr != nil {
				ids := make([]string, len(tr.StopTimes))
				for i, st := range tr.StopTimes {
					ids[i] = st.StopID
				}
				pat = pattern{strings.Join(ids, "\x00"), true}
			}
			patterns[trip] = pat
		}
		return pat
	}
	type patternStop struct {
		pattern
		seq int
	}
	observable := map[patternStop]bool{}
	for k := range truth {
		observable[patternStop{patternOf(k.Trip), k.Seq}] = true
	}

	var g Ghosts
	announced := map[Key]bool{}
	for _, p := range preds {
		k := Key{p.Trip, p.Seq}
		// No truth reads as 0, as in avl_score.py: never announced.
		if before := truth[k] - p.MadeAt; before >= AnnouncedMin && before <= AnnouncedMax {
			announced[k] = true
		}
		if !haveEnd || p.Predicted+LateBy > float64(end) || !observable[patternStop{patternOf(p.Trip), p.Seq}] {
			g.Unjudged++
			continue
		}
		g.Predictions++
		// Pings without a vehicle are not in byVehicle, so neither is "".
		if v := byVehicle[p.Vehicle]; len(v) > 0 {
			i := sort.Search(len(v), func(i int) bool { return float64(v[i].t) > p.MadeAt }) - 1
			if i >= 0 && p.MadeAt-float64(v[i].t) <= OnTripWithin && v[i].trip != p.Trip {
				g.WrongVehicle++
			}
		}
		if _, ok := byTrip[p.Trip]; !ok {
			g.NoTrip++
			continue
		}
		passed, ok := truth[k]
		if past := firstPast[p.Trip]; !ok && p.Seq >= 0 && p.Seq < len(past) {
			passed, ok = float64(past[p.Seq]), true
		}
		switch {
		case !ok:
			if reached[p.Trip] < p.Seq {
				g.NotReached++
			}
		case passed > p.Predicted+LateBy:
			g.Late++
		}
	}

	for k := range truth {
		if scheduledStop(feed.Trips[k.Trip], k.Seq) {
			g.Passages++
			if !announced[k] {
				g.Missed++
			}
		}
	}
	return g
}

// scheduledStop says whether trip tr (nil: not in the schedule) has a stop
// with sequence number seq.
func scheduledStop(tr *gtfs.Trip, seq int) bool {
	if tr == nil {
		return false
	}
	sts := tr.StopTimes
	i := sort.Search(len(sts), func(i int) bool { return sts[i].Sequence >= seq })
	return i < len(sts) && sts[i].Sequence == seq
}
