package fleet

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/headway-transit/headway/firmware-sim/internal/dispatch"
	"github.com/headway-transit/headway/internal/geo"
	"github.com/headway-transit/headway/internal/gtfs"
)

// A bus on a block drives the block's trips in order and, arriving at the
// terminus, waits there (at least the layover) until the next trip's
// scheduled departure.
func TestRunDrivesBlock(t *testing.T) {
	feed := loadDemo(t)
	tests := []struct {
		name  string
		block string
		start time.Time
	}{
		{"route 1 morning", "1-bus03", time.Date(2026, 11, 27, 7, 40, 0, 0, feed.Location)},
		{"route 3 evening", "3-bus02", time.Date(2026, 11, 27, 18, 5, 0, 0, feed.Location)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			want, err := dispatch.New(feed).Block(tc.block, tc.start)
			if err != nil {
				t.Fatal(err)
			}
			fixes, stops := runTruth(t, Options{Feed: feed, Blocks: []string{tc.block}, Start: tc.start, Duration: 3 * time.Hour, Seed: 3})
			var trips []string
			for _, f := range fixes {
				if len(trips) == 0 || trips[len(trips)-1] != f.Trip {
					trips = append(trips, f.Trip)
				}
			}
			if len(trips) < 3 {
				t.Fatalf("drove %v in 3 hours, want at least three trips", trips)
			}
			for i, id := range trips {
				if i >= len(want) || want[i].Trip.ID != id {
					t.Fatalf("trip %d is %s; the block's trips are %v", i, id, runIDs(want))
				}
			}
			checkStops(t, feed, fixes, stops)
			layovers := 0
			for i, st := range stops {
				if st.StopSequence != want[0].Trip.StopTimes[0].Sequence || i == 0 || st.Trip == trips[0] {
					continue
				}
				k := indexOf(trips, st.Trip)
				prev := stops[i-1]
				if prev.Trip != trips[k-1] || prev.Arrival != st.Arrival {
					t.Errorf("%s: first stop reached %v, but %s ended %v", st.Trip, st.Arrival, prev.Trip, prev.Arrival)
				}
				if sched := want[k].Departs(); st.Departure.Before(sched) {
					t.Errorf("%s left the terminus at %v, before its scheduled %v", st.Trip, st.Departure, sched)
				}
				if lay := st.Departure.Sub(st.Arrival); lay < DefaultLayover {
					t.Errorf("%s: layover %v, want at least %v", st.Trip, lay, DefaultLayover)
				}
				layovers++
			}
			if layovers < 2 {
				t.Errorf("%d layovers seen, want two or more", layovers)
			}
		})
	}
}

// The truth's stop events are where and when the bus stood at the stop,
// within 30 m, in the order of the trips and their stops.
func TestTruthStopEvents(t *testing.T) {
	feed := loadDemo(t)
	start := demoStart(t, feed)
	fixes, stops := runTruth(t, Options{Feed: feed, Routes: []string{"1", "2", "3"}, Vehicles: 6, Start: start, Duration: 90 * time.Minute, Seed: 9})
	if len(stops) < 6*20 {
		t.Fatalf("%d stop events for 6 buses in 90 minutes", len(stops))
	}
	checkStops(t, feed, fixes, stops)
}

// checkStops holds each stop event against the fixes of its vehicle: they
// show the bus standing within 30 m of the stop from arrival to departure,
// and the events of a vehicle follow one another in time and stop order.
func checkStops(t *testing.T, feed *gtfs.Feed, fixes []Truth, stops []StopTruth) {
	t.Helper()
	byVehicle := map[string][]Truth{}
	for _, f := range fixes {
		byVehicle[f.Vehicle] = append(byVehicle[f.Vehicle], f)
	}
	last := map[string]StopTruth{}
	for _, st := range stops {
		name := fmt.Sprintf("%s %s stop %s (#%d)", st.Vehicle, st.Trip, st.StopID, st.StopSequence)
		stop := feed.Stops[st.StopID]
		if stop == nil || feed.Trips[st.Trip] == nil {
			t.Fatalf("%s: not in the feed", name)
		}
		if st.Departure.Before(st.Arrival) {
			t.Errorf("%s: departs %v before arriving %v", name, st.Departure, st.Arrival)
		}
		if p, ok := last[st.Vehicle]; ok {
			if st.Arrival.Before(p.Departure) {
				t.Errorf("%s: arrives %v before leaving the stop before at %v", name, st.Arrival, p.Departure)
			}
			if p.Trip == st.Trip && st.StopSequence <= p.StopSequence {
				t.Errorf("%s: after stop #%d", name, p.StopSequence)
			}
			if p.Trip == st.Trip && st.StopSequence != nextSeq(feed.Trips[st.Trip], p.StopSequence) {
				t.Errorf("%s: skipped stops after #%d", name, p.StopSequence)
			}
		}
		last[st.Vehicle] = st
		seen := 0
		for _, f := range byVehicle[st.Vehicle] {
			if f.Time.Before(st.Arrival) || f.Time.After(st.Departure) {
				continue
			}
			seen++
			if d := geo.Distance(stop.Point(), geo.Point{Lat: f.Lat, Lon: f.Lon}); d >= 30 || f.Speed != 0 {
				t.Errorf("%s: at %v the bus was %.0f m away at %.1f m/s", name, f.Time, d, f.Speed)
			}
		}
		if st.Departure.Sub(st.Arrival) >= 2*time.Second && seen == 0 {
			t.Errorf("%s: no fix while standing there %v to %v", name, st.Arrival, st.Departure)
		}
	}
}

func nextSeq(tr *gtfs.Trip, seq int) int {
	for i, st := range tr.StopTimes {
		if st.Sequence == seq && i+1 < len(tr.StopTimes) {
			return tr.StopTimes[i+1].Sequence
		}
	}
	return -1
}

func runTruth(t testing.TB, opts Options) ([]Truth, []StopTruth) {
	t.Helper()
	var tb bytes.Buffer
	opts.Truth = &tb
	runBufferedTruth(t, opts)
	return readTruthAll(t, tb.Bytes())
}

func runIDs(runs []dispatch.Run) []string {
	var out []string
	for _, r := range runs {
		out = append(out, r.Trip.ID)
	}
	return out
}

func indexOf(l []string, s string) int {
	for i, x := range l {
		if x == s {
			return i
		}
	}
	return -1
}
