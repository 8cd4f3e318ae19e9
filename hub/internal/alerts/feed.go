package alerts

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	rtpb "github.com/MobilityData/gtfs-realtime-bindings/golang/gtfs"

	"github.com/headway-transit/headway/hub/internal/feedpoll"
	"github.com/headway-transit/headway/internal/gtfs"
	"github.com/headway-transit/headway/internal/wire"
)

// Decode reads a GTFS-Realtime ServiceAlerts document: one Alert per alert
// entity, its id the feed's name and the entity's id. An alert the hub
// cannot show (no header text, nothing it concerns that the schedule has)
// is skipped and named in skipped; a document that is not a FeedMessage is
// an error. lang picks the translation shown ("" the untagged or first).
func Decode(b []byte, feedName, lang string, feed *gtfs.Feed) (as []Alert, skipped []error, err error) {
	msg, err := feedpoll.FeedMessage(b, "gtfs-rt alerts")
	if err != nil {
		return nil, nil, err
	}
	for i, e := range msg.GetEntity() {
		al := e.GetAlert()
		if al == nil || e.GetIsDeleted() {
			continue
		}
		a, err := fromProto(al, feedName+":"+safeID(e.GetId()), lang, feed)
		if err != nil {
			if len(skipped) < 20 {
				skipped = append(skipped, fmt.Errorf("gtfs-rt alerts: entity[%d] (id %q): %w", i, e.GetId(), err))
			}
			continue
		}
		as = append(as, a)
	}
	return as, skipped, nil
}

// safeID makes an entity id one the wire carries (no spaces, slashes or
// MQTT wildcards), and bounds it.
func safeID(id string) string {
	var b strings.Builder
	for i := 0; i < len(id) && b.Len() < 100; i++ {
		c := id[i]
		if c <= ' ' || c >= 0x7f || c == '/' || c == '+' || c == '#' {
			c = '_'
		}
		b.WriteByte(c)
	}
	if b.Len() == 0 {
		return "_"
	}
	return b.String()
}

func fromProto(al *rtpb.Alert, id, lang string, feed *gtfs.Feed) (Alert, error) {
	a := Alert{
		ID:          id,
		Cause:       strings.ToLower(al.GetCause().String()),
		Effect:      strings.ToLower(al.GetEffect().String()),
		Header:      text(al.GetHeaderText(), lang, wire.MaxAlertHeader),
		Description: text(al.GetDescriptionText(), lang, wire.MaxAlertText),
		URL:         text(al.GetUrl(), lang, 500),
	}
	if al.SeverityLevel != nil {
		switch al.GetSeverityLevel() {
		case rtpb.Alert_INFO:
			a.Severity = wire.SeverityInfo
		case rtpb.Alert_WARNING:
			a.Severity = wire.SeverityWarning
		case rtpb.Alert_SEVERE:
			a.Severity = wire.SeveritySevere
		}
	}
	if a.Header == "" {
		return a, errNoText
	}
	for _, p := range al.GetActivePeriod() {
		if len(a.Active) == wire.MaxAlertPeriods {
			break
		}
		var wp wire.Period
		if s := p.GetStart(); s > 0 {
			t := feedpoll.UnixTime(s)
			wp.Start = &t
		}
		if e := p.GetEnd(); e > 0 {
			t := feedpoll.UnixTime(e)
			wp.End = &t
		}
		if wp.Start != nil && wp.End != nil && !wp.End.After(*wp.Start) {
			continue // an empty period: never in force
		}
		a.Active = append(a.Active, wp)
	}
	if len(al.GetActivePeriod()) > 0 && len(a.Active) == 0 {
		return a, errors.New("every active_period is empty")
	}
	for _, s := range al.GetInformedEntity() {
		e := Entity{Agency: s.GetAgencyId(), Route: s.GetRouteId(), Stop: s.GetStopId(), Trip: s.GetTrip().GetTripId()}
		if e.Route == "" && e.Trip == "" && s.GetTrip().GetRouteId() != "" {
			e.Route = s.GetTrip().GetRouteId()
		}
		// What the schedule does not have cannot be shown: left out,
		// the rest of the alert kept.
		if (e.Trip != "" && feed.Trips[e.Trip] == nil) || (e.Route != "" && feed.Routes[e.Route] == nil) || (e.Stop != "" && feed.Stops[e.Stop] == nil) {
			continue
		}
		if e == (Entity{}) || len(a.Entities) == MaxEntities {
			continue
		}
		a.Entities = append(a.Entities, e)
	}
	if len(a.Entities) == 0 {
		return a, errors.New("informs nothing in the schedule (no known agency, route, stop or trip)")
	}
	return a, a.Check(nil)
}

// text picks lang's translation, else the untagged one, else the first,
// bounded to max bytes on a rune boundary.
func text(ts *rtpb.TranslatedString, lang string, max int) string {
	var pick string
	found := false
	for _, t := range ts.GetTranslation() {
		switch {
		case lang != "" && strings.EqualFold(t.GetLanguage(), lang):
			pick, found = t.GetText(), true
		case !found && t.GetLanguage() == "":
			pick = t.GetText()
		case pick == "":
			pick = t.GetText()
		}
	}
	pick = strings.TrimSpace(strings.ToValidUTF8(pick, ""))
	if len(pick) > max {
		cut := max
		for cut > 0 && pick[cut]&0xC0 == 0x80 {
			cut--
		}
		pick = pick[:cut]
	}
	return pick
}

// FeedConfig is one polled ServiceAlerts feed (hub.yaml feeds.alerts[]).
type FeedConfig struct {
	feedpoll.Config
	Language string // the translation shown; "": the untagged, else the first
}

// Poller keeps one feed's alerts in a store.
type Poller struct {
	cfg   FeedConfig
	store *Store
	feed  *gtfs.Feed
	fetch *feedpoll.Fetcher
	log   *slog.Logger
	now   func() time.Time

	mu     sync.Mutex
	health Health
}

// Health is an alerts feed's state for operators (/api/feeds).
type Health struct {
	feedpoll.Status     // Kind "alerts"
	Alerts          int `json:"alerts"`
	Skipped         int `json:"skipped"`
}

// NewPoller checks cfg and builds its poller.
func NewPoller(cfg FeedConfig, store *Store, feed *gtfs.Feed, client *http.Client, logger *slog.Logger, now func() time.Time) (*Poller, error) {
	if err := cfg.Check(); err != nil {
		return nil, fmt.Errorf("alerts feed %q: %w", cfg.Name, err)
	}
	if now == nil {
		now = time.Now
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Poller{cfg: cfg, store: store, feed: feed, now: now,
		log:    logger.With("component", "alerts", "feed", cfg.Name),
		fetch:  cfg.Protobuf("gtfs-rt alerts", client),
		health: Health{Status: feedpoll.Status{Name: cfg.Name, Kind: "alerts"}}}, nil
}

// Health returns the feed's state.
func (p *Poller) Health() Health {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.health
}

// Poll fetches the feed once; its alerts replace the feed's previous ones.
// A failed poll keeps them: each carries its own active periods.
func (p *Poller) Poll(ctx context.Context) error {
	now := p.now()
	b, notModified, err := p.fetch.Fetch(ctx)
	if err == nil && !notModified {
		var as []Alert
		var skipped []error
		as, skipped, err = Decode(b, p.cfg.Name, p.cfg.Language, p.feed)
		if err != nil {
			p.fetch.Forget()
		} else {
			p.store.Set(p.cfg.Name, as)
			if len(skipped) > 0 {
				p.log.Debug("alerts skipped", "count", len(skipped), "first", skipped[0])
			}
			p.mu.Lock()
			p.health.Alerts, p.health.Skipped = len(as), len(skipped)
			p.mu.Unlock()
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if err != nil {
		err = fmt.Errorf("alerts feed %q: %w", p.cfg.Name, err)
		p.health.Failed(now, err)
		return err
	}
	p.health.Succeeded(now)
	return nil
}

// Run polls until ctx is done, backing off while the feed fails.
func (p *Poller) Run(ctx context.Context) error {
	feedpoll.Run(ctx, p.cfg.Every, p.Poll, func(err error, n int, wait time.Duration) {
		p.log.Warn("alerts feed poll failed", "err", err, "failures", n, "next_in", wait)
	})
	return nil
}
