package nmea

// Stats counts what a Decoder has read.
type Stats struct {
	Bytes     uint64            // bytes read, including rejected lines and comments
	Sentences map[string]uint64 // decoded sentences by type: "RMC", "GGA"
	Ignored   map[string]uint64 // well-formed sentences of types not decoded, by type: "GSV", "PGRME"; "other" past 64 types
	Rejects   map[string]uint64 // rejected lines by reason: "checksum", "garbage", ... (the Reason constants)
	Comments  uint64            // '#' lines, as in gpsd logs
	Fixes     uint64            // fixes returned by Next
}

// maxIgnoredTypes bounds Stats.Ignored; further types count as "other".
const maxIgnoredTypes = 64

func newStats() Stats {
	return Stats{
		Sentences: make(map[string]uint64),
		Ignored:   make(map[string]uint64),
		Rejects:   make(map[string]uint64),
	}
}

// Clone returns a deep copy of s.
func (s Stats) Clone() Stats {
	c := newStats()
	c.Add(s)
	return c
}

// Add adds o's counts to s, allocating s's maps as needed.
func (s *Stats) Add(o Stats) {
	s.Bytes += o.Bytes
	s.Comments += o.Comments
	s.Fixes += o.Fixes
	s.Sentences = addCounts(s.Sentences, o.Sentences)
	s.Ignored = addCounts(s.Ignored, o.Ignored)
	s.Rejects = addCounts(s.Rejects, o.Rejects)
}

func addCounts(dst, src map[string]uint64) map[string]uint64 {
	if dst == nil {
		dst = make(map[string]uint64, len(src))
	}
	for k, v := range src {
		dst[k] += v
	}
	return dst
}
