package e2e

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/headway-transit/headway/internal/gtfs"
	"github.com/headway-transit/headway/internal/wire"
)

var announce = regexp.MustCompile(`gps0: (\S+) -> (\S+) route (\S+) trip (\S+)`)

// TestEndToEnd runs firmware-sim -> PTY -> vehicle agent -> MQTT -> hub ->
// WebSocket -> station agent -> bbolt cache -> /board.json, once through the
// hub's embedded broker and once through a real Mosquitto.
func TestEndToEnd(t *testing.T) {
	skipShort(t)
	feed, err := gtfs.Load(filepath.Join(bins.root, "configs/demo-feed"))
	if err != nil {
		t.Fatal(err)
	}
	for _, broker := range []string{"embedded", "mosquitto"} {
		t.Run(broker, func(t *testing.T) {
			url := ""
			if broker == "mosquitto" {
				url = mosquitto(t)
			}
			endToEnd(t, feed, url)
		})
	}
}

// hubSettle is the hub's default tracking.settle (engine.DefaultSettle).
const hubSettle = 4 * time.Minute

func endToEnd(t *testing.T, feed *gtfs.Feed, brokerURL string) {
	sys := startHub(t, brokerURL)
	dir := t.TempDir()
	link := filepath.Join(dir, "gps")
	truth := filepath.Join(dir, "truth.jsonl")
	sim := start(t, "firmware-sim", bins.sim, "run", "-feed", "configs/demo-feed", "-route", "1", "-link", link, "-truth", truth)
	var m []string
	eventually(t, 20*time.Second, "the simulator's receiver", func() bool {
		m = announce.FindStringSubmatch(sim.output())
		return m != nil
	})
	port, tripID := m[1], m[4]
	trip := feed.Trips[tripID]
	if trip == nil {
		t.Fatalf("simulator drives trip %q, not in the feed", tripID)
	}
	// The sign shows the trip's last stop where passengers still board: the
	// bus is always upstream of it.
	stop := trip.StopTimes[len(trip.StopTimes)-2].StopID
	t.Logf("bus on %s (trip %s), sign at stop %s", port, tripID, stop)

	sys.startStation(t, stop)
	sys.startVehicle(t, "bus-1", port, "")

	// A realtime arrival of the simulated bus reaches the sign: within a
	// minute, or, when the bus's first fixes fit another block's trip about
	// as well (the simulator may start it anywhere on its trip), once the
	// hub's settle time (tracking.settle, 4 min) has told them apart: a
	// countdown meanwhile could be a ghost. The wait is then explained by
	// the hub's unsure counter.
	var first time.Time
	var hubSaw string // what the hub made of the bus, for the failure message
	waitStart := time.Now()
	eventually(t, 60*time.Second+hubSettle, "a realtime arrival of bus-1 on the sign", func() bool {
		var b signBoard
		if getJSON(t, sys.signHTTP+"/board.json", &b) != nil {
			return false
		}
		p, v, ok := b.realtime(stop, tripID)
		if ok && v == "bus-1" {
			first = p
			return true
		}
		if raw, err := httpGet(sys.hubHTTP + "/api/vehicles"); err == nil && hubSaw != string(raw) {
			hubSaw = string(raw)
			t.Logf("hub's vehicles: %s", raw)
		}
		return false
	})
	if waited := time.Since(waitStart); waited > 60*time.Second {
		unsure := scrape(t, sys.hubHTTP+"/metrics")["headway_vehicle_unsure_no_prediction_total"]
		t.Logf("the first realtime row came after %v: the hub was unsure of the trip for %v fixes", waited.Round(time.Second), unsure)
		if unsure == 0 {
			t.Errorf("no realtime row for %v, and not for want of settling", waited.Round(time.Second))
		}
	}
	dist0 := hubDist(t, sys, "bus-1")
	t.Logf("sign shows bus-1 at %s predicted %s; hub has it %.0f m along", stop, first.Format(time.TimeOnly), dist0)

	// The bus moves on (it may be dwelling at a stop now); the hub follows
	// it along the trip and the prediction on the sign changes.
	var moved time.Time
	var dist1 float64
	eventually(t, 90*time.Second, "the bus to move and the prediction on the sign with it", func() bool {
		var b signBoard
		if getJSON(t, sys.signHTTP+"/board.json", &b) != nil {
			return false
		}
		p, _, ok := b.realtime(stop, tripID)
		if !ok || p.Equal(first) {
			return false
		}
		moved, dist1 = p, hubDist(t, sys, "bus-1")
		return dist1 > dist0+20
	})
	if n := countLines(t, truth); n < 2 {
		t.Errorf("simulator wrote %d truth lines", n)
	}
	t.Logf("prediction moved from %s to %s as the bus went from %.0f to %.0f m", first.Format(time.TimeOnly), moved.Format(time.TimeOnly), dist0, dist1)

	// The station cached what it showed: stop it and read its bbolt file.
	sys.station.stop(t)
	db, err := bolt.Open(sys.cache, 0o600, &bolt.Options{ReadOnly: true, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatalf("open the sign's cache: %v", err)
	}
	defer db.Close()
	err = db.View(func(tx *bolt.Tx) error {
		bk := tx.Bucket([]byte("boards"))
		if bk == nil {
			return fmt.Errorf("no boards bucket")
		}
		v := bk.Get([]byte(stop))
		if v == nil {
			return fmt.Errorf("no board cached for %s", stop)
		}
		var stored struct {
			Board wire.Board `json:"board"`
		}
		if err := json.Unmarshal(v, &stored); err != nil {
			return err
		}
		for _, a := range stored.Board.Arrivals {
			if a.Trip == tripID && a.Source == wire.SourceRealtime {
				return nil
			}
		}
		return fmt.Errorf("cached board of %s has no realtime %s: %+v", stop, tripID, stored.Board.Arrivals)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// hubDist returns how far along its trip the hub places vehicle.
func hubDist(t *testing.T, sys *system, vehicle string) float64 {
	t.Helper()
	var vs []struct {
		Vehicle string  `json:"vehicle"`
		Dist    float64 `json:"dist_m"`
	}
	if err := getJSON(t, sys.hubHTTP+"/api/vehicles", &vs); err != nil {
		t.Fatal(err)
	}
	for _, v := range vs {
		if v.Vehicle == vehicle {
			return v.Dist
		}
	}
	t.Fatalf("hub does not know %s: %+v", vehicle, vs)
	return 0
}

func countLines(t *testing.T, path string) int {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	n := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if strings.TrimSpace(sc.Text()) != "" {
			n++
		}
	}
	return n
}
