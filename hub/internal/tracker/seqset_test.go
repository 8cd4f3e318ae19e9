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

func TestSeqSetHoles(t *testing.T) {
	var s seqSet
	for _, q := range []uint64{10, 11, 15, 13, 20} {
		s.add(q)
	}
	got := s.holes(8)
	want := []uint64{12, 14, 16, 17, 18, 19}
	if len(got) != len(want) || uint64(len(got)) != s.missing() {
		t.Fatalf("holes %v, want %v (missing %d)", got, want, s.missing())
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("holes %v, want %v", got, want)
		}
	}
	if got := s.holes(2); len(got) != 2 || got[1] != 14 {
		t.Errorf("holes(2) %v", got)
	}
}

// TestSeqSetShared: a hub taking a vehicle over from another takes the
// older seqs redelivered to it, once each, without counting them missing.
func TestSeqSetShared(t *testing.T) {
	s := seqSet{shared: true}
	s.add(100) // first met
	s.add(101)
	for _, q := range []uint64{97, 98, 99} {
		if s.has(q) {
			t.Fatalf("seq %d, before the first met, counted as seen", q)
		}
		if skipped := s.add(q); skipped != 0 {
			t.Errorf("seq %d skipped %d", q, skipped)
		}
		if !s.has(q) {
			t.Errorf("seq %d taken, not seen again", q)
		}
	}
	if s.missing() != 0 || s.low != 101 {
		t.Errorf("missing %d low %d, want 0 and 101", s.missing(), s.low)
	}
	s.reset()
	if !s.shared {
		t.Error("reset forgot the set is shared")
	}
	// Met first through redeliveries (seqs another hub was handed and did
	// not apply), then fresh: the seqs start at the fresh one.
	s.addBefore(19)
	s.addBefore(20)
	if !s.has(20) || s.init {
		t.Errorf("redelivered 20: has %v, init %v", s.has(20), s.init)
	}
	s.add(22)
	s.add(23)
	if s.missing() != 0 || !s.has(19) || s.has(21) {
		t.Errorf("after fresh 22, 23: missing %d, has(19) %v, has(21) %v", s.missing(), s.has(19), s.has(21))
	}
	// Unshared, as a single hub: older than the first met is not its
	// business.
	var u seqSet
	u.add(100)
	if !u.has(99) {
		t.Error("unshared: seq 99 before the first met should count as seen")
	}
}
