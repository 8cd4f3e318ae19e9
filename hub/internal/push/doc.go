// Package push serves the hub's WebSocket endpoint (/ws) to station signs:
// a sign subscribes to its stops and receives each stop's board whenever it
// changes and its timetable on subscribe and hourly; it sends heartbeats,
// which the hub lists as its known displays.
//
// Each connection has exactly one writer goroutine fed by a bounded queue.
// A client that cannot keep up is dropped rather than waited for, so one
// stuck sign never delays the others.
package push
