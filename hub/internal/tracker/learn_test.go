package tracker

import (
	"testing"
	"time"

	"github.com/headway-transit/headway/hub/internal/testfeed"
	"github.com/headway-transit/headway/internal/wire"
)

// TestWaitingPastDepartureIsNoEvidence: a bus standing at the east end at
// 08:18 may be W0810's, eight minutes late leaving, or W0820's, early: the
// fix is no evidence for either block, so the bus's history decides.
func TestWaitingPastDepartureIsNoEvidence(t *testing.T) {
	feed := testfeed.Line(t)
	tr := New(feed, Config{MaxOffRoute: 100, MaxFuture: time.Minute})
	day := time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)
	at := day.Add(8*time.Hour + 18*time.Minute)
	end := testfeed.StopPoint(testfeed.Stops - 1)
	p := wire.Position{V: 1, Vehicle: "bus-1", Seq: 1, Time: at, Lat: end.Lat, Lon: end.Lon, Mode: 3,
		Speed: wire.Float(0), Track: wire.Float(270)}
	if _, err := tr.Update(p, at); err != nil {
		t.Fatal(err)
	}
	v := tr.Vehicle("bus-1")
	late := blockKey{day.Unix(), "daily", "B0800"}  // W0810, due away at 08:10
	early := blockKey{day.Unix(), "daily", "B0810"} // W0820, due away at 08:20
	if v.blockCost[late] != 0 || v.blockCost[early] != 0 {
		t.Errorf("block costs: W0810's %.1f, W0820's %.1f, want both 0", v.blockCost[late], v.blockCost[early])
	}
	// A feed without speeds: standing is told by the bus not moving
	// between fixes, so the first fix counts and the second adds nothing.
	q := p
	q.Vehicle, q.Speed, q.Track = "bus-2", nil, nil
	var diff [2]float64
	for i := range diff {
		q.Seq, q.Time = uint64(i+1), at.Add(time.Duration(i)*30*time.Second)
		if _, err := tr.Update(q, q.Time); err != nil {
			t.Fatal(err)
		}
		u := tr.Vehicle("bus-2")
		diff[i] = u.blockCost[late] - u.blockCost[early]
	}
	if diff[1] > diff[0] {
		t.Errorf("without speeds: W0810's cost over W0820's grew from %.1f to %.1f standing", diff[0], diff[1])
	}
	// Moving away, eight minutes after W0810 was due, the bus is late on it.
	p.Seq, p.Time, p.Speed = 2, at.Add(30*time.Second), wire.Float(8)
	if _, err := tr.Update(p, p.Time); err != nil {
		t.Fatal(err)
	}
	if v.blockCost[late] <= v.blockCost[early] {
		t.Errorf("driving off late: W0810's cost %.1f, W0820's %.1f, want W0810's higher", v.blockCost[late], v.blockCost[early])
	}
}
