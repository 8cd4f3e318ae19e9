// Package motion drives a simulated bus along a GTFS trip: where it is, how
// fast and which way it is going at any instant.
//
// A Driver plans the whole trip up front from the schedule (cruise speed per
// stop-to-stop leg, dwell at each stop, an optional delay) and then answers
// At(t) as a pure function of time. Nothing sleeps, so the simulator can run on
// a simulated clock at any speed, and tests can ask about any instant.
package motion
