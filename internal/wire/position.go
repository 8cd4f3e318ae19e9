package wire

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"
)

// Version is the contract version carried in every payload's "v" field.
const Version = 1

// MaxPayload bounds a vehicle's MQTT payload and a sign's WebSocket message.
const MaxPayload = 64 << 10

// MaxServerMessage bounds a board or timetable from the hub: a busy stop's
// 24-hour timetable is far larger than anything a sign or bus sends.
const MaxServerMessage = 8 << 20

// Position is one accepted GPS fix of a vehicle, as published on
// prefix/vehicles/{vehicle}/position.
type Position struct {
	V        int       `json:"v"`
	Vehicle  string    `json:"vehicle"`
	Seq      uint64    `json:"seq"`
	Time     time.Time `json:"time"`
	Lat      float64   `json:"lat"`
	Lon      float64   `json:"lon"`
	Speed    *float64  `json:"speed,omitempty"` // m/s
	Track    *float64  `json:"track,omitempty"` // degrees true
	Mode     int       `json:"mode"`            // 2 = 2D, 3 = 3D
	HDOP     *float64  `json:"hdop,omitempty"`
	Sats     *int      `json:"sats,omitempty"`
	Trip     string    `json:"trip,omitempty"`
	Backfill bool      `json:"backfill"`
}

// Float returns a pointer to v, for the optional fields.
func Float(v float64) *float64 { return &v }

// Int returns a pointer to v, for the optional fields.
func Int(v int) *int { return &v }

// Encode validates p and marshals it.
func (p *Position) Encode() ([]byte, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return json.Marshal(p)
}

// DecodePosition parses and validates a position payload. Unknown fields are
// rejected so that a typo or a future version is seen, not silently ignored.
func DecodePosition(b []byte) (Position, error) {
	var p Position
	if err := decodeStrict(b, &p, MaxPayload); err != nil {
		return Position{}, fmt.Errorf("position: %w", err)
	}
	if err := p.Validate(); err != nil {
		return Position{}, err
	}
	return p, nil
}

// Validate checks every field against the contract.
func (p *Position) Validate() error {
	if p.V != Version {
		return fmt.Errorf("position: version %d, want %d", p.V, Version)
	}
	if err := ValidID("vehicle", p.Vehicle); err != nil {
		return fmt.Errorf("position: %w", err)
	}
	if p.Time.IsZero() {
		return errors.New("position: time is missing")
	}
	if !finite(p.Lat) || p.Lat < -90 || p.Lat > 90 {
		return fmt.Errorf("position: lat %v out of range", p.Lat)
	}
	if !finite(p.Lon) || p.Lon < -180 || p.Lon > 180 {
		return fmt.Errorf("position: lon %v out of range", p.Lon)
	}
	if p.Mode != 2 && p.Mode != 3 {
		return fmt.Errorf("position: mode %d, want 2 or 3", p.Mode)
	}
	if p.Speed != nil && (!finite(*p.Speed) || *p.Speed < 0 || *p.Speed > 100) {
		return fmt.Errorf("position: speed %v m/s out of range 0..100", *p.Speed)
	}
	if p.Track != nil && (!finite(*p.Track) || *p.Track < 0 || *p.Track >= 360) {
		return fmt.Errorf("position: track %v out of range 0..360", *p.Track)
	}
	if p.HDOP != nil && (!finite(*p.HDOP) || *p.HDOP < 0 || *p.HDOP > 100) {
		return fmt.Errorf("position: hdop %v out of range 0..100", *p.HDOP)
	}
	if p.Sats != nil && (*p.Sats < 0 || *p.Sats > 255) {
		return fmt.Errorf("position: sats %d out of range 0..255", *p.Sats)
	}
	if p.Trip != "" {
		if err := ValidID("trip", p.Trip); err != nil {
			return fmt.Errorf("position: %w", err)
		}
	}
	return nil
}

// Status is a vehicle's retained online/offline state (also its last will).
type Status struct {
	V       int       `json:"v"`
	State   string    `json:"state"`
	Time    time.Time `json:"time"`
	Version string    `json:"version,omitempty"`
}

// Vehicle states carried in Status.State.
const (
	StateOnline  = "online"
	StateOffline = "offline"
)

// DecodeStatus parses and validates a status payload.
func DecodeStatus(b []byte) (Status, error) {
	var s Status
	if err := decodeStrict(b, &s, MaxPayload); err != nil {
		return Status{}, fmt.Errorf("status: %w", err)
	}
	if s.V != Version {
		return Status{}, fmt.Errorf("status: version %d, want %d", s.V, Version)
	}
	if s.State != StateOnline && s.State != StateOffline {
		return Status{}, fmt.Errorf("status: state %q, want online or offline", s.State)
	}
	if len(s.Version) > MaxIDLen {
		return Status{}, fmt.Errorf("status: version string longer than %d", MaxIDLen)
	}
	return s, nil
}

func finite(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }

// decodeStrict decodes exactly one JSON value, rejecting unknown fields,
// oversized input and trailing data: what vehicles and signs send the hub.
func decodeStrict(b []byte, v any, limit int) error { return decode(b, v, limit, true) }

// decodeServer decodes what the hub sends a sign as decodeStrict does, but
// skips fields the sign does not know: later v1 additions are optional
// fields, and a sign must keep working beside a newer hub.
func decodeServer(b []byte, v any, limit int) error { return decode(b, v, limit, false) }

func decode(b []byte, v any, limit int, strict bool) error {
	if len(b) > limit {
		return fmt.Errorf("payload is %d bytes, more than %d", len(b), limit)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	if strict {
		dec.DisallowUnknownFields()
	}
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("trailing data after the JSON value")
	}
	return nil
}
