// Package replay runs recorded vehicle positions through the hub's live
// engine on a simulated clock (`hub replay`): each ping becomes the MQTT
// position its bus would have published, the engine tracks and predicts as
// it would live, and every prediction made is written as a JSON line and
// scored against the recording: accuracy, ghosts and missed buses.
package replay

import (
	"bufio"
	"io"
	"log/slog"
	"math"
	"strconv"
	"time"

	"github.com/headway-transit/headway/hub/internal/avl"
	"github.com/headway-transit/headway/hub/internal/engine"
	"github.com/headway-transit/headway/hub/internal/ingest"
	"github.com/headway-transit/headway/hub/internal/predict"
	"github.com/headway-transit/headway/hub/internal/score"
	"github.com/headway-transit/headway/hub/internal/tracker"
	"github.com/headway-transit/headway/internal/gtfs"
	"github.com/headway-transit/headway/internal/wire"
)

// Options configure a replay.
type Options struct {
	Feed  *gtfs.Feed
	Pings []avl.Ping // in time order
	// InferTrips withholds the recorded trip ids: the hub must find each
	// bus's trip from its positions and the schedule.
	InferTrips bool
	// Predictor is the model replayed; nil means a fresh predict.Learned.
	Predictor predict.Predictor
	Out       io.Writer // prediction JSON lines; nil discards them
	Logger    *slog.Logger
}

// Result summarises a replay.
type Result struct {
	Pings       int
	Predictions int
	Score       score.Result
	Ghosts      score.Ghosts
	// Live is the engine's own judgement, against its own passages, as
	// the live hub exports it in /metrics.
	Live engine.LiveCounts
	// LiveAccuracy is the engine's own score of its predictions over the
	// replay (up to a day), against its own passages, as /api/accuracy
	// reports it live.
	LiveAccuracy score.Result
	// With InferTrips: positions whose recorded trip had been running for
	// at least AssignAfter, and how many of those the hub put on it.
	AssignEligible, AssignRight int
	Took                        time.Duration
}

// AssignAfter is how old a trip must be before its assignment is judged.
const AssignAfter = 2 * time.Minute

// Run replays opts.Pings.
func Run(opts Options) (Result, error) {
	start := time.Now()
	var now time.Time
	clock := func() time.Time { return now }
	model := opts.Predictor
	if model == nil {
		model = predict.NewLearned(opts.Feed, predict.LearnedConfig{})
	}
	eng := engine.New(engine.Options{
		Feed:      opts.Feed,
		Predictor: model,
		Tracker:   tracker.Config{MaxOffRoute: 150, MaxFuture: 2 * time.Minute},
		Horizon:   90 * time.Minute, MaxRows: 20, Refresh: time.Minute, Stale: 5 * time.Minute,
		Logger: opts.Logger, Now: clock,
	})
	w := bufio.NewWriterSize(orDiscard(opts.Out), 1<<16)
	defer w.Flush()
	seqs := map[string]uint64{}
	firstSeen := map[[2]string]time.Time{} // (vehicle, trip) -> first ping
	var preds []score.Prediction
	var res Result
	var line []byte
	topics := wire.Topics{}
	for _, p := range opts.Pings {
		now = p.Time
		seqs[p.Vehicle]++
		pos := wire.Position{V: wire.Version, Vehicle: p.Vehicle, Seq: seqs[p.Vehicle], Time: p.Time, Lat: p.Lat, Lon: p.Lon, Mode: 2}
		if !math.IsNaN(p.Speed) && p.Speed >= 0 && p.Speed <= 100 {
			pos.Speed = wire.Float(p.Speed)
		}
		if !math.IsNaN(p.Bearing) && p.Bearing >= 0 && p.Bearing < 360 {
			pos.Track = wire.Float(p.Bearing)
		}
		if !opts.InferTrips {
			pos.Trip = p.Trip
		}
		payload, err := pos.Encode()
		if err != nil {
			continue // a ping the contract cannot carry (e.g. an odd id)
		}
		res.Pings++
		eng.Handle(ingest.Message{Topic: topics.Position(p.Vehicle), Payload: payload, Received: now})

		if opts.InferTrips {
			k := [2]string{p.Vehicle, p.Trip}
			if _, ok := firstSeen[k]; !ok {
				firstSeen[k] = p.Time
			}
			if p.Time.Sub(firstSeen[k]) >= AssignAfter {
				res.AssignEligible++
				if eng.TripOf(p.Vehicle) == p.Trip {
					res.AssignRight++
				}
			}
		}
		trip, _, sps := eng.Predicted(p.Vehicle)
		if trip == nil {
			continue
		}
		made := p.Time.Unix()
		for _, sp := range sps {
			pred := sp.Predicted.Unix()
			preds = append(preds, score.Prediction{MadeAt: float64(made), Vehicle: p.Vehicle, Trip: trip.ID, Seq: sp.StopSequence, Predicted: float64(pred)})
			line = append(line[:0], `{"made_at":`...)
			line = strconv.AppendInt(line, made, 10)
			line = append(line, `,"vehicle":`...)
			line = strconv.AppendQuote(line, p.Vehicle)
			line = append(line, `,"trip":`...)
			line = strconv.AppendQuote(line, trip.ID)
			line = append(line, `,"stop_id":`...)
			line = strconv.AppendQuote(line, sp.StopID)
			line = append(line, `,"stop_sequence":`...)
			line = strconv.AppendInt(line, int64(sp.StopSequence), 10)
			line = append(line, `,"predicted":`...)
			line = strconv.AppendInt(line, pred, 10)
			line = append(line, "}\n"...)
			if _, err := w.Write(line); err != nil {
				return res, err
			}
		}
	}
	res.Predictions = len(preds)
	res.Live = eng.Live()
	res.LiveAccuracy = eng.Accuracy(now).All.Windows["day"]
	truth := score.Truth(opts.Pings)
	res.Score = score.Score(preds, truth)
	res.Ghosts = score.CountGhosts(preds, opts.Pings, truth, opts.Feed)
	res.Took = time.Since(start)
	return res, w.Flush()
}

func orDiscard(w io.Writer) io.Writer {
	if w == nil {
		return io.Discard
	}
	return w
}
