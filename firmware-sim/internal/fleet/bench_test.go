package fleet

import (
	"context"
	"testing"
	"time"

	"github.com/headway-transit/headway/drivers/nmea"
	"github.com/headway-transit/headway/firmware-sim/internal/motion"
	"github.com/headway-transit/headway/firmware-sim/internal/receiver"
)

type nopPublisher struct{}

func (nopPublisher) Publish(int, nmea.Fix, string) {}

// BenchmarkFleetEpoch is one simulated second of a 1,000-bus fleet: each
// bus's motion and receiver, without the output's cost (NMEA to a buffer,
// or a publisher that drops the fixes). "decoded" is what firmware-sim
// fleet -mqtt does with an emulated receiver (-rate, -profile, -noise):
// each epoch's sentences decoded as the agent's driver would.
func BenchmarkFleetEpoch(b *testing.B) {
	feed := loadDemo(b)
	for _, tc := range []struct {
		name          string
		nmea, decoded bool
	}{{"nmea", true, false}, {"fixes", false, false}, {"decoded", false, true}} {
		b.Run(tc.name, func(b *testing.B) {
			opts := Options{
				Feed: feed, Routes: []string{"1", "2", "3"}, Vehicles: 1000,
				Start: demoStart(b, feed), Duration: time.Duration(b.N) * time.Second, Seed: 1,
				Motion: motion.DefaultConfig(), Clock: instantClock{},
			}
			if tc.nmea {
				opts.Open = func(int) (Port, error) { return &discardPort{}, nil }
			} else {
				opts.Publisher = nopPublisher{}
			}
			if tc.decoded {
				opts.Receiver = &receiver.Options{Profile: "generic", RateHz: 1}
			}
			fl, err := New(opts)
			if err != nil {
				b.Fatal(err)
			}
			defer fl.Close()
			b.ReportAllocs()
			b.ResetTimer()
			if err := fl.Run(context.Background()); err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(b.N*1000)/b.Elapsed().Seconds(), "fixes/s")
		})
	}
}

type discardPort struct{}

func (*discardPort) Write(p []byte) (int, error) { return len(p), nil }
func (*discardPort) Close() error                { return nil }
func (*discardPort) String() string              { return "discard" }
