package push

import "time"

// SetFanned makes s tell f each publish's fan-out time (benchmarks).
func SetFanned(s *Server, f func(kind string, signs int, took time.Duration)) { s.fanned = f }
