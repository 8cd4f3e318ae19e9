// Package station is the station role of the edge agent: it subscribes a
// sign to its stops on a hub over WebSocket, keeps the latest boards and
// timetables in a bbolt cache (signcache), and serves the sign itself — a
// self-contained kiosk page updated by Server-Sent Events — together with
// /board.json, /healthz and /metrics.
//
// The sign must stay useful when the network is not: cached boards are on
// the page before the first dial, and every failure of the hub connection
// ends in a reconnect with backoff, never in an exit.
package station
