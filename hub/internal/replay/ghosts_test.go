package replay

import (
	"archive/zip"
	"encoding/json"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

const avlScore = "../../../../shared/tools/avl_score.py"

// TestGhostsAgreeWithAvlScore replays the WMATA day, trips given and
// inferred, and counts ghosts, wrong-vehicle predictions and missed
// realtime with both the hub's scorer and avl_score.py's ghosts command.
func TestGhostsAgreeWithAvlScore(t *testing.T) {
	feed, pings, csv := loadWMATA(t)
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 not installed: cannot run avl_score.py")
	}
	if _, err := os.Stat(avlScore); err != nil {
		t.Skipf("avl_score.py is absent (%v)", err)
	}
	// avl_score.py reads the feed's files from a folder.
	gtfsDir := unzip(t, filepath.Join(wmata, "wmata_gtfs_C53_D40_D96.zip"))

	for _, infer := range []bool{false, true} {
		name := "trips-given"
		if infer {
			name = "trips-inferred"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			out := filepath.Join(t.TempDir(), "pred.jsonl")
			f, err := os.Create(out)
			if err != nil {
				t.Fatal(err)
			}
			res, err := Run(Options{Feed: feed, Pings: pings, InferTrips: infer, Out: f})
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				t.Fatal(err)
			}
			g := res.Ghosts
			t.Logf("%d predictions: %.2f%% ghost (no trip %d, not reached %d, late %d), %.2f%% wrong vehicle, %.2f%% of %d passages missed",
				g.Predictions, g.GhostPct(), g.NoTrip, g.NotReached, g.Late, g.WrongVehiclePct(), g.MissedPct(), g.Passages)
			if g.Predictions+g.Unjudged != res.Predictions {
				t.Errorf("%d judged and %d unjudged predictions, of %d made", g.Predictions, g.Unjudged, res.Predictions)
			}
			if g.Predictions == 0 || g.Passages == 0 {
				t.Fatalf("nothing to compare: %+v", g)
			}

			b, err := exec.Command(py, avlScore, "ghosts", gtfsDir, csv, out).Output()
			if err != nil {
				t.Fatalf("avl_score.py ghosts: %v", stderrOf(err))
			}
			// avl_score.py leaves out counts that are 0.
			var ref struct {
				Predictions  int     `json:"predictions"`
				Unjudged     int     `json:"unjudged"`
				NoTrip       int     `json:"no_trip"`
				NotReached   int     `json:"not_reached"`
				Late         int     `json:"late"`
				WrongVehicle int     `json:"wrong_vehicle"`
				Passages     int     `json:"passages"`
				GhostPct     float64 `json:"ghost_pct"`
				WrongPct     float64 `json:"wrong_vehicle_pct"`
				MissedPct    float64 `json:"missed_realtime_pct"`
			}
			if err := json.Unmarshal(b, &ref); err != nil {
				t.Fatalf("avl_score.py output: %v\n%s", err, b)
			}
			for _, c := range []struct {
				what    string
				hub, py int
			}{
				{"judged predictions", g.Predictions, ref.Predictions},
				{"unjudged", g.Unjudged, ref.Unjudged},
				{"no trip", g.NoTrip, ref.NoTrip},
				{"not reached", g.NotReached, ref.NotReached},
				{"late", g.Late, ref.Late},
				{"wrong vehicle", g.WrongVehicle, ref.WrongVehicle},
				{"passages", g.Passages, ref.Passages},
			} {
				if c.hub != c.py {
					t.Errorf("%s: hub %d, avl_score.py %d", c.what, c.hub, c.py)
				}
			}
			// avl_score.py gives missed passages only as a share rounded to
			// 0.01%; under 10,000 passages that still tells every count apart.
			for _, c := range []struct {
				what    string
				hub, py float64
			}{
				{"ghost %", g.GhostPct(), ref.GhostPct},
				{"wrong vehicle %", g.WrongVehiclePct(), ref.WrongPct},
				{"missed realtime %", g.MissedPct(), ref.MissedPct},
			} {
				if math.Abs(c.hub-c.py) > 0.0051 {
					t.Errorf("%s: hub %.4f, avl_score.py %.2f", c.what, c.hub, c.py)
				}
			}
		})
	}
}

// unzip extracts a zip file into a temporary folder and returns the folder.
func unzip(t testing.TB, path string) string {
	t.Helper()
	zr, err := zip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	dir := t.TempDir()
	for _, zf := range zr.File {
		if zf.FileInfo().IsDir() || filepath.Base(zf.Name) != zf.Name {
			continue // the feed's files sit at its root
		}
		if err := extract(zf, filepath.Join(dir, zf.Name)); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
	}
	return dir
}

func extract(zf *zip.File, to string) error {
	r, err := zf.Open()
	if err != nil {
		return err
	}
	defer r.Close()
	w, err := os.Create(to)
	if err != nil {
		return err
	}
	if _, err := io.Copy(w, r); err != nil {
		w.Close()
		return err
	}
	return w.Close()
}

// stderrOf adds a failed command's standard error to its error.
func stderrOf(err error) string {
	if ee, ok := err.(*exec.ExitError); ok && len(ee.Stderr) > 0 {
		return err.Error() + "\n" + string(ee.Stderr)
	}
	return err.Error()
}
