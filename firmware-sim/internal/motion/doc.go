// Package motion drives a simulated bus along a GTFS trip: where it is, how
// fast and which way it is going at any instant.
//
// A Driver plans the whole trip up front from the schedule and the traffic
// (speed per stretch by time of day, traffic halts between stops, dwell at
// each stop, an optional delay) and then answers At(t) as a pure function of
// time. Nothing sleeps, so the simulator can run on a simulated clock at any
// speed, and tests can ask about any instant. Every random choice comes from
// the rng passed in, in a fixed order, so a seed reproduces a run.
package motion
