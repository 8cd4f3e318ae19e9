package tracker

// seqSet records which seqs of a vehicle's outbox the hub has seen, so a
// redelivered fix is dropped however late it comes, and holes are visible.
// Everything at or below low has been seen (or predates the hub knowing the
// vehicle); above holds the seen seqs beyond it.
type seqSet struct {
	low   uint64
	max   uint64
	above map[uint64]struct{}
	init  bool
}

// maxAbove bounds the set: a hole that old is given up on.
const maxAbove = 1 << 20

// has reports whether seq has been seen.
func (s *seqSet) has(seq uint64) bool {
	if !s.init {
		return false
	}
	if seq <= s.low {
		return true
	}
	_, ok := s.above[seq]
	return ok
}

// add records seq and returns how many seqs it skipped past the highest
// seen so far (the size of a new hole, 0 when it arrives in order).
func (s *seqSet) add(seq uint64) (skipped uint64) {
	if !s.init {
		// The hub meets the vehicle now: earlier seqs are not its business.
		s.init, s.low, s.max = true, seq, seq
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

// missing is how many seqs between the lowest hole and the highest seen
// have not arrived.
func (s *seqSet) missing() uint64 {
	return s.max - s.low - uint64(len(s.above))
}

// reset forgets everything: the vehicle's outbox started numbering again.
func (s *seqSet) reset() { *s = seqSet{} }

// giveUp declares every current hole lost.
func (s *seqSet) giveUp() {
	s.low = s.max
	clear(s.above)
}
