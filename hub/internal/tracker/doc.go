// Package tracker follows every vehicle on its trip: it accepts or rejects
// each position (duplicates, stale backfill, hostile values), finds the trip
// the vehicle is on (reported, configured or inferred from position, heading
// and the schedule), and measures where along the trip it is and how late it
// runs. Predictions and boards are built from its snapshots.
//
// tracker.go holds the Tracker, its vehicles and the flow of one fix (Update,
// locate); seqset.go and seqstate.go the seq bookkeeping and its saving;
// bounds.go and grid.go the boxes and grids that keep a fix cheap;
// projection.go places a fix on a trip and its schedule; passages.go moves a
// vehicle along its trip run and records the stops it passes; stands.go
// follows it standing still; infer.go infers a trip from position and time;
// blocks.go gathers each vehicle's evidence for the blocks it may be working,
// and assign.go shares the blocks out among the vehicles.
//
// Tracker is not safe for concurrent use: the hub's engine owns it and feeds
// it from one goroutine.
package tracker
