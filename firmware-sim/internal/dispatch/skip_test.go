package dispatch

import (
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/headway-transit/headway/internal/geo"
)

func skipping(t testing.TB, d *Dispatcher, s Skips) *Dispatcher {
	t.Helper()
	if err := d.Skip(s); err != nil {
		t.Fatal(err)
	}
	return d
}

func runNames(runs []Run) []string {
	var out []string
	for _, r := range runs {
		out = append(out, r.String()+" at "+r.Departs().Format(time.RFC3339))
	}
	return out
}

// A share of the runs in a window is skipped, about as many as asked; the
// same seed skips the same runs, another seed others; and no skipped run is
// handed to a bus.
func TestSkipShare(t *testing.T) {
	feed := loadDemo(t)
	routes := []string{"1", "2", "3"}
	from := time.Date(2026, 11, 27, 6, 0, 0, 0, feed.Location)
	to := from.Add(6 * time.Hour)
	tests := []struct {
		name  string
		share float64
		seed  uint64
	}{
		{"none", 0, 1},
		{"a fifth, seed 1", 0.2, 1},
		{"a fifth, seed 7", 0.2, 7},
		{"a fifth, seed 1234567", 0.2, 1234567},
		{"half", 0.5, 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := skipping(t, New(feed), Skips{Share: tc.share, Seed: tc.seed})
			all := d.Scheduled(routes, nil, from, to)
			skipped := d.SkippedRuns(routes, nil, from, to)
			if len(all) < 200 {
				t.Fatalf("%d runs in 6 hours of three routes; the demo feed runs every 10 min each way", len(all))
			}
			got := float64(len(skipped)) / float64(len(all))
			t.Logf("skipped %d of %d runs (%.3f)", len(skipped), len(all), got)
			// About 216 runs: one standard deviation of the share is under 3%.
			if math.Abs(got-tc.share) > 0.07 {
				t.Errorf("skipped %d of %d runs (%.2f), want about %.2f", len(skipped), len(all), got, tc.share)
			}
			again := skipping(t, New(feed), Skips{Share: tc.share, Seed: tc.seed}).SkippedRuns(routes, nil, from, to)
			if !slices.Equal(runNames(again), runNames(skipped)) {
				t.Errorf("the same seed skipped other runs:\n%v\n%v", runNames(skipped), runNames(again))
			}
			// Asked by the hour, the same runs: a draw does not depend on the window.
			var hourly []Run
			for h := from; h.Before(to); h = h.Add(time.Hour) {
				for _, r := range d.SkippedRuns(routes, nil, h, h.Add(time.Hour)) {
					if h.Equal(from) || !r.Departs().Before(h) {
						hourly = append(hourly, r)
					}
				}
			}
			if !slices.Equal(runNames(hourly), runNames(skipped)) {
				t.Errorf("hour by hour, other runs:\n%v\n%v", runNames(skipped), runNames(hourly))
			}
			if tc.share > 0 {
				other := skipping(t, New(feed), Skips{Share: tc.share, Seed: tc.seed + 1}).SkippedRuns(routes, nil, from, to)
				if slices.Equal(runNames(other), runNames(skipped)) {
					t.Errorf("seeds %d and %d skipped the same runs", tc.seed, tc.seed+1)
				}
			}
			// Every bus the window needs, and more: none gets a skipped run.
			runs, err := d.Spread(routes, len(all)-len(skipped), from)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range runs {
				if d.Skipped(r) {
					t.Errorf("%s is skipped but was given to a bus", r)
				}
			}
			if r, err := d.Current("1", from.Add(3*time.Hour)); err == nil && d.Skipped(r) {
				t.Errorf("Current gave skipped %s", r)
			}
		})
	}
}

// A bus whose next run is skipped lays over at its terminus and takes the
// one after from there; on a block, the block's next run.
func TestSkipNext(t *testing.T) {
	feed := loadDemo(t)
	at := time.Date(2026, 11, 27, 8, 13, 0, 0, feed.Location)
	tests := []struct {
		name  string
		route string
	}{
		{"route 1", "1"},
		{"route 2", "2"},
		{"route 3", "3"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := New(feed).Current(tc.route, at)
			if err != nil {
				t.Fatal(err)
			}
			end := r.Arrives()
			last := r.Trip.StopTimes[len(r.Trip.StopTimes)-1].Stop.Point()
			want, err := New(feed).Next(r, end, last)
			if err != nil {
				t.Fatal(err)
			}
			d := skipping(t, New(feed), Skips{Trips: []string{want.Trip.ID}})
			got, err := d.Next(r, end, last)
			if err != nil {
				t.Fatal(err)
			}
			if got.key() == want.key() {
				t.Fatalf("took skipped %s", want)
			}
			if !got.Departs().After(want.Departs()) {
				t.Errorf("took %s departing %v, not after the skipped %s at %v", got, got.Departs(), want, want.Departs())
			}
			if dist := geo.Distance(got.Trip.StopTimes[0].Stop.Point(), last); dist > Near {
				t.Errorf("took %s from %.0f m away, not from its terminus", got, dist)
			}
			if got.Trip.DirectionID != want.Trip.DirectionID {
				t.Errorf("took %s, the other way from the skipped %s", got, want)
			}
		})
	}
	t.Run("block", func(t *testing.T) {
		want, err := New(feed).Block("1-bus03", at)
		if err != nil {
			t.Fatal(err)
		}
		skip := []string{want[1].Trip.ID, want[4].Trip.ID}
		got, err := skipping(t, New(feed), Skips{Trips: skip}).Block("1-bus03", at)
		if err != nil {
			t.Fatal(err)
		}
		var rest []Run
		for _, r := range want {
			if !slices.Contains(skip, r.Trip.ID) {
				rest = append(rest, r)
			}
		}
		if !slices.Equal(runNames(got), runNames(rest)) {
			t.Errorf("block with %v skipped:\n%v\nwant\n%v", skip, runNames(got), runNames(rest))
		}
	})
}

// A trip named to drive is driven whatever the share draws; one named to
// skip as well is refused.
func TestSkipNamedTrip(t *testing.T) {
	feed := loadDemo(t)
	at := time.Date(2026, 11, 27, 8, 13, 0, 0, feed.Location)
	d := skipping(t, New(feed), Skips{Share: 0.999, Seed: 1, Trips: []string{"1-0-0900"}})
	r, err := d.Trip("2-0-0820", at)
	if err != nil {
		t.Fatal(err)
	}
	if d.Skipped(r) {
		t.Errorf("%s was asked for but is skipped", r)
	}
	if _, err := d.Trip("1-0-0900", at); err == nil || !strings.Contains(err.Error(), "1-0-0900") {
		t.Errorf("a trip both to drive and to skip: err = %v", err)
	}
}

func TestSkipRejects(t *testing.T) {
	feed := loadDemo(t)
	tests := []struct {
		name string
		skip Skips
		want string // in the error
	}{
		{"share of one", Skips{Share: 1}, "below 1"},
		{"negative share", Skips{Share: -0.1}, "at least 0"},
		{"NaN share", Skips{Share: math.NaN()}, "share"},
		{"unknown trip", Skips{Trips: []string{"1-0-0900", "no-such-trip"}}, `"no-such-trip"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := New(feed).Skip(tc.skip)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want one mentioning %s", err, tc.want)
			}
		})
	}
}
