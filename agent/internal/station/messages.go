package station

import (
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/headway-transit/headway/internal/fleetwant"
	"github.com/headway-transit/headway/internal/wire"
)

// store is what message handling needs from the sign cache.
type store interface {
	PutBoard(b wire.Board, receivedAt time.Time) error
	PutTimetable(t wire.Timetable) error
	PutAlerts(a wire.Alerts) error
	PutZone(name string) error
}

// handler applies hub messages to the cache and the in-memory state. It
// is separate from the connection so it can be fuzzed with arbitrary bytes.
type handler struct {
	stops      []string
	configZone string // timezone: from the config, "" if not set
	store      store
	state      *state
	now        func() time.Time
	logger     *slog.Logger
	metrics    *metrics
	want       *fleetwant.Want // nil in tests: fleet messages are then only checked
}

// handle applies one message from the hub. An error means the message was
// rejected; the connection stays up, since one bad message from a hub
// should not blank a sign.
func (h *handler) handle(msg []byte) error {
	typ, err := wire.MessageType(msg)
	if err != nil {
		return err
	}
	switch typ {
	case wire.TypeBoard:
		b, err := wire.DecodeBoard(msg)
		if err != nil {
			return err
		}
		if !slices.Contains(h.stops, b.Stop) {
			return fmt.Errorf("board for stop %s, which this sign did not subscribe to", b.Stop)
		}
		now := h.now()
		h.metrics.boardsReceived.Inc()
		// Memory first: the sign shows the new board even when the disk
		// write fails; the cache only matters after a restart.
		h.state.putBoard(b, now)
		if err := h.store.PutBoard(b, now); err != nil {
			h.metrics.cacheWriteErrors.Inc()
			h.logger.Error("caching board failed", "stop", b.Stop, "error", err)
		}
	case wire.TypeTimetable:
		tt, err := wire.DecodeTimetable(msg)
		if err != nil {
			return err
		}
		if !slices.Contains(h.stops, tt.Stop) {
			return fmt.Errorf("timetable for stop %s, which this sign did not subscribe to", tt.Stop)
		}
		if tt.Timezone != "" && !h.learnZone(tt.Timezone) {
			tt.Timezone = "" // refused: not kept in the cache either
		}
		h.state.putTimetable(tt)
		if err := h.store.PutTimetable(tt); err != nil {
			h.metrics.cacheWriteErrors.Inc()
			h.logger.Error("caching timetable failed", "stop", tt.Stop, "error", err)
		}
	case wire.TypeAlerts:
		a, err := wire.DecodeAlerts(msg)
		if err != nil {
			return err
		}
		if !slices.Contains(h.stops, a.Stop) {
			return fmt.Errorf("alerts for stop %s, which this sign did not subscribe to", a.Stop)
		}
		h.state.putAlerts(a)
		if err := h.store.PutAlerts(a); err != nil {
			h.metrics.cacheWriteErrors.Inc()
			h.logger.Error("caching alerts failed", "stop", a.Stop, "error", err)
		}
	case wire.TypeFleet:
		f, err := wire.DecodeFleet(msg)
		if err != nil {
			return err
		}
		if h.want != nil {
			h.want.Set(f.StationVersion)
		}
	case wire.TypeError:
		e, err := wire.DecodeError(msg)
		if err != nil {
			return err
		}
		h.logger.Error("hub reported an error", "code", e.Code, "message", e.Message)
	default:
		// A newer hub may send types this sign does not know; ignoring
		// them keeps old signs working through a hub upgrade.
		h.logger.Debug("ignoring message of unknown type", "type", truncate(typ, 64))
	}
	return nil
}

// learnZone takes the agency's time zone from a timetable and keeps it in
// the cache, so a sign restarted without a hub still shows the agency's
// time. A name this machine cannot use is refused with an error in the log;
// the timetable itself is still good (its times are absolute), so it is
// kept. learnZone reports whether the name was taken.
func (h *handler) learnZone(name string) bool {
	z, err := agencyZone(name)
	if err != nil {
		h.logger.Error("hub sent a time zone the sign cannot use; keeping the current one", "error", err)
		return false
	}
	if !h.state.setAgencyZone(z) {
		return true
	}
	h.logger.Info("agency time zone from the hub", "timezone", z.name)
	if h.configZone != "" && h.configZone != z.name {
		h.logger.Warn("timezone: in the config differs from the agency's time zone the hub reports; the sign keeps the config's",
			"config", h.configZone, "hub", z.name)
	}
	if err := h.store.PutZone(z.name); err != nil {
		h.metrics.cacheWriteErrors.Inc()
		h.logger.Error("caching the agency time zone failed", "error", err)
	}
	return true
}

// truncate bounds hub-supplied strings before they reach the log.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
