// Package tracker follows every vehicle on its trip: it accepts or rejects
// each position (duplicates, stale backfill, hostile values), finds the trip
// the vehicle is on (reported, configured or inferred from position, heading
// and the schedule), and measures where along the trip it is and how late it
// runs. Predictions and boards are built from its snapshots.
//
// Tracker is not safe for concurrent use: the hub's engine owns it and feeds
// it from one goroutine.
package tracker
