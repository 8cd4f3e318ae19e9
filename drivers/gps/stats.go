package gps

import (
	"time"

	"github.com/headway-transit/headway/drivers/nmea"
)

// Stats describes a Receiver's work over all its sessions. The maps and
// slices are copies, owned by the caller.
type Stats struct {
	Bytes      uint64            // bytes read from the port, at every rate tried
	Sentences  map[string]uint64 // decoded sentences by type, e.g. "RMC"
	Ignored    map[string]uint64 // well-formed sentences not decoded, by type
	Rejects    map[string]uint64 // malformed lines by reason, e.g. "checksum" (nmea.Reason...)
	Reconnects uint64            // times the port was opened again after it was lost
	Connected  bool              // the port is open now
	LastError  string            // why the port was last lost or could not be opened; "" if never

	Baud     int  // rate of the open port, or of the last one; 0 before the first open
	AutoBaud bool // the Receiver hunts for the rate (Config.Baud == Auto)
	Hunting  bool // AutoBaud, and Baud is still being tried
	Detected int  // AutoBaud: the rate last confirmed by checksummed sentences; 0 if none yet

	Latest   nmea.Fix  // the last epoch decoded, with or without a position (zero if none)
	LatestAt time.Time // wall-clock time Latest was decoded

	LastFix   time.Time // GPS time of the last fix delivered; zero if none
	LastFixAt time.Time // wall-clock time that fix was received: its age tells a stale receiver

	Sky   []nmea.Satellite // satellites in view (latest GSV picture, Used from GSA); kept over reconnects
	Texts []string         // the receiver's texts about itself (TXT, identity sentences), oldest first; kept over reconnects
}

// Stats returns the counts so far. It is safe for concurrent use, also
// while Run is running.
func (r *Receiver) Stats() Stats {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := r.done.Clone()
	if r.dec != nil {
		n.Add(r.dec.Stats())
	}
	sats, texts := r.sky.current(r.dec)
	var reconnects uint64
	if r.connects > 1 {
		reconnects = r.connects - 1
	}
	return Stats{
		Bytes:      n.Bytes,
		Sentences:  n.Sentences,
		Ignored:    n.Ignored,
		Rejects:    n.Rejects,
		Reconnects: reconnects,
		Connected:  r.dec != nil,
		LastError:  r.lastErr,
		Baud:       r.portBaud,
		AutoBaud:   r.baud == Auto,
		Hunting:    r.hunting,
		Detected:   r.lastGood,
		Latest:     r.latest,
		LatestAt:   r.latestAt,
		LastFix:    r.lastFix,
		LastFixAt:  r.lastFixAt,
		Sky:        sats,
		Texts:      texts,
	}
}
