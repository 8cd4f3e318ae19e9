package score

import (
	"fmt"
	"testing"
	"time"

	"github.com/headway-transit/headway/hub/internal/avl"
	"github.com/headway-transit/headway/internal/gtfs"
)

// ghostFeed is a schedule of trips A, B, D, E, F and X on one stop pattern (P:
// stops p1-p5 at sequences 1-5) and C on another (Q: q1-q3 at 10, 20, 30).
func ghostFeed() *gtfs.Feed {
	trip := func(id string, seqs []int, prefix string) *gtfs.Trip {
		tr := &gtfs.Trip{ID: id}
		for i, s := range seqs {
			tr.StopTimes = append(tr.StopTimes, gtfs.StopTime{StopID: fmt.Sprintf("%s%d", prefix, i+1), Sequence: s})
		}
		return tr
	}
	p, q := []int{1, 2, 3, 4, 5}, []int{10, 20, 30}
	return &gtfs.Feed{Trips: map[string]*gtfs.Trip{
		"A": trip("A", p, "p"), "B": trip("B", p, "p"), "D": trip("D", p, "p"), "X": trip("X", p, "p"),
		"E": trip("E", p, "p"), "F": trip("F", p, "p"),
		"C": trip("C", q, "q"),
	}}
}

// ghostPings is the recording:
//   - A (bus v1) passes 1 at 10030 and 2 at 10090, is first seen past 3 at
//     10400 (no truth: 280 s between pings), and gets to 4, never past;
//   - D (v3) passes 1 at 11045 and gets to 2;
//   - B (v2) passes 1-4 at 12030, 12090, 12150, 12210 and gets to 5;
//   - v5 is recorded at stop 1 of both E and F in the same second, 13000;
//   - C (v4) passes 10-19 at 20025 (10 alone is a scheduled stop), the
//     recording's end at 20050;
//   - X never runs.
//
// So the passages are A1, A2, D1, B1-B4 and C10; pattern P's stops 1-4 and
// Q's 10-19 are observable.
func ghostPings() []avl.Ping {
	type rec struct {
		trip, vehicle string
		t             int64
		seq           int
	}
	recs := []rec{
		{"A", "v1", 10000, 1}, {"A", "v1", 10060, 2}, {"A", "v1", 10120, 3}, {"A", "v1", 10400, 4},
		{"D", "v3", 11000, 1}, {"D", "v3", 11030, 1}, {"D", "v3", 11060, 2},
		{"B", "v2", 12000, 1}, {"B", "v2", 12060, 2}, {"B", "v2", 12120, 3}, {"B", "v2", 12180, 4}, {"B", "v2", 12240, 5},
		{"F", "v5", 13000, 1}, {"E", "v5", 13000, 1},
		{"C", "v4", 20000, 10}, {"C", "v4", 20050, 20},
	}
	pings := make([]avl.Ping, len(recs))
	for i, r := range recs {
		pings[i] = avl.Ping{Trip: r.trip, Vehicle: r.vehicle, Time: time.Unix(r.t, 0), StopSeq: r.seq}
	}
	return pings
}

func TestCountGhosts(t *testing.T) {
	pred := func(made float64, vehicle, trip string, seq int, predicted float64) Prediction {
		return Prediction{MadeAt: made, Vehicle: vehicle, Trip: trip, Seq: seq, Predicted: predicted}
	}
	const passages = 8
	tests := []struct {
		name  string
		preds []Prediction
		want  Ghosts
	}{
		{"nothing predicted: every passage missed", nil,
			Ghosts{Passages: passages, Missed: passages}},
		{"a bus that comes on time", []Prediction{pred(9800, "v1", "A", 1, 10040)},
			Ghosts{Predictions: 1, Passages: passages, Missed: passages - 1}},
		{"a bus that comes early is no ghost", []Prediction{pred(9000, "v1", "A", 1, 12000)},
			Ghosts{Predictions: 1, Passages: passages, Missed: passages}},
		{"no trip: never in the recording", []Prediction{pred(9000, "", "X", 2, 9500)},
			Ghosts{Predictions: 1, NoTrip: 1, Passages: passages, Missed: passages}},
		{"no trip, at a stop only another trip of its pattern is seen to pass", []Prediction{pred(9000, "", "X", 4, 9500)},
			Ghosts{Predictions: 1, NoTrip: 1, Passages: passages, Missed: passages}},
		{"not reached: the bus never got to the stop", []Prediction{pred(11050, "v3", "D", 3, 11200)},
			Ghosts{Predictions: 1, NotReached: 1, Passages: passages, Missed: passages}},
		{"reached and never seen past: no ghost", []Prediction{pred(11050, "v3", "D", 2, 11200)},
			Ghosts{Predictions: 1, Passages: passages, Missed: passages}},
		{"late: the passage more than 30 min after the time shown", []Prediction{
			pred(8000, "v1", "A", 1, 10030-1801), // truth 10030
			pred(8000, "v1", "A", 1, 10030-1800), // just in time
		}, Ghosts{Predictions: 2, Late: 1, Passages: passages, Missed: passages}},
		{"late by the first ping past the stop when it has no truth", []Prediction{
			pred(8000, "v1", "A", 3, 10400-1801), // first past 3 at 10400
			pred(8000, "v1", "A", 3, 10400-1800),
		}, Ghosts{Predictions: 2, Late: 1, Passages: passages, Missed: passages}},
		{"unjudged: too near the end of the recording", []Prediction{
			pred(18000, "v2", "B", 1, 20050-1799), // the recording ends at 20050
			pred(18000, "v2", "B", 1, 20050-1800), // judged: early, no ghost
		}, Ghosts{Predictions: 1, Unjudged: 1, Passages: passages, Missed: passages}},
		{"unjudged: no bus of the pattern is seen to pass the stop", []Prediction{
			pred(10000, "v1", "A", 5, 10500),  // A never got there, but neither is B seen past 5
			pred(10000, "v4", "C", 30, 10500), // Q's 30
			pred(10000, "", "Z", 1, 10500),    // not in the schedule
		}, Ghosts{Unjudged: 3, Passages: passages, Missed: passages}},
		{"wrong vehicle: on another trip at its last ping", []Prediction{
			pred(12100, "v2", "A", 2, 12200), // v2 is on B
			pred(12420, "v2", "A", 2, 12500), // 180 s after its last ping (12240)
			pred(12100, "v2", "X", 2, 12200), // and a ghost too
			pred(12000, "v2", "A", 2, 12200), // made at a ping (as all of the replay's are): that ping's trip
			pred(13000, "v5", "E", 2, 13100), // two trips in one second: the last by trip id, F
		}, Ghosts{Predictions: 5, WrongVehicle: 5, NoTrip: 1, NotReached: 1, Passages: passages, Missed: passages}},
		{"not wrong vehicle", []Prediction{
			pred(12100, "v2", "B", 4, 12200),  // its own trip (and B4, at 12210, announced)
			pred(12421, "v2", "A", 2, 12500),  // last ping 181 s before: not judged
			pred(11999, "v2", "A", 2, 12500),  // before its first ping
			pred(12100, "v9", "A", 2, 12200),  // never recorded
			pred(12100, "", "A", 2, 12200),    // no vehicle given
			pred(10130, "v1", "A", 4, 10300),  // between pings, on its trip
			pred(10800, "v1", "A", 4, 11000),  // on its trip 400 s before: not judged
			pred(12100, "v4", "A", 2, 11000),  // v4's pings are all later
			pred(13000, "v5", "F", 1, 13100),  // two trips in one second: the last by trip id, F
			pred(11040, "v3", "B", 2, 12100),  // v3 on D: wrong
			pred(11060, "v3", "A", 2, 110000), // unjudged: not counted
		}, Ghosts{Predictions: 10, Unjudged: 1, WrongVehicle: 1, Passages: passages, Missed: passages - 1}},
		{"announced 1 to 10 min before, unjudged predictions too", []Prediction{
			pred(12090-60, "v2", "B", 2, 12100),   // B2 at 12090, 60 s before
			pred(12150-600, "v2", "B", 3, 12160),  // B3 at 12150, 600 s before
			pred(20025-100, "v4", "C", 10, 20030), // C10, unjudged
		}, Ghosts{Predictions: 2, Unjudged: 1, Passages: passages, Missed: passages - 3}},
		{"not announced: too late or too early", []Prediction{
			pred(12090-59, "v2", "B", 2, 12100),
			pred(12150-601, "v2", "B", 3, 12160),
			pred(10100, "v1", "A", 2, 10200), // after the passage
		}, Ghosts{Predictions: 3, Passages: passages, Missed: passages}},
	}
	pings := ghostPings()
	truth := Truth(pings)
	feed := ghostFeed()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := CountGhosts(tt.preds, pings, truth, feed)
			if got != tt.want {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestGhostsPct(t *testing.T) {
	g := Ghosts{Predictions: 400, NoTrip: 1, NotReached: 2, Late: 3, WrongVehicle: 10, Passages: 50, Missed: 5}
	if g.GhostPct() != 1.5 || g.WrongVehiclePct() != 2.5 || g.MissedPct() != 10 {
		t.Errorf("ghost %v%%, wrong vehicle %v%%, missed %v%%", g.GhostPct(), g.WrongVehiclePct(), g.MissedPct())
	}
	if (Ghosts{}).GhostPct() != 0 || (Ghosts{}).MissedPct() != 0 {
		t.Error("nothing judged: want 0%, as avl_score.py")
	}
}

func TestCountGhostsEmptyRecording(t *testing.T) {
	g := CountGhosts([]Prediction{{MadeAt: 1, Trip: "A", Seq: 1, Predicted: 2}}, nil, nil, ghostFeed())
	if g != (Ghosts{Unjudged: 1}) {
		t.Errorf("%+v, want the one prediction unjudged", g)
	}
}
