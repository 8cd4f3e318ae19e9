// Package tufeed takes in the agency's own GTFS-Realtime TripUpdates feed:
// its cancelled trips and skipped stops take those calls off the boards
// (as hidden alerts in the alerts store), and its predicted times are the
// boards' prior: shown for trip runs no vehicle the hub tracks covers,
// while the hub's own predictions win wherever it has them.
package tufeed

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

	"github.com/headway-transit/headway/hub/internal/alerts"
	"github.com/headway-transit/headway/hub/internal/boards"
	"github.com/headway-transit/headway/hub/internal/feedpoll"
	"github.com/headway-transit/headway/internal/gtfs"
	"github.com/headway-transit/headway/internal/wire"
)

// Update is what one TripUpdates document says.
type Update struct {
	// Prior has the predicted arrival of each trip run at each stop index
	// from the first one the feed updates on (later stops carry the last
	// delay forward, as the spec says).
	Prior boards.Predictions
	// Cancel are hidden alerts: cancelled runs, skipped stops.
	Cancel []alerts.Alert
	// Skipped names the trip updates left out and why (at most 20).
	Skipped []error
}

// runSlack widens a cancelled run's period: a little before it starts and
// after it ends, so boards and timetables around it agree.
const runSlack = 30 * time.Minute

// Decode reads a TripUpdates document for feed at now. vehiclePrefix is
// put before the feed's vehicle ids, as for its vehicle positions.
func Decode(b []byte, name, vehiclePrefix string, feed *gtfs.Feed, now time.Time) (Update, error) {
	u := Update{Prior: boards.Predictions{}}
	msg, err := feedpoll.FeedMessage(b, "gtfs-rt trip updates")
	if err != nil {
		return u, err
	}
	skip := func(i int, e *rtpb.FeedEntity, err error) {
		if len(u.Skipped) < 20 {
			u.Skipped = append(u.Skipped, fmt.Errorf("gtfs-rt trip updates: entity[%d] (id %q): %w", i, e.GetId(), err))
		}
	}
	for i, e := range msg.GetEntity() {
		tu := e.GetTripUpdate()
		if tu == nil || e.GetIsDeleted() {
			continue
		}
		id := tu.GetTrip().GetTripId()
		tr := feed.Trips[id]
		if tr == nil || len(tr.StopTimes) == 0 {
			skip(i, e, fmt.Errorf("trip %q is not in the schedule", id))
			continue
		}
		day, err := serviceDay(feed, tr, tu.GetTrip().GetStartDate(), now)
		if err != nil {
			skip(i, e, err)
			continue
		}
		period := []wire.Period{{Start: ptr(tr.DepartureAt(day, 0).Add(-runSlack)), End: ptr(tr.ArrivalAt(day, len(tr.StopTimes)-1).Add(runSlack))}}
		alertID := name + ":" + strings.NewReplacer(" ", "_", "/", "_", "+", "_", "#", "_").Replace(id) + "@" + gtfs.DateOf(day.Add(12*time.Hour), feed.Location).String()
		if tu.GetTrip().GetScheduleRelationship() == rtpb.TripDescriptor_CANCELED {
			u.Cancel = append(u.Cancel, alerts.Alert{ID: alertID, Effect: wire.EffectNoService, Hidden: true,
				Active: period, Entities: []alerts.Entity{{Trip: id}}})
			continue
		}
		key := boards.TripKey{Trip: id, DayStart: day.Unix()}
		run := map[int]boards.Realtime{}
		vehicle := ""
		if v := tu.GetVehicle().GetId(); v != "" {
			vehicle = vehiclePrefix + v
		}
		var skipped []alerts.Entity
		first, delay, have := -1, time.Duration(0), false
		next := 0 // stop index the next update may match from
		for _, stu := range tu.GetStopTimeUpdate() {
			idx := stopIndex(tr, stu, next)
			if idx < 0 {
				continue
			}
			if have {
				// The last delay holds for the stops up to this one.
				for j := next + 1; j < idx; j++ {
					run[j] = boards.Realtime{Vehicle: vehicle, Predicted: tr.ArrivalAt(day, j).Add(delay)}
				}
			}
			next = idx
			if first < 0 {
				first = idx
			}
			if stu.GetScheduleRelationship() == rtpb.TripUpdate_StopTimeUpdate_SKIPPED {
				skipped = append(skipped, alerts.Entity{Trip: id, Stop: tr.StopTimes[idx].StopID})
				continue
			}
			if stu.GetScheduleRelationship() == rtpb.TripUpdate_StopTimeUpdate_NO_DATA {
				have = false
				continue
			}
			ev := stu.GetArrival()
			if ev == nil {
				ev = stu.GetDeparture()
			}
			switch {
			case ev.GetTime() != 0:
				delay, have = time.Unix(ev.GetTime(), 0).Sub(tr.ArrivalAt(day, idx)), true
			case ev != nil && ev.Delay != nil:
				delay, have = time.Duration(ev.GetDelay())*time.Second, true
			}
			if have {
				run[idx] = boards.Realtime{Vehicle: vehicle, Predicted: tr.ArrivalAt(day, idx).Add(delay)}
			}
		}
		// The delay carries on to the stops after the last update.
		if first >= 0 && have {
			for idx := next + 1; idx < len(tr.StopTimes); idx++ {
				run[idx] = boards.Realtime{Vehicle: vehicle, Predicted: tr.ArrivalAt(day, idx).Add(delay)}
			}
		}
		for _, s := range skipped {
			delete(run, indexOfStop(tr, s.Stop))
		}
		if len(skipped) > 0 {
			u.Cancel = append(u.Cancel, alerts.Alert{ID: alertID + ":skips", Effect: wire.EffectNoService, Hidden: true,
				Active: period, Entities: skipped})
		}
		if len(run) > 0 {
			u.Prior[key] = run
		}
	}
	return u, nil
}

func ptr(t time.Time) *time.Time { return &t }

// serviceDay is the start of the service day of the run a trip update is
// about: its start_date, else the run of today or yesterday (a trip past
// midnight) that is nearest now.
func serviceDay(feed *gtfs.Feed, tr *gtfs.Trip, startDate string, now time.Time) (time.Time, error) {
	if startDate != "" {
		d, err := gtfs.ParseDate(startDate)
		if err != nil {
			return time.Time{}, fmt.Errorf("trip.start_date %q: %w", startDate, err)
		}
		return feed.ServiceDayStart(d), nil
	}
	today := gtfs.DateOf(now, feed.Location)
	best, bestGap := time.Time{}, time.Duration(1<<62)
	for _, d := range []gtfs.Date{today.AddDays(-1), today} {
		if !feed.ServiceRunsOn(tr.ServiceID, d) {
			continue
		}
		day := feed.ServiceDayStart(d)
		start, end := tr.DepartureAt(day, 0), tr.ArrivalAt(day, len(tr.StopTimes)-1)
		gap := time.Duration(0)
		switch {
		case now.Before(start):
			gap = start.Sub(now)
		case now.After(end):
			gap = now.Sub(end)
		}
		if gap < bestGap {
			best, bestGap = day, gap
		}
	}
	if best.IsZero() {
		return best, errors.New("no start_date, and the trip does not run today or yesterday")
	}
	return best, nil
}

// stopIndex finds a stop_time_update's stop in tr, by stop_sequence or
// else stop_id, from index from on; -1 when it is not the trip's.
func stopIndex(tr *gtfs.Trip, stu *rtpb.TripUpdate_StopTimeUpdate, from int) int {
	for i := from; i < len(tr.StopTimes); i++ {
		st := tr.StopTimes[i]
		if stu.StopSequence != nil {
			if st.Sequence == int(stu.GetStopSequence()) {
				return i
			}
		} else if st.StopID == stu.GetStopId() {
			return i
		}
	}
	return -1
}

func indexOfStop(tr *gtfs.Trip, stop string) int {
	for i, st := range tr.StopTimes {
		if st.StopID == stop {
			return i
		}
	}
	return -1
}

// Config is one TripUpdates feed (hub.yaml feeds.trip_updates[]).
type Config struct {
	feedpoll.Config
	VehiclePrefix string // put before the feed's vehicle ids
}

// Target is where a poller puts what it reads: *engine.Engine's SetPrior
// and an alerts store.
type Target struct {
	SetPrior func(boards.Predictions)
	Store    *alerts.Store
}

// Health is the feed's state for operators (/api/feeds).
type Health struct {
	feedpoll.Status     // Kind "trip_updates"
	Trips           int `json:"trips"`     // runs with predictions
	Cancelled       int `json:"cancelled"` // runs cancelled, and runs with skipped stops
	Skipped         int `json:"skipped"`
}

// Poller keeps one TripUpdates feed's reading current.
type Poller struct {
	cfg    Config
	feed   *gtfs.Feed
	target Target
	fetch  *feedpoll.Fetcher
	log    *slog.Logger
	now    func() time.Time

	mu     sync.Mutex
	health Health
}

// NewPoller checks cfg and builds its poller.
func NewPoller(cfg Config, feed *gtfs.Feed, target Target, client *http.Client, logger *slog.Logger, now func() time.Time) (*Poller, error) {
	if err := cfg.Check(); err != nil {
		return nil, fmt.Errorf("trip updates feed %q: %w", cfg.Name, err)
	}
	if now == nil {
		now = time.Now
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Poller{cfg: cfg, feed: feed, target: target, now: now,
		log:    logger.With("component", "trip_updates", "feed", cfg.Name),
		fetch:  cfg.Protobuf("gtfs-rt trip updates", client),
		health: Health{Status: feedpoll.Status{Name: cfg.Name, Kind: "trip_updates"}}}, nil
}

// Health returns the feed's state.
func (p *Poller) Health() Health {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.health
}

// Poll reads the feed once. A document read replaces the feed's prior and
// cancellations whole; a failed poll keeps the cancellations (each bounded
// to its run) and drops the prior, whose times would go stale.
func (p *Poller) Poll(ctx context.Context) error {
	now := p.now()
	b, notModified, err := p.fetch.Fetch(ctx)
	var u Update
	if err == nil && !notModified {
		if u, err = Decode(b, p.cfg.Name, p.cfg.VehiclePrefix, p.feed, now); err != nil {
			p.fetch.Forget()
		} else {
			p.target.Store.Set(p.cfg.Name, u.Cancel)
			p.target.SetPrior(u.Prior)
			if len(u.Skipped) > 0 {
				p.log.Debug("trip updates skipped", "count", len(u.Skipped), "first", u.Skipped[0])
			}
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if err != nil {
		if p.health.OK {
			p.target.SetPrior(nil)
		}
		err = fmt.Errorf("trip updates feed %q: %w", p.cfg.Name, err)
		p.health.Failed(now, err)
		return err
	}
	if !notModified {
		p.health.Trips, p.health.Cancelled, p.health.Skipped = len(u.Prior), len(u.Cancel), len(u.Skipped)
	}
	p.health.Succeeded(now)
	return nil
}

// Run polls until ctx is done, backing off while the feed fails.
func (p *Poller) Run(ctx context.Context) error {
	feedpoll.Run(ctx, p.cfg.Every, p.Poll, func(err error, n int, wait time.Duration) {
		p.log.Warn("trip updates feed poll failed", "err", err, "failures", n, "next_in", wait)
	})
	return nil
}
