package tracker

// seqSet records which seqs of a vehicle's outbox the hub has seen, so a
// redelivered fix is dropped however late it comes, and holes are visible.
// Everything at or below low has been seen (or predates the hub knowing the
// vehicle); above holds the seen seqs beyond it.
//
// A shared set is a vehicle of a partitioned cluster, which a hub may take
// over from another mid-stream: seqs older than the first it met may still
// come (the ones the other hub was handed and never applied, redelivered
// after AckWait), and are taken once each (before) rather than counted as
// seen.
type seqSet struct {
	low       uint64
	max       uint64
	above     map[uint64]struct{}
	init      bool
	shared    bool
	first     uint64              // seqs start here (shared)
	before    map[uint64]struct{} // seqs below first met (shared)
	beforeMax uint64              // the highest seq in before
}

// maxAbove bounds the set: a hole that old is given up on. maxBefore
// bounds the seqs taken below the first one met: more would be a
// vehicle's outbox backfilling, older than any redelivery.
const (
	maxAbove  = 1 << 20
	maxBefore = 1 << 12
)

// has reports whether seq has been seen.
func (s *seqSet) has(seq uint64) bool {
	if !s.init {
		_, ok := s.before[seq]
		return ok
	}
	if seq <= s.low {
		if s.shared && seq < s.first {
			_, ok := s.before[seq]
			return ok || len(s.before) >= maxBefore
		}
		return true
	}
	_, ok := s.above[seq]
	return ok
}

// add records seq and returns how many seqs it skipped past the highest
// seen so far (the size of a new hole, 0 when it arrives in order).
func (s *seqSet) add(seq uint64) (skipped uint64) {
	if !s.init {
		// The hub meets the vehicle now: earlier seqs are not its business
		// (but for a shared set's, which it takes once each).
		s.init, s.low, s.max, s.first = true, seq, seq, seq
		return 0
	}
	if s.shared && seq < s.first {
		s.addBefore(seq)
		return 0
	}
	if seq > s.max {
		skipped = seq - s.max - 1
		s.max = seq
	}
	if seq == s.low+1 {
		s.low = seq
		for {
			if _, ok := s.above[s.low+1]; !ok {
				break
			}
			delete(s.above, s.low+1)
			s.low++
		}
		return skipped
	}
	if s.above == nil {
		s.above = map[uint64]struct{}{}
	}
	s.above[seq] = struct{}{}
	if len(s.above) > maxAbove {
		s.giveUp()
	}
	return skipped
}

// addBefore records seq as met before the count of seqs starts.
func (s *seqSet) addBefore(seq uint64) {
	if s.before == nil {
		s.before = map[uint64]struct{}{}
	}
	if len(s.before) < maxBefore {
		s.before[seq] = struct{}{}
	}
	s.beforeMax = max(s.beforeMax, seq)
}

// startAfter starts the count of seqs after seq: the ones up to it are
// met once each (before), none of them missing.
func (s *seqSet) startAfter(seq uint64) {
	s.init, s.low, s.max, s.first = true, seq, seq, seq+1
}

// missing is how many seqs between the lowest hole and the highest seen
// have not arrived.
func (s *seqSet) missing() uint64 {
	return s.max - s.low - uint64(len(s.above))
}

// holes lists up to n of the lowest seqs missing.
func (s *seqSet) holes(n int) []uint64 {
	var out []uint64
	for q := s.low + 1; q < s.max && len(out) < n; q++ {
		if _, ok := s.above[q]; !ok {
			out = append(out, q)
		}
	}
	return out
}

// reset forgets everything: the vehicle's outbox started numbering again.
func (s *seqSet) reset() { *s = seqSet{shared: s.shared} }

// giveUp declares every current hole lost.
func (s *seqSet) giveUp() {
	s.low = s.max
	clear(s.above)
}
