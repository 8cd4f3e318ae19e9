package predict_test

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/headway-transit/headway/hub/internal/predict"
	"github.com/headway-transit/headway/hub/internal/testfeed"
	"github.com/headway-transit/headway/hub/internal/tracker"
)

// trained returns a model that has seen two hours of buses on the test
// line: segment times, departures, stands.
func trained(t *testing.T) (*predict.Learned, time.Time) {
	t.Helper()
	feed := testfeed.Line(t)
	day := time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)
	m := predict.NewLearned(feed, predict.LearnedConfig{})
	for i := 0; i < 12; i++ {
		dep := day.Add(time.Duration(7*60+i*10) * time.Minute)
		trip := feed.Trips[fmt.Sprintf("E%s", dep.Format("1504"))]
		v := &tracker.Vehicle{ID: fmt.Sprint("bus-", i%3), Trip: trip, DayStart: day, Since: dep.Add(-5 * time.Minute)}
		at := dep.Add(time.Duration(30+i*5) * time.Second)
		v.Passed = []tracker.Passage{{Index: 0, At: at, Gap: 30 * time.Second}}
		m.Observe(v)
		for k := 1; k < len(trip.StopTimes); k++ {
			prev := at
			at = at.Add(time.Duration(100+10*k+i) * time.Second)
			v.Next, v.FixTime = k, at
			v.Passed = []tracker.Passage{{Index: k, At: at, Gap: 30 * time.Second, PrevAt: prev, PrevGap: 30 * time.Second}}
			v.StoodFor = time.Duration(10+7*k) * time.Second
			m.Observe(v)
		}
	}
	return m, day.Add(9 * time.Hour)
}

// TestSnapshotRoundTrip: a model restored from a snapshot predicts exactly
// as the one saved, and saves the same bytes.
func TestSnapshotRoundTrip(t *testing.T) {
	m, now := trained(t)
	b, err := m.Snapshot(now)
	if err != nil {
		t.Fatal(err)
	}
	feed := testfeed.Line(t)
	r := predict.NewLearned(feed, predict.LearnedConfig{})
	if err := r.Restore(b); err != nil {
		t.Fatal(err)
	}
	day := now.Truncate(24 * time.Hour)
	for _, v := range []*tracker.Vehicle{
		{ID: "a", Trip: feed.Trips["E0900"], DayStart: day, Next: 0, FixTime: now},
		{ID: "b", Trip: feed.Trips["E0850"], DayStart: day, Next: 2, Dist: 1500, FixTime: now, PassedAt: now.Add(-time.Minute)},
		{ID: "c", Trip: feed.Trips["E0850"], DayStart: day, Next: 3, Dist: 2300, FixTime: now, PassedAt: now.Add(-20 * time.Second), StandingSince: now.Add(-40 * time.Second)},
	} {
		want, got := m.Predict(v, now), r.Predict(v, now)
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("vehicle %s: restored model predicts %v, saved one %v", v.ID, got, want)
		}
	}
	b2, err := r.Snapshot(now)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b, b2) {
		t.Error("a restored model saves other bytes than the snapshot it came from")
	}
	// A fresh model's predictions differ: the snapshot carried something.
	fresh := predict.NewLearned(feed, predict.LearnedConfig{})
	v := &tracker.Vehicle{ID: "b", Trip: feed.Trips["E0850"], DayStart: day, Next: 2, Dist: 1500, FixTime: now, PassedAt: now.Add(-time.Minute)}
	if fmt.Sprint(fresh.Predict(v, now)) == fmt.Sprint(m.Predict(v, now)) {
		t.Error("the trained model predicts as a fresh one: the test shows nothing")
	}
}

// TestRestoreRefusesBadSnapshots: a damaged or foreign snapshot is refused
// with a reason, and the model keeps what it had.
func TestRestoreRefusesBadSnapshots(t *testing.T) {
	m, now := trained(t)
	good, _ := m.Snapshot(now)
	for what, c := range map[string]struct{ in, want string }{
		"not JSON":       {"{", "model snapshot"},
		"other version":  {strings.Replace(string(good), `"version":1`, `"version":99`, 1), "version 99"},
		"NaN-ish value":  {strings.Replace(string(good), `"s":`, `"s":1e300,"x":`, 1), "out of range"},
		"empty stop id":  {strings.Replace(string(good), `"from":"S0"`, `"from":""`, 1), "bad key"},
		"early > passed": {strings.Replace(string(good), `"early":0`, `"early":1000000`, 1), "timepoint"},
	} {
		before, _ := m.Snapshot(now)
		err := m.Restore([]byte(c.in))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one saying %q", what, err, c.want)
		}
		if after, _ := m.Snapshot(now); !bytes.Equal(before, after) {
			t.Errorf("%s: a refused snapshot changed the model", what)
		}
	}
}

func FuzzRestore(f *testing.F) {
	m, now := trained(&testing.T{})
	good, _ := m.Snapshot(now)
	f.Add(good)
	f.Add([]byte(`{"version":1,"segments":[{"from":"a","to":"b","recent":[{"at":"2026-01-01T00:00:00Z","s":5}]}]}`))
	feed := testfeed.Line(&testing.T{})
	f.Fuzz(func(t *testing.T, b []byte) {
		r := predict.NewLearned(feed, predict.LearnedConfig{})
		if r.Restore(b) == nil {
			// Whatever loaded must predict without panicking.
			day := now.Truncate(24 * time.Hour)
			r.Predict(&tracker.Vehicle{ID: "b", Trip: feed.Trips["E0850"], DayStart: day, Next: 2, Dist: 1500, FixTime: now, PassedAt: now.Add(-time.Minute), StandingSince: now.Add(-time.Minute)}, now)
		}
	})
}
