package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/headway-transit/headway/hub/internal/avl"
	"github.com/headway-transit/headway/hub/internal/predict"
	"github.com/headway-transit/headway/hub/internal/replay"
	"github.com/headway-transit/headway/hub/internal/score"
	"github.com/headway-transit/headway/internal/gtfs"
)

// replayCmd is `hub replay -gtfs FEED -avl FILE.csv -out PRED.jsonl [-infer-trips]`.
func replayCmd(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("replay", flag.ContinueOnError)
	feedPath := fs.String("gtfs", "", "GTFS feed (`zip or folder`) the recording's trips belong to")
	avlPath := fs.String("avl", "", "recorded positions, flattened GTFS-Realtime VehiclePosition `CSV`")
	outPath := fs.String("out", "", "write every prediction made as a JSON line to this `file` (- for stdout)")
	infer := fs.Bool("infer-trips", false, "withhold the recorded trip ids: the hub infers each bus's trip")
	model := fs.String("model", "learned", "arrival model: `learned` (segment travel times learned online) or delay (delay propagation)")
	rtDir := fs.String("rt", "", "recorded GTFS-Realtime VehiclePositions: a `folder` of .pb snapshots, in file-name order (instead of -avl)")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: hub replay -gtfs FEED (-avl FILE.csv | -rt DIR) [-out PRED.jsonl] [-infer-trips] [-model learned|delay]\n\nReplays recorded positions through the live prediction engine on a simulated\nclock and scores the predictions against the recording (as avl_score.py's\nscore and ghosts commands do). The recording is a flattened CSV (-avl) or a\nfolder of GTFS-Realtime VehiclePositions snapshots as polled from a feed (-rt).")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *feedPath == "" || (*avlPath == "") == (*rtDir == "") {
		fs.Usage()
		return errors.New("replay: -gtfs and one of -avl or -rt are required")
	}
	if *model != "learned" && *model != "delay" {
		fs.Usage()
		return fmt.Errorf("replay: -model %q: want learned or delay", *model)
	}
	feed, err := gtfs.Load(*feedPath)
	if err != nil {
		return err
	}
	var pings []avl.Ping
	if *rtDir != "" {
		pings, err = avl.ReadGTFSRTDir(*rtDir)
	} else {
		pings, err = avl.ReadFile(*avlPath)
	}
	if err != nil {
		return err
	}
	var out io.Writer
	switch *outPath {
	case "":
	case "-":
		out = stdout
	default:
		f, err := os.Create(*outPath)
		if err != nil {
			return err
		}
		defer f.Close()
		out = f
	}
	var pr predict.Predictor // replay's default: the learned model
	if *model == "delay" {
		pr = predict.Delay{}
	}
	res, err := replay.Run(replay.Options{Feed: feed, Pings: pings, InferTrips: *infer, Predictor: pr, Out: out})
	if err != nil {
		return err
	}
	report := stdout
	if *outPath == "-" {
		report = os.Stderr
	}
	printScore(report, res)
	return nil
}

func printScore(w io.Writer, res replay.Result) {
	s := res.Score
	fmt.Fprintf(w, "replayed %d positions in %v: %d predictions, %d scored\n", res.Pings, res.Took.Round(1e6), res.Predictions, s.Scored)
	fmt.Fprintf(w, "MAE (s)      0-5 min %6.1f   5-10 min %6.1f   10-20 min %6.1f   20-30 min %6.1f\n", s.MAE[0], s.MAE[1], s.MAE[2], s.MAE[3])
	fmt.Fprintf(w, "n            0-5 min %6d   5-10 min %6d   10-20 min %6d   20-30 min %6d\n", s.N[0], s.N[1], s.N[2], s.N[3])
	fmt.Fprintf(w, "MBTA bands   %.1f%% in band (0-3 min %.1f%%, 3-6 %.1f%%, 6-12 %.1f%%, 12-30 %.1f%%)\n",
		s.InBandPct, s.BandPct[0], s.BandPct[1], s.BandPct[2], s.BandPct[3])
	g := res.Ghosts
	fmt.Fprintf(w, "ghosts       %.2f%% of %d judged predictions (no trip %d, not reached %d, late %d; %d unjudged)\n",
		g.GhostPct(), g.Predictions, g.NoTrip, g.NotReached, g.Late, g.Unjudged)
	fmt.Fprintf(w, "wrong bus    %.2f%% of judged predictions made by a bus on another trip\n", g.WrongVehiclePct())
	fmt.Fprintf(w, "missed       %.2f%% of %d passages with no realtime %d-%d min before\n",
		g.MissedPct(), g.Passages, score.AnnouncedMin/60, score.AnnouncedMax/60)
	if l := res.Live; l.Judged > 0 && l.Passages > 0 {
		fmt.Fprintf(w, "hub's own    %.2f%% ghosts of %d judged, %.2f%% of %d passages missed (against its own passages, as /metrics counts)\n",
			100*float64(l.Ghosts)/float64(l.Judged), l.Judged, 100*float64(l.Missed)/float64(l.Passages), l.Passages)
	}
	if la := res.LiveAccuracy; la.Scored > 0 {
		fmt.Fprintf(w, "hub's own    %.1f%% in band, MAE %.0f/%.0f/%.0f/%.0f s, %d scored (against its own passages, one prediction per stop per 15 s, as /api/accuracy counts)\n",
			la.InBandPct, la.MAE[0], la.MAE[1], la.MAE[2], la.MAE[3], la.Scored)
	}
	if res.AssignEligible > 0 {
		fmt.Fprintf(w, "trips        %.1f%% of %d positions on the right trip once it was %v old\n",
			100*float64(res.AssignRight)/float64(res.AssignEligible), res.AssignEligible, replay.AssignAfter)
	}
}
