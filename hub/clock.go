package main

import (
	"fmt"
	"time"
)

// hubClock is the hub's clock: the real one, or for simulator runs (-clock,
// -clock-rate) one that starts at the given time and runs rate times as
// fast as the real clock, as firmware-sim -start and -speedup do, so that
// a fleet's simulated fixes are neither stale nor from the future and an
// hour of service can be watched in minutes.
func hubClock(start string, rate float64) (func() time.Time, error) {
	if start == "" {
		if rate != 1 {
			return nil, fmt.Errorf("-clock-rate %v needs -clock: the real clock runs at rate 1", rate)
		}
		return time.Now, nil
	}
	at, err := time.Parse(time.RFC3339, start)
	if err != nil {
		return nil, fmt.Errorf("-clock %q: want an RFC 3339 time such as 2026-11-27T07:30:00+01:00", start)
	}
	if !(rate > 0) || rate > 1000 {
		return nil, fmt.Errorf("-clock-rate %v: want a rate above 0 and at most 1000", rate)
	}
	wall0 := time.Now()
	return func() time.Time {
		return at.Add(time.Duration(float64(time.Since(wall0)) * rate))
	}, nil
}
