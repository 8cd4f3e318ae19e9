// Package predict turns a tracked vehicle into predicted times at the stops
// still ahead of it on its trip.
//
// Two models implement Predictor. Delay propagation, the common practice
// (OneBusAway), adds the vehicle's current delay against the schedule to
// the scheduled arrival at every later stop: it is the baseline better
// models are measured against. Learned (learned.go) predicts when the
// vehicle passes each stop from stop-to-stop travel times that the buses
// which just drove them measured, with the schedule as the prior.
//
// predict.go holds Predictor and delay propagation; learned.go the Learned
// model, what it learns from each fix (Observe) and how it predicts
// (Predict); segments.go the stop-to-stop travel times and the memory they
// fade over; lines.go what is learned per route and direction (running
// against the schedule, holding at timepoints); departures.go how late
// waiting buses leave; stands.go how long a standing bus stands on;
// ring.go and decaying.go the observations they are built from;
// snapshot.go saving and restoring what was learned.
package predict
