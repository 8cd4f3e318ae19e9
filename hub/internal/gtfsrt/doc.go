// Package gtfsrt publishes the hub's live state as GTFS-Realtime, the format
// every journey planner reads: a TripUpdates feed (one entity per predicted
// trip run) and a VehiclePositions feed (one entity per tracked vehicle),
// built from engine snapshots with MobilityData's Go bindings.
//
// It also holds the reading side, Decode and Check, which the hub's tests
// and tools use to hold any GTFS-Realtime feed, ours or an agency's, to the
// rules journey planners rely on: ids that resolve in the static schedule,
// stop_time_updates in stop_sequence order, unique entity and vehicle ids.
package gtfsrt
