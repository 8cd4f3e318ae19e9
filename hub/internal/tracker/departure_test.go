package tracker

import (
	"fmt"
	"testing"
	"time"

	"github.com/headway-transit/headway/internal/gtfs"
	"github.com/headway-transit/headway/internal/wire"
)

// TestLateBusLeavingTerminal is the demo's late bus (issue 21): route 2
// runs every 10 minutes each way; a bus 12 minutes late drives 2-0-1210
// (it fits that one as 2 min late), reaches Lighthouse at 11:28 and waits.
// Its block's next trip, 2-1-1240, leaves at 11:40, so waiting there it is
// taken for that one, but it leaves at 11:32: a bus eight minutes ahead of
// 2-1-1240 is 2-1-1230 running late, not 2-1-1240 running early, and the
// block evidence of the trip before must not put it back.
func TestLateBusLeavingTerminal(t *testing.T) {
	feed, err := gtfs.Load("../../../configs/demo-feed")
	if err != nil {
		t.Fatal(err)
	}
	out, back := feed.Trips["2-0-1210"], feed.Trips["2-1-1230"]
	if out == nil || back == nil || feed.Trips["2-1-1240"] == nil || out.BlockID != feed.Trips["2-1-1240"].BlockID {
		t.Fatal("the demo feed changed: route 2's 2-0-1210, then 2-1-1230 and 2-1-1240 (2-0-1210's block's next) are needed")
	}
	rome, _ := time.LoadLocation("Europe/Rome")
	now := time.Date(2026, 12, 6, 12, 12, 0, 0, rome) // 2-0-1210 left Old Town at 12:10
	tr := New(feed, Config{MaxOffRoute: 150, MaxFuture: time.Minute})
	fix := driver(t, tr, &now)
	name := func(v *Vehicle) string {
		if v.Trip == nil {
			return "no trip"
		}
		return v.Trip.ID
	}
	// 2-0-1210, two minutes late, to its end.
	dayStart := feed.ServiceDayStart(gtfs.DateOf(now, feed.Location))
	end := out.StopTimes[len(out.StopTimes)-1].Dist
	for d := 0.0; d < end; {
		d = min(end, d+8)
		fix(out, d, 8)
		for now.Before(dayStart.Add(ScheduledAt(out, d) + 2*time.Minute)) {
			fix(out, d, 0)
		}
	}
	// Waiting at Lighthouse until 12:32, taken meanwhile for its block's
	// next trip (the premise of this test).
	leave := time.Date(2026, 12, 6, 12, 32, 0, 0, rome)
	for now.Before(leave) {
		fix(back, 0, 0)
	}
	if v := tr.Vehicle("bus-2"); v.Trip == nil || v.Trip.ID != "2-1-1240" {
		t.Fatalf("waiting at Lighthouse at 12:32 after 2-0-1210 the bus is on %s, want 2-1-1240 (its block's next)", name(v))
	}
	// Off along 2-1, at 10 m/s.
	for d := 0.0; d < 3000; d += 10 {
		v := fix(back, d, 10)
		if d > LayoverRadius+50 && (v.Trip == nil || v.Trip.ID != "2-1-1230") {
			t.Fatalf("%.0f m after leaving Lighthouse at 12:32, the bus is on %s (delay %v), want 2-1-1230, 2 min late",
				d, name(v), v.Delay.Round(time.Second))
		}
	}
}

// TestBusLeavingAtNextTripsTime: route 2's 2-0-1200 is not run (an
// agency's missed trip). The bus at Old Town from 11:57, taken for
// 2-0-1200 while it waits, stands there past 12:00 and leaves at 12:10:
// it is 2-0-1210 on time, not 2-0-1200 ten minutes late.
func TestBusLeavingAtNextTripsTime(t *testing.T) {
	feed, err := gtfs.Load("../../../configs/demo-feed")
	if err != nil {
		t.Fatal(err)
	}
	trip := feed.Trips["2-0-1210"]
	if trip == nil || feed.Trips["2-0-1200"] == nil || trip.StopTimes[0].Departure != 12*3600+10*60 {
		t.Fatal("the demo feed changed: route 2's 2-0-1200 and 2-0-1210, leaving at 12:00 and 12:10, are needed")
	}
	rome, _ := time.LoadLocation("Europe/Rome")
	now := time.Date(2026, 12, 6, 11, 57, 0, 0, rome)
	tr := New(feed, Config{MaxOffRoute: 150, MaxFuture: time.Minute})
	fix := driver(t, tr, &now)
	for now.Before(time.Date(2026, 12, 6, 12, 10, 0, 0, rome)) {
		fix(trip, 0, 0)
	}
	for d := 0.0; d < 1000; d += 10 {
		v := fix(trip, d, 10)
		if d > LayoverRadius+50 && (v.Trip == nil || v.Trip.ID != "2-0-1210") {
			id := "no trip"
			if v.Trip != nil {
				id = v.Trip.ID
			}
			t.Fatalf("%.0f m after leaving Old Town at 12:10, the bus is on %s (delay %v), want 2-0-1210 on time", d, id, v.Delay.Round(time.Second))
		}
	}
}

// driver returns a func that sends bus-2's next fix, d metres along trip's
// path at speed and heading along it, at *now, then moves *now on a second.
func driver(t *testing.T, tr *Tracker, now *time.Time) func(trip *gtfs.Trip, d, speed float64) *Vehicle {
	seq := uint64(0)
	return func(trip *gtfs.Trip, d, speed float64) *Vehicle {
		seq++
		p, bearing := trip.Path.At(d)
		pos := wire.Position{V: 1, Vehicle: "bus-2", Seq: seq, Time: *now, Lat: p.Lat, Lon: p.Lon, Mode: 3,
			Speed: wire.Float(speed), Track: wire.Float(bearing)}
		if _, err := tr.Update(pos, *now); err != nil {
			t.Fatal(err)
		}
		*now = now.Add(time.Second)
		return tr.Vehicle("bus-2")
	}
}

// TestBusLeavingOnStandingBusesTrip is the WMATA C53 case (issue 21): two
// buses stand at a terminal, each taken for its block's next trip. The one
// that left on time for that block's next trip (2-1-1230) stands on; the
// other, whose own block's next trip (2-1-1240) leaves in six minutes,
// leaves at 12:34. It is 2-1-1230 running four minutes late, not 2-1-1240
// six minutes early: a bus at a terminal holds a trip only until another
// leaves on it, whatever the block evidence of the hours before said, and
// the one still standing gives the block up. Leaving at 12:38 instead, it
// is its own 2-1-1240, two minutes early, and the other keeps 2-1-1230.
func TestBusLeavingOnStandingBusesTrip(t *testing.T) {
	for _, tc := range []struct {
		leave          int // minute past 12
		want, standing string
	}{{34, "2-1-1230", ""}, {38, "2-1-1240", "2-1-1230"}} {
		t.Run(fmt.Sprintf("12:%d", tc.leave), func(t *testing.T) {
			standingBuses(t, time.Date(2026, 12, 6, 12, tc.leave, 0, 0, time.UTC), tc.want, tc.standing)
		})
	}
}

// standingBuses runs TestBusLeavingOnStandingBusesTrip's buses, bus-b
// leaving at leave (UTC clock reading, taken in the feed's zone): bus-b must
// be on want once under way, and bus-a, standing, on standing at the end
// (or on anything else, when standing is "").
func standingBuses(t *testing.T, leave time.Time, want, standing string) {
	feed, err := gtfs.Load("../../../configs/demo-feed")
	if err != nil {
		t.Fatal(err)
	}
	outA, outB := feed.Trips["2-0-1200"], feed.Trips["2-0-1210"]
	backA, backB := feed.Trips["2-1-1230"], feed.Trips["2-1-1240"]
	if outA == nil || outB == nil || backA == nil || backB == nil || outA.BlockID != backA.BlockID || outB.BlockID != backB.BlockID || outA.BlockID == outB.BlockID {
		t.Fatal("the demo feed changed: route 2's blocks 2-0-1200 then 2-1-1230, and 2-0-1210 then 2-1-1240, are needed")
	}
	rome, _ := time.LoadLocation("Europe/Rome")
	dayStart := time.Date(2026, 12, 6, 0, 0, 0, 0, rome)
	tr := New(feed, Config{MaxOffRoute: 150, MaxFuture: time.Minute})
	seq := map[string]uint64{}
	fix := func(id string, trip *gtfs.Trip, d, speed float64, now time.Time) {
		seq[id]++
		p, bearing := trip.Path.At(d)
		pos := wire.Position{V: 1, Vehicle: id, Seq: seq[id], Time: now, Lat: p.Lat, Lon: p.Lon, Mode: 3,
			Speed: wire.Float(speed), Track: wire.Float(bearing)}
		if _, err := tr.Update(pos, now); err != nil {
			t.Fatal(err)
		}
	}
	// onTime is how far along trip a bus keeping its schedule is at now.
	onTime := func(trip *gtfs.Trip, now time.Time) float64 {
		lo, hi := 0.0, trip.StopTimes[len(trip.StopTimes)-1].Dist
		for hi-lo > 1 {
			if mid := (lo + hi) / 2; dayStart.Add(ScheduledAt(trip, mid)).After(now) {
				hi = mid
			} else {
				lo = mid
			}
		}
		return lo
	}
	// place reports bus out-then-back's fix at now: waiting at out's first
	// stop, on out on time, then standing at back's first stop until leave
	// (zero: for good), then off along back at 10 m/s.
	place := func(out, back *gtfs.Trip, leave, now time.Time) (*gtfs.Trip, float64, float64) {
		end := dayStart.Add(ScheduledAt(out, out.StopTimes[len(out.StopTimes)-1].Dist))
		switch {
		case now.Before(end):
			d := onTime(out, now)
			if d == 0 {
				return out, 0, 0
			}
			return out, d, (d - onTime(out, now.Add(-2*time.Second))) / 2
		case leave.IsZero() || now.Before(leave):
			return back, 0, 0
		default:
			return back, 10 * now.Sub(leave).Seconds(), 10
		}
	}
	leaveB := time.Date(2026, 12, 6, leave.Hour(), leave.Minute(), 0, 0, rome)
	name := func(v *Vehicle) string {
		if v == nil || v.Trip == nil {
			return "no trip"
		}
		return v.Trip.ID
	}
	for now := time.Date(2026, 12, 6, 11, 58, 0, 0, rome); now.Before(leaveB.Add(3 * time.Minute)); now = now.Add(time.Second) {
		id, out, back, leave := "bus-a", outA, backA, time.Time{}
		if now.Unix()%2 == 1 {
			id, out, back, leave = "bus-b", outB, backB, leaveB
		}
		trip, d, speed := place(out, back, leave, now)
		fix(id, trip, d, speed, now)
		if v := tr.Vehicle("bus-a"); now.Equal(leaveB.Add(-time.Minute)) && name(v) != "2-1-1230" {
			t.Fatalf("standing at Lighthouse at 12:33 after 2-0-1200, bus-a is on %s, want 2-1-1230 (its block's next: the premise of this test)", name(v))
		}
		if v := tr.Vehicle("bus-b"); now.Equal(leaveB.Add(-time.Minute)) && name(v) != "2-1-1240" {
			t.Fatalf("standing at Lighthouse at 12:33 after 2-0-1210, bus-b is on %s, want 2-1-1240 (its block's next: the premise of this test)", name(v))
		}
		if id == "bus-b" && trip == backB && d > LayoverRadius+50 {
			if v := tr.Vehicle("bus-b"); name(v) != want {
				t.Fatalf("%.0f m after leaving Lighthouse at %s, bus-b is on %s (delay %v), want %s", d, leaveB.Format("15:04"), name(v), v.Delay.Round(time.Second), want)
			}
		}
	}
	v := tr.Vehicle("bus-a")
	if standing == "" && name(v) == want {
		t.Errorf("bus-a, still standing at Lighthouse, is on %s, which bus-b left on at %s", want, leaveB.Format("15:04"))
	}
	if standing != "" && name(v) != standing {
		t.Errorf("bus-a, still standing at Lighthouse after bus-b left on its own trip, is on %s, want %s", name(v), standing)
	}
}
