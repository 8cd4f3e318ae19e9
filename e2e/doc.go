// Package e2e tests the whole Headway path as separate processes on real
// parts: firmware-sim on a PTY, the vehicle agent reading it as a serial
// port, MQTT through the hub's embedded broker and through a real
// Mosquitto, the hub's tracking and prediction, the WebSocket to the station
// agent, its bbolt cache and the sign's /board.json and /events.
//
// The binaries are built once per test run from this checkout.
package e2e
