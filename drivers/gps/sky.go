package gps

import "github.com/headway-transit/headway/drivers/nmea"

// sky keeps the satellites and texts of past sessions. A receiver sends its
// identity (TXT) mostly at power-up, and a new session's decoder knows
// nothing yet, so what the last session saw stays shown until the current
// one has its own.
type sky struct {
	sats  []nmea.Satellite
	texts []string
}

// keep saves what dec saw, where it saw anything.
func (s *sky) keep(dec *nmea.Decoder) {
	if sats := dec.Sky(); len(sats) > 0 {
		s.sats = sats
	}
	if texts := dec.Texts(); len(texts) > 0 {
		s.texts = texts
	}
}

// current returns the picture of dec (nil when closed), else the kept one.
// The slices are the caller's.
func (s *sky) current(dec *nmea.Decoder) ([]nmea.Satellite, []string) {
	var sats []nmea.Satellite
	var texts []string
	if dec != nil {
		sats, texts = dec.Sky(), dec.Texts()
	}
	if len(sats) == 0 {
		sats = append([]nmea.Satellite(nil), s.sats...)
	}
	if len(texts) == 0 {
		texts = append([]string(nil), s.texts...)
	}
	return sats, texts
}
