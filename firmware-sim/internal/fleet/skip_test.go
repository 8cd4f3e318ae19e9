package fleet

import (
	"bytes"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/headway-transit/headway/firmware-sim/internal/dispatch"
	"github.com/headway-transit/headway/firmware-sim/internal/motion"
	"github.com/headway-transit/headway/internal/geo"
	"github.com/headway-transit/headway/internal/gtfs"
)

// skipLine is how a skip line names a run, to compare with the dispatcher's.
func skipLine(r dispatch.Run) string {
	return fmt.Sprintf("%s %04d-%02d-%02d %s", r.Trip.ID, r.Date.Y, int(r.Date.M), r.Date.D, r.Departs().UTC().Format(time.RFC3339))
}

func (s SkipTruth) String() string {
	return fmt.Sprintf("%s %s %s", s.Trip, s.ServiceDay, s.ScheduledDeparture.Format(time.RFC3339))
}

// wantSkips is what the truth of a run of opts should list: the skipped
// runs of its routes or blocks scheduled to depart by its last fix, or under
// way at its start, by a dispatcher of its own.
func wantSkips(t testing.TB, opts Options, routes, blocks []string) []string {
	t.Helper()
	d := dispatch.New(opts.Feed)
	if err := d.Skip(dispatch.Skips{Share: opts.Skip, Seed: opts.Seed, Trips: opts.SkipTrips}); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range d.SkippedRuns(routes, blocks, opts.Start, opts.Start.Add(opts.Duration)) {
		out = append(out, skipLine(r))
	}
	return out
}

// With a share of the trips skipped, the truth lists exactly the skipped
// runs of the routes driven, about the share asked of all; no bus drives
// one. (The windows lie within one service day, where a trip ID names one
// run.)
func TestSkipShareTruth(t *testing.T) {
	feed := loadDemo(t)
	tests := []struct {
		name     string
		routes   []string
		vehicles int
		share    float64
		seed     uint64
		start    time.Time
		duration time.Duration
	}{
		{"three routes, a fifth", []string{"1", "2", "3"}, 6, 0.2, 5, time.Date(2026, 11, 27, 7, 0, 0, 0, feed.Location), 2 * time.Hour},
		{"one route, a fifth, another seed", []string{"2"}, 2, 0.2, 77, time.Date(2026, 11, 27, 14, 30, 0, 0, feed.Location), 3 * time.Hour},
		{"three routes, a third", []string{"1", "2", "3"}, 3, 0.33, 9, time.Date(2026, 11, 27, 11, 0, 0, 0, feed.Location), 2 * time.Hour},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			opts := Options{
				Feed: feed, Routes: tc.routes, Vehicles: tc.vehicles, Start: tc.start, Duration: tc.duration,
				Seed: tc.seed, Skip: tc.share,
			}
			fixes, stops, skips := runSkips(t, opts)
			var got []string
			skipped := map[string]bool{}
			for _, s := range skips {
				got = append(got, s.String())
				skipped[s.Trip] = true
				if !slices.Contains(tc.routes, s.Route) || feed.Trips[s.Trip] == nil || feed.Trips[s.Trip].RouteID != s.Route {
					t.Errorf("skip line %s on route %s", s, s.Route)
				}
			}
			if want := wantSkips(t, opts, tc.routes, nil); !slices.Equal(got, want) {
				t.Errorf("skip lines:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
			all := dispatch.New(feed).Scheduled(tc.routes, nil, opts.Start, opts.Start.Add(opts.Duration))
			share := float64(len(skips)) / float64(len(all))
			t.Logf("%d of %d runs skipped (%.2f)", len(skips), len(all), share)
			if math.Abs(share-tc.share) > 0.1 {
				t.Errorf("%d of %d runs skipped (%.2f), want about %.2f", len(skips), len(all), share, tc.share)
			}
			driven := map[string]bool{}
			for _, f := range fixes {
				driven[f.Trip] = true
				if skipped[f.Trip] {
					t.Fatalf("%s drove skipped trip %s at %v", f.Vehicle, f.Trip, f.Time)
				}
			}
			for _, s := range stops {
				if skipped[s.Trip] {
					t.Fatalf("%s served stop %s of skipped trip %s", s.Vehicle, s.StopID, s.Trip)
				}
			}
			if len(driven) < tc.vehicles*2 {
				t.Errorf("%d buses drove %d trips in %v", tc.vehicles, len(driven), tc.duration)
			}
		})
	}
}

// A bus whose next trip is skipped does not run it: it lays over at the
// terminus for the one after (on a block, the block's next), and the truth
// says which it left.
func TestSkippedTripBusTakesNext(t *testing.T) {
	feed := loadDemo(t)
	at := time.Date(2026, 11, 27, 8, 13, 0, 0, feed.Location)
	first, err := dispatch.New(feed).Current("2", at)
	if err != nil {
		t.Fatal(err)
	}
	block, err := dispatch.New(feed).Block("1-bus03", at)
	if err != nil {
		t.Fatal(err)
	}
	// after is the next trip from where trip id starts, the same way.
	after := func(id string) string {
		tr := feed.Trips[id]
		best := ""
		for _, o := range feed.Trips {
			if o.RouteID != tr.RouteID || o.DirectionID != tr.DirectionID || o.StopTimes[0].StopID != tr.StopTimes[0].StopID ||
				o.StopTimes[0].Departure <= tr.StopTimes[0].Departure {
				continue
			}
			if best == "" || o.StopTimes[0].Departure < feed.Trips[best].StopTimes[0].Departure {
				best = o.ID
			}
		}
		return best
	}
	tests := []struct {
		name string
		opts Options
		// skip picks the trips to skip from those driven with none skipped;
		// want is what the bus then drives first.
		skip, want func(before []string) []string
		routes     []string // whose skipped runs the truth lists
		blocks     []string
		// jumps says the bus may appear at its next trip's first stop: a
		// block's next trip may start at the other terminus.
		jumps bool
	}{
		{
			name:   "trip, then its route's next",
			opts:   Options{Trips: []string{first.Trip.ID}},
			skip:   func(b []string) []string { return []string{b[1]} },
			want:   func(b []string) []string { return []string{b[0], after(b[1])} },
			routes: []string{"2"},
		},
		{
			name:   "trip, two in a row",
			opts:   Options{Trips: []string{first.Trip.ID}},
			skip:   func(b []string) []string { return []string{b[1], after(b[1])} },
			want:   func(b []string) []string { return []string{b[0], after(after(b[1]))} },
			routes: []string{"2"},
		},
		{
			name:   "route, later on",
			opts:   Options{Routes: []string{"3"}},
			skip:   func(b []string) []string { return []string{b[3]} },
			want:   func(b []string) []string { return []string{b[0], b[1], b[2], after(b[3])} },
			routes: []string{"3"},
		},
		{
			name: "block",
			opts: Options{Blocks: []string{"1-bus03"}},
			skip: func([]string) []string { return []string{block[1].Trip.ID, block[4].Trip.ID} },
			want: func([]string) []string {
				return []string{block[0].Trip.ID, block[2].Trip.ID, block[3].Trip.ID, block[5].Trip.ID}
			},
			blocks: []string{"1-bus03"},
			jumps:  true,
		},
	}
	day := feed.ServiceDayStart(gtfs.DateOf(at, feed.Location))
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			opts := tc.opts
			opts.Feed, opts.Start, opts.Duration, opts.Seed = feed, at, 150*time.Minute, 2
			fixes, _, skips := runSkips(t, opts)
			if len(skips) != 0 {
				t.Fatalf("skip lines with nothing skipped: %v", skips)
			}
			before := tripsDriven(fixes)
			opts.SkipTrips = tc.skip(before)
			fixes, stops, skips := runSkips(t, opts)
			got, want := tripsDriven(fixes), tc.want(before)
			if len(got) < len(want) || !slices.Equal(got[:len(want)], want) {
				t.Errorf("skipping %v, drove %v, want %v first; with none skipped %v", opts.SkipTrips, got, want, before)
			}
			var lines []string
			for _, s := range skips {
				lines = append(lines, s.String())
			}
			if w := wantSkips(t, opts, tc.routes, tc.blocks); !slices.Equal(lines, w) {
				t.Errorf("skip lines:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(w, "\n"))
			}
			for _, id := range opts.SkipTrips {
				if !slices.ContainsFunc(skips, func(s SkipTruth) bool { return s.Trip == id }) {
					t.Errorf("no skip line for %s", id)
				}
				if slices.Contains(got, id) {
					t.Errorf("drove skipped %s", id)
				}
			}
			// It waited at each terminus for its trip's departure and, on a
			// route, got there by driving, not by jumping.
			for i, f := range fixes[1:] {
				prev := fixes[i]
				if d := geo.Distance(geo.Point{Lat: prev.Lat, Lon: prev.Lon}, geo.Point{Lat: f.Lat, Lon: f.Lon}); d > 20 && !tc.jumps {
					t.Errorf("%v: jumped %.0f m from trip %s to %s", f.Time, d, prev.Trip, f.Trip)
				}
			}
			for _, s := range stops {
				tr := feed.Trips[s.Trip]
				if s.StopSequence != tr.StopTimes[0].Sequence || s.Trip == got[0] {
					continue
				}
				if sched := tr.DepartureAt(day, 0); s.Departure.Before(sched) {
					t.Errorf("%s left the terminus at %v, before its scheduled %v", s.Trip, s.Departure, sched)
				}
			}
		})
	}
}

// With a fixed seed and start, a run that skips trips repeats exactly; with
// another seed, other trips are skipped.
func TestSkipRepeats(t *testing.T) {
	feed := loadDemo(t)
	tests := []struct {
		name string
		opts Options
	}{
		{"fleet", Options{Routes: []string{"1", "2", "3"}, Vehicles: 6}},
		{"blocks", Options{Blocks: []string{"1-bus03", "2-bus01"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			opts := tc.opts
			opts.Feed, opts.Start, opts.Duration = feed, time.Date(2026, 11, 27, 9, 0, 0, 0, feed.Location), 40*time.Minute
			opts.Seed, opts.Skip = 11, 0.2
			var a, b, c bytes.Buffer
			opts.Truth = &a
			nmeaA := runBufferedTruth(t, opts)
			opts.Truth = &b
			nmeaB := runBufferedTruth(t, opts)
			if !bytes.Equal(a.Bytes(), b.Bytes()) || !bytes.Equal(nmeaA, nmeaB) {
				t.Error("the same seed and start gave a different run")
			}
			_, _, skipsA := readTruthSkips(t, a.Bytes())
			if len(skipsA) == 0 {
				t.Fatal("no trip skipped")
			}
			opts.Seed, opts.Truth = 12, &c
			runBufferedTruth(t, opts)
			_, _, skipsC := readTruthSkips(t, c.Bytes())
			if slices.Equal(skipsA, skipsC) {
				t.Errorf("seeds 11 and 12 skipped the same trips: %v", skipsA)
			}
		})
	}
}

func TestSkipRejects(t *testing.T) {
	feed := loadDemo(t)
	open := func(int) (Port, error) { return &bufPort{}, nil }
	start := demoStart(t, feed)
	tests := []struct {
		name string
		opts Options
		want string // in the error
	}{
		{"share of one", Options{Routes: []string{"1"}, Skip: 1}, "share"},
		{"negative share", Options{Routes: []string{"1"}, Skip: -0.2}, "share"},
		{"unknown trip", Options{Routes: []string{"1"}, SkipTrips: []string{"2-0-0820", "nope"}}, `"nope"`},
		{"trip to drive and to skip", Options{Trips: []string{"2-0-0820"}, SkipTrips: []string{"2-0-0820"}}, "2-0-0820"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.opts.Feed, tc.opts.Start, tc.opts.Open, tc.opts.Motion = feed, start, open, motion.DefaultConfig()
			fl, err := New(tc.opts)
			if err == nil {
				fl.Close()
				t.Fatal("want an error")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want one naming %s", err, tc.want)
			}
		})
	}
}

func runSkips(t testing.TB, opts Options) ([]Truth, []StopTruth, []SkipTruth) {
	t.Helper()
	var tb bytes.Buffer
	opts.Truth = &tb
	runBufferedTruth(t, opts)
	return readTruthSkips(t, tb.Bytes())
}

// tripsDriven lists the trips of the fixes in the order driven.
func tripsDriven(fixes []Truth) []string {
	var trips []string
	for _, f := range fixes {
		if len(trips) == 0 || trips[len(trips)-1] != f.Trip {
			trips = append(trips, f.Trip)
		}
	}
	return trips
}
