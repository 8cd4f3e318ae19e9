// Package avlfeed takes vehicle positions from an agency's own AVL system:
// a GTFS-Realtime VehiclePositions feed or a SIRI Vehicle Monitoring (VM)
// document, polled over HTTP(S) or read from a file. Each new position
// becomes a Headway position message (DESIGN.md's MQTT payload) handed to
// the hub's engine, so a feed's buses go through the same tracker and model
// as the buses that run Headway's agent, and mixed fleets work together.
//
// The parts, outside in:
//
//   - package feedpoll: one poll: conditional GET (ETag, If-Modified-Since)
//     with the feed's headers, a timeout, a size limit and a content-type
//     check; or a file read again when it changes.
//   - decode.go, siri.go: a snapshot's bytes to fixes, with an error that
//     names the entity and field of what is wrong (no panics on any input:
//     FuzzDecode).
//   - order.go: feeds repeat a vehicle's last position and may go back in
//     time; per vehicle only fixes newer than the last taken pass, in time
//     order, numbered with seqs that keep rising across hub restarts.
//   - source.go: the poll loop (interval, exponential backoff on errors),
//     the feed's health and its metrics.
package avlfeed
