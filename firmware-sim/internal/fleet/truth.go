package fleet

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/headway-transit/headway/firmware-sim/internal/motion"
)

// Truth line types.
const (
	TypeFix  = "fix"
	TypeStop = "stop"
	TypeSkip = "skip"
)

// Truth is a "fix" line of the -truth file: where a bus really was at a fix.
type Truth struct {
	Type    string    `json:"type"` // TypeFix
	Vehicle string    `json:"vehicle"`
	Time    time.Time `json:"time"`
	Lat     float64   `json:"lat"`
	Lon     float64   `json:"lon"`
	Speed   float64   `json:"speed"` // m/s
	Track   float64   `json:"track"` // degrees true
	Trip    string    `json:"trip"`
	Dist    float64   `json:"dist"` // metres along the trip's path
}

// StopTruth is a "stop" line of the -truth file: when a bus truly reached
// and left a stop. At the first stop of a trip, arrival is when the bus got
// to the terminus (or the start of the simulation); at the last, departure
// equals arrival, and the layover shows on the next trip's first stop. A
// line is written once the bus has left the stop (the last: reached it).
type StopTruth struct {
	Type         string    `json:"type"` // TypeStop
	Vehicle      string    `json:"vehicle"`
	Trip         string    `json:"trip"`
	StopID       string    `json:"stop_id"`
	StopSequence int       `json:"stop_sequence"`
	Arrival      time.Time `json:"arrival"`
	Departure    time.Time `json:"departure"`
}

// SkipTruth is a "skip" line of the -truth file: a scheduled run that no
// bus drove (Options.Skip, Options.SkipTrips). There is one for each skipped
// run of the fleet's routes (or blocks) scheduled to be under way while the
// simulation ran, written when its scheduled departure passes (at the start
// for one under way then). A skipped run is never driven; a run not skipped
// may still have no bus when the fleet has fewer buses than runs.
type SkipTruth struct {
	Type               string    `json:"type"` // TypeSkip
	Trip               string    `json:"trip"`
	Route              string    `json:"route"`
	ServiceDay         string    `json:"service_day"`         // YYYY-MM-DD, the GTFS service date
	ScheduledDeparture time.Time `json:"scheduled_departure"` // from the first stop
}

// skipChunk is how much of the schedule is listed for skipped runs at a
// time: a fleet of thousands of trips lists it once a simulated hour.
const skipChunk = time.Hour

// skipEvents writes the skipped runs whose scheduled departure has come by
// t, the first time those under way at the start as well.
func (f *Fleet) skipEvents(t time.Time) error {
	if f.truth == nil || !f.dispatch.Skipping() {
		return nil
	}
	for f.skipsTo.IsZero() || !t.Before(f.skipsTo) {
		first := f.skipsTo.IsZero()
		from := f.skipsTo
		if first {
			from = f.opts.Start
		}
		to := from.Add(skipChunk)
		for _, r := range f.dispatch.SkippedRuns(f.skipRoutes, f.skipBlocks, from, to) {
			// Runs departing before this chunk were listed with the one before.
			if first || !r.Departs().Before(from) {
				f.skips = append(f.skips, r)
			}
		}
		f.skipsTo = to
	}
	for len(f.skips) > 0 && !f.skips[0].Departs().After(t) {
		r := f.skips[0]
		f.skips = f.skips[1:]
		d := r.Date
		if err := f.writeLine(SkipTruth{
			Type: TypeSkip, Trip: r.Trip.ID, Route: r.Trip.RouteID,
			ServiceDay:         fmt.Sprintf("%04d-%02d-%02d", d.Y, int(d.M), d.D),
			ScheduledDeparture: r.Departs().UTC(),
		}); err != nil {
			return err
		}
	}
	return nil
}

func (f *Fleet) writeFix(v *Vehicle, s motion.State) error {
	return f.writeLine(Truth{
		Type: TypeFix, Vehicle: v.Name, Time: s.Time.UTC(), Lat: s.Lat, Lon: s.Lon,
		Speed: s.Speed, Track: s.Track, Trip: v.run.Trip.ID, Dist: s.Dist,
	})
}

// stopEvents writes the stops bus v has left by t.
func (f *Fleet) stopEvents(v *Vehicle, t time.Time) error {
	sts := v.run.Trip.StopTimes
	for v.nextStop < len(sts) && !v.driver.DepartsAt(v.nextStop).After(t) {
		i := v.nextStop
		v.nextStop++
		if f.truth == nil {
			continue
		}
		arr := v.driver.ArrivesAt(i)
		if i == 0 {
			arr = v.atFirst
		}
		if err := f.writeLine(StopTruth{
			Type: TypeStop, Vehicle: v.Name, Trip: v.run.Trip.ID, StopID: sts[i].StopID,
			StopSequence: sts[i].Sequence, Arrival: arr.UTC(), Departure: v.driver.DepartsAt(i).UTC(),
		}); err != nil {
			return err
		}
	}
	return nil
}

func (f *Fleet) writeLine(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	b = append(b, '\n')
	if _, err := f.truth.Write(b); err != nil {
		return fmt.Errorf("write truth: %w", err)
	}
	return nil
}
