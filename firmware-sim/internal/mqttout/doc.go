// Package mqttout publishes a simulated fleet's fixes to an MQTT broker the
// way vehicle agents do (contract v1 in DESIGN.md): QoS 1 positions with a
// per-vehicle seq that grows by one per fix, encoded by package wire, and a
// retained online status per vehicle, offline again when the fleet stops.
//
// Connections: by default every vehicle has its own client, with its own
// last will, exactly as N agents would connect. That costs a TCP connection
// and a paho client (five goroutines, buffers, a token per message) per bus,
// and for thousands of buses most of the simulator's memory and CPU goes into
// paho rather than into the simulation. With Clients K > 0 the fleet instead
// shares K connections, each publishing for every K-th vehicle. The hub only
// sees topics and payloads, so its load is the same (same messages, same
// topics, same retained statuses) except for two things it cannot see from a
// pool: the broker holds K sessions rather than N, and a crash of the
// simulator leaves the statuses "online" because a will is per connection,
// not per vehicle. Use per-vehicle clients to test connection handling and
// wills; a pool to load the hub's ingest and predictions with thousands.
//
// The fleet calls Publish from its one goroutine; a goroutine per connection
// waits for the broker's acknowledgements in order and counts failures, so a
// slow broker slows the fleet (backpressure) instead of growing memory.
package mqttout
