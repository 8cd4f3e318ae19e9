package fleet

import (
	"bytes"
	"context"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/headway-transit/headway/drivers/nmea"
	"github.com/headway-transit/headway/firmware-sim/internal/faults"
	"github.com/headway-transit/headway/firmware-sim/internal/motion"
	"github.com/headway-transit/headway/firmware-sim/internal/receiver"
	"github.com/headway-transit/headway/internal/geo"
	"github.com/headway-transit/headway/internal/yamlconf"
)

// The fleet sums its receivers' fault counters (for the status line), and
// every bad checksum injected is one the driver rejects.
func TestFaultCountsReachTheDriver(t *testing.T) {
	feed := loadDemo(t)
	rx := receiver.Options{Profile: "generic", RateHz: 1, Faults: faults.Config{
		BadChecksum: faults.LineFault{Enabled: true, Probability: 0.2},
	}}
	ports := make([]*bufPort, 4)
	fl, err := New(Options{
		Feed: feed, Routes: []string{"1", "2"}, Vehicles: len(ports), Start: demoStart(t, feed),
		Duration: 5 * time.Minute, Seed: 2, Motion: motion.DefaultConfig(), Receiver: &rx, Clock: instantClock{},
		Open: func(i int) (Port, error) { ports[i] = &bufPort{}; return ports[i], nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	defer fl.Close()
	if err := fl.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	injected := fl.FaultCounts()[faults.BadChecksum]
	if injected == 0 {
		t.Fatalf("no bad checksums injected: %v", fl.FaultCounts())
	}
	var rejected uint64
	for _, p := range ports {
		dec := nmea.NewDecoder(bytes.NewReader(p.Bytes()))
		for {
			if _, err := dec.Next(); errors.Is(err, io.EOF) {
				break
			} else if err != nil {
				t.Fatal(err)
			}
		}
		for _, n := range dec.Stats().Rejects {
			rejected += n
		}
	}
	if rejected != injected {
		t.Errorf("driver rejected %d lines, the receivers injected %d bad checksums", rejected, injected)
	}
	if st := fl.Stats(); st.Fixes != uint64(len(ports))*300 || st.Vehicles != len(ports) {
		t.Errorf("stats %+v", st)
	}
}

type recordingPublisher struct{ fixes [][]nmea.Fix }

func (p *recordingPublisher) Publish(i int, f nmea.Fix, _ string) {
	p.fixes[i] = append(p.fixes[i], f)
}

// Publishing to MQTT with an emulated receiver, the fixes are what the
// agent's driver makes of the receiver's sentences: none during the cold
// start, then noisy positions near the truth.
func TestPublishEmulatedReceiver(t *testing.T) {
	feed := loadDemo(t)
	rx := receiver.Options{Profile: "ublox-m8", RateHz: 1, NoiseM: 3, ColdStart: yamlconf.Duration(20 * time.Second)}
	pub := &recordingPublisher{fixes: make([][]nmea.Fix, 2)}
	var truth bytes.Buffer
	fl, err := New(Options{
		Feed: feed, Routes: []string{"1", "2"}, Start: demoStart(t, feed), Duration: 2 * time.Minute, Seed: 4,
		Motion: motion.DefaultConfig(), Receiver: &rx, Clock: instantClock{}, Publisher: pub, Truth: &truth,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := fl.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	fl.Close()
	at := map[string]Truth{}
	for _, tr := range readTruth(t, truth.Bytes()) {
		at[tr.Vehicle+tr.Time.String()] = tr
	}
	for i, v := range fl.Vehicles() {
		var withPos int
		for _, f := range pub.fixes[i] {
			if !f.HasPosition() {
				continue
			}
			withPos++
			if f.Time.Before(demoStart(t, feed).Add(20 * time.Second)) {
				t.Errorf("%s: a position at %v, during the cold start", v.Name, f.Time)
			}
			tr, ok := at[v.Name+f.Time.String()]
			if !ok {
				t.Fatalf("%s: fix at %v has no truth", v.Name, f.Time)
			}
			if d := geo.Distance(geo.Point{Lat: f.Lat, Lon: f.Lon}, geo.Point{Lat: tr.Lat, Lon: tr.Lon}); d > 30 {
				t.Errorf("%s at %v: %.0f m from the truth with 3 m of noise", v.Name, f.Time, d)
			}
		}
		if withPos < 90 || withPos > 101 {
			t.Errorf("%s: %d fixes with a position in 2 minutes with a 20 s cold start", v.Name, withPos)
		}
	}
}
