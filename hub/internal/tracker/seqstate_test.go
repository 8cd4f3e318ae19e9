package tracker_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/headway-transit/headway/hub/internal/testfeed"
	"github.com/headway-transit/headway/hub/internal/tracker"
)

// TestSaveRestoreSeqs: a tracker restored from Save knows which fixes it
// had seen, holes included.
func TestSaveRestoreSeqs(t *testing.T) {
	feed := testfeed.Line(t)
	cfg := tracker.Config{MaxOffRoute: 100, MaxFuture: time.Minute}
	a := tracker.New(feed, cfg)
	for _, seq := range []uint64{1, 2, 3, 5, 6, 9} { // 4, 7 and 8 missing
		at := hm(8, 0, int(seq))
		if _, err := a.Update(pos(seq, 100*float64(seq), at, 90), day.Add(at)); err != nil {
			t.Fatal(err)
		}
	}
	saved := a.Save()
	if s := saved["bus-1"]; s.Low != 3 || s.Max != 9 || len(s.Above) != 3 {
		t.Fatalf("saved %+v, want low 3, max 9, above 5 6 9", s)
	}

	b := tracker.New(feed, cfg)
	if err := b.Restore(saved); err != nil {
		t.Fatal(err)
	}
	if v := b.Vehicle("bus-1"); v == nil || v.Online || v.Missing() != 3 || v.LastSeq != 9 {
		t.Fatalf("restored %+v, want bus-1 offline, 3 missing, last seq 9", v)
	}
	now := day.Add(hm(8, 1, 0))
	// A fix seen before is a duplicate; a missing one is backfill.
	old := pos(5, 500, hm(8, 0, 5), 90)
	old.Backfill = true
	if _, err := b.Update(old, now); !errors.Is(err, tracker.ErrDuplicate) {
		t.Errorf("seq 5 again: %v, want a duplicate", err)
	}
	hole := pos(7, 700, hm(8, 0, 7), 90)
	hole.Backfill = true
	if _, err := b.Update(hole, now); err != nil || b.Vehicle("bus-1").Backfill != 1 {
		t.Errorf("seq 7, never seen: %v, backfill %d", err, b.Vehicle("bus-1").Backfill)
	}

	// Impossible entries are refused whole.
	for what, edit := range map[string]func(*tracker.Saved){
		"seq below low": func(s *tracker.Saved) { s.Above = []uint64{2} },
		"max below low": func(s *tracker.Saved) { s.Max = 1 },
		"other vehicle": func(s *tracker.Saved) { s.Pos.Vehicle = "bus-2" },
		"bad position":  func(s *tracker.Saved) { s.Pos.Lat = 91 },
	} {
		s := saved["bus-1"]
		s.Above = append([]uint64(nil), s.Above...)
		edit(&s)
		c := tracker.New(feed, cfg)
		if err := c.Restore(map[string]tracker.Saved{"bus-1": s}); err == nil || !strings.Contains(err.Error(), "bus-1") {
			t.Errorf("%s: restored (%v)", what, err)
		}
		if c.Vehicle("bus-1") != nil {
			t.Errorf("%s: a refused save left a vehicle", what)
		}
	}
}

// FuzzRestore: whatever a state file holds, restoring it refuses or
// restores, and the vehicles restored then take fixes, without panicking.
func FuzzRestore(f *testing.F) {
	f.Add([]byte(`{"bus-1":{"low":3,"max":9,"above":[5,6,9],"pos":{"v":1,"vehicle":"bus-1","seq":9,"time":"2026-11-27T08:00:09Z","lat":44.4,"lon":8.9,"mode":3,"backfill":false},"last_seen":"2026-11-27T08:00:09Z"}}`))
	f.Add([]byte(`{"bus-1":{"low":18446744073709551615,"max":18446744073709551615}}`))
	feed := testfeed.Line(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		var saved map[string]tracker.Saved
		if json.Unmarshal(b, &saved) != nil {
			return
		}
		tr := tracker.New(feed, tracker.Config{MaxOffRoute: 100, MaxFuture: time.Minute})
		if tr.Restore(saved) != nil {
			return
		}
		for id, s := range saved {
			p := pos(s.Max+1, 500, hm(8, 1, 0), 90)
			p.Vehicle = id
			tr.Update(p, day.Add(hm(8, 1, 0)))
			p.Seq, p.Backfill = s.Low, true
			tr.Update(p, day.Add(hm(8, 1, 1)))
		}
	})
}
