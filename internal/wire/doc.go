// Package wire holds Headway's version 1 contracts between the parts: the MQTT
// topics and payloads that vehicles publish, and the WebSocket messages that
// the hub and station agents exchange (see DESIGN.md, "Contracts").
//
// It imports only the standard library so that every binary, and every
// third-party tool written against the contract, can use it. Decoders here
// validate everything they accept: payloads arrive from the network and are
// hostile until proven otherwise.
package wire
