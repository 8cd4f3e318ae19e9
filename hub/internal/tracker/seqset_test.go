package tracker

import "testing"

func TestSeqSet(t *testing.T) {
	var s seqSet
	steps := []struct {
		seq              uint64
		dupBefore        bool
		skipped, missing uint64
	}{
		{seq: 10},                         // first sight
		{seq: 11},                         // in order
		{seq: 11, dupBefore: true},        // redelivered
		{seq: 15, skipped: 3, missing: 3}, // an outage: 12-14 not yet here
		{seq: 12, missing: 2},             // backfill, oldest first
		{seq: 13, missing: 1},
		{seq: 9, dupBefore: true, missing: 1}, // before the hub knew the vehicle
		{seq: 14, missing: 0},
		{seq: 16, missing: 0},
	}
	for i, st := range steps {
		if got := s.has(st.seq); got != st.dupBefore {
			t.Fatalf("step %d: has(%d) = %v, want %v", i, st.seq, got, st.dupBefore)
		}
		if st.dupBefore {
			continue
		}
		if got := s.add(st.seq); got != st.skipped {
			t.Errorf("step %d: add(%d) skipped %d, want %d", i, st.seq, got, st.skipped)
		}
		if got := s.missing(); got != st.missing {
			t.Errorf("step %d: missing %d, want %d", i, got, st.missing)
		}
	}
	if s.low != 16 || len(s.above) != 0 {
		t.Errorf("low %d above %v, want everything folded into low", s.low, s.above)
	}
}
