package receiver

import (
	"bytes"
	"errors"
	"io"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/headway-transit/headway/drivers/nmea"
	"github.com/headway-transit/headway/firmware-sim/internal/faults"
	"github.com/headway-transit/headway/firmware-sim/internal/motion"
	"github.com/headway-transit/headway/firmware-sim/internal/profile"
	"github.com/headway-transit/headway/internal/geo"
	"github.com/headway-transit/headway/internal/yamlconf"
)

var simStart = time.Date(2026, 11, 27, 7, 0, 0, 0, time.UTC)

// straight is a bus heading east-north-east at 10 m/s.
func straight(t time.Time) motion.State {
	dt := t.Sub(simStart).Seconds()
	p := geo.Offset(geo.Point{Lat: 44.3879, Lon: 8.8811}, 70, 10*dt)
	return motion.State{Time: t, Lat: p.Lat, Lon: p.Lon, Speed: 10, Track: 70}
}

// epochWriter keeps each Write apart, one per epoch.
type epochWriter struct{ writes [][]byte }

func (w *epochWriter) Write(b []byte) (int, error) {
	w.writes = append(w.writes, bytes.Clone(b))
	return len(b), nil
}

func (w *epochWriter) all() []byte { return bytes.Join(w.writes, nil) }

// run emits secs seconds of epochs and returns the receiver, its writes
// and the true states.
func run(t testing.TB, o Options, secs int) (*Receiver, *epochWriter, []motion.State) {
	t.Helper()
	w := &epochWriter{}
	rx, err := NewWith(w, o)
	if err != nil {
		t.Fatal(err)
	}
	var truth []motion.State
	n := secs * int(time.Second/rx.Interval())
	for i := range n {
		s := straight(simStart.Add(time.Duration(i) * rx.Interval()))
		if err := rx.Emit(s); err != nil {
			t.Fatal(err)
		}
		truth = append(truth, s)
	}
	return rx, w, truth
}

// decodeAll decodes b with drivers/nmea.
func decodeAll(t testing.TB, b []byte) ([]nmea.Fix, *nmea.Decoder) {
	t.Helper()
	dec := nmea.NewDecoder(bytes.NewReader(b))
	var out []nmea.Fix
	for {
		f, err := dec.Next()
		if errors.Is(err, io.EOF) {
			return out, dec
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, f)
	}
}

// positioned keeps the fixes with a position.
func positioned(fixes []nmea.Fix) []nmea.Fix {
	var out []nmea.Fix
	for _, f := range fixes {
		if f.HasPosition() {
			out = append(out, f)
		}
	}
	return out
}

func TestProfilesDecodeToTruth(t *testing.T) {
	const noise = 2.0
	// 3 sigma per axis, both axes, plus the rounding of four decimals of a
	// minute.
	bound := 3*noise*math.Sqrt2 + 0.3
	for _, name := range profile.Names() {
		p, _ := profile.Lookup(name)
		for _, rate := range []int{1, 5, 10} {
			t.Run(name+"/"+time.Duration(time.Second/time.Duration(rate)).String(), func(t *testing.T) {
				const secs = 30
				_, w, truth := run(t, Options{Profile: name, RateHz: rate, Seed: 7, NoiseM: noise, AltMSL: 20}, secs)
				fixes, dec := decodeAll(t, w.all())
				if len(fixes) != secs*rate {
					t.Fatalf("%d fixes in %d s at %d Hz, want %d", len(fixes), secs, rate, secs*rate)
				}
				worst := 0.0
				for i, f := range fixes {
					want := truth[i]
					if !f.Time.Equal(want.Time) {
						t.Fatalf("fix %d at %v, want %v", i, f.Time, want.Time)
					}
					if f.Mode != nmea.Mode3D || f.Sats < 4 || !(f.HDOP > 0 && f.HDOP < 10) {
						t.Fatalf("fix %d: mode %v sats %d hdop %v", i, f.Mode, f.Sats, f.HDOP)
					}
					d := geo.Distance(geo.Point{Lat: f.Lat, Lon: f.Lon}, want.Point())
					worst = max(worst, d)
					if d > bound {
						t.Errorf("fix %d is %.1f m off the truth, bound %.1f m", i, d, bound)
					}
					if math.Abs(f.Speed-want.Speed) > 0.01 || geo.AngleDiff(f.Track, want.Track) > 0.01 {
						t.Errorf("fix %d: speed %v track %v", i, f.Speed, f.Track)
					}
				}
				if worst == 0 {
					t.Error("no noise at all")
				}
				st := dec.Stats()
				if len(st.Rejects) > 0 {
					t.Errorf("rejects %v", st.Rejects)
				}
				var types []string
				for _, s := range p.Epoch {
					if !slices.Contains(types, s.Type) {
						types = append(types, s.Type)
					}
					if st.Sentences[s.Type] == 0 {
						t.Errorf("no %s decoded; sentences %v", s.Type, st.Sentences)
					}
				}
				if len(st.Sentences) != len(types)+boolInt(hasTXTBoot(p)) {
					t.Errorf("sentences %v, want the types %v", st.Sentences, types)
				}
				if len(p.Boot) > 0 && len(dec.Texts()) == 0 {
					t.Errorf("boot banner %q not seen by the decoder", p.Boot)
				}
			})
		}
	}
}

func hasTXTBoot(p profile.Profile) bool {
	return slices.ContainsFunc(p.Boot, func(b string) bool { return strings.HasPrefix(b[2:], "TXT") })
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// GSV goes out once a second (or every 5 s) however fast the rate.
func TestEveryNth(t *testing.T) {
	_, w, _ := run(t, Options{Profile: "sirf-star4", RateHz: 5}, 20)
	_, dec := decodeAll(t, w.all())
	st := dec.Stats()
	if st.Sentences["GGA"] != 100 || st.Sentences["GSV"] != 4*3 {
		t.Errorf("sentences %v: want 100 GGA and GSV 4 times (3 parts each)", st.Sentences)
	}
}

func TestColdStart(t *testing.T) {
	_, w, truth := run(t, Options{Profile: "ublox-m8", ColdStart: yamlconf.Duration(20 * time.Second), Seed: 3}, 40)
	fixes, dec := decodeAll(t, w.all())
	got := positioned(fixes)
	if len(got) != 20 || !got[0].Time.Equal(truth[20].Time) {
		t.Fatalf("%d positioned fixes from %v, want 20 from %v", len(got), got[0].Time, truth[20].Time)
	}
	noTime := 0
	for _, f := range fixes {
		if f.Time.IsZero() {
			noTime++
		}
	}
	if noTime == 0 {
		t.Error("a cold receiver should not know the time at first")
	}
	if r := dec.Stats().Rejects; len(r) > 0 {
		t.Errorf("rejects %v", r)
	}
}

func TestSameSeedSameBytes(t *testing.T) {
	o := Options{Profile: "ublox-m8", RateHz: 5, Seed: 42, NoiseM: 2, ColdStart: yamlconf.Duration(5 * time.Second),
		Faults: faults.Config{BadChecksum: faults.LineFault{Enabled: true, Probability: 0.02},
			Multipath: faults.Multipath{EventFault: faults.EventFault{Enabled: true, PerHour: 300, Duration: yamlconf.Duration(2 * time.Second)}}}}
	_, a, _ := run(t, o, 30)
	_, b, _ := run(t, o, 30)
	if !bytes.Equal(a.all(), b.all()) {
		t.Error("same seed, different bytes")
	}
	o.Seed++
	_, c, _ := run(t, o, 30)
	if bytes.Equal(a.all(), c.all()) {
		t.Error("another seed, same bytes")
	}
}

// Over hours the constellation turns: satellites used and HDOP change.
func TestSkyMoves(t *testing.T) {
	w := &epochWriter{}
	rx, err := NewWith(w, Options{Profile: "mtk3339", Seed: 9})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 6 * 60 {
		if err := rx.Emit(straight(simStart.Add(time.Duration(i) * time.Minute))); err != nil {
			t.Fatal(err)
		}
	}
	fixes, _ := decodeAll(t, w.all())
	sats, hdops := map[int]bool{}, map[float64]bool{}
	for _, f := range fixes {
		sats[f.Sats], hdops[f.HDOP] = true, true
		if f.HasPosition() && !(f.HDOP >= 0.5 && f.HDOP < 10) {
			t.Errorf("HDOP %v at %v", f.HDOP, f.Time)
		}
	}
	if len(sats) < 3 || len(hdops) < 10 {
		t.Errorf("over 6 hours: sats used %v, %d HDOP values", sats, len(hdops))
	}
}

func TestOptionsValidate(t *testing.T) {
	for _, tt := range []struct {
		name string
		o    Options
		want string
	}{
		{"profile", Options{Profile: "garmin"}, "profile"},
		{"rate", Options{RateHz: 4}, "rate_hz"},
		{"noise", Options{NoiseM: -1}, "noise_m"},
		{"fault", Options{Faults: faults.Config{FixLoss: faults.EventFault{Enabled: true}}}, "faults.fix_loss.duration"},
		{"probability", Options{Faults: faults.Config{Garbage: faults.LineFault{Enabled: true, Probability: 2}}}, "faults.garbage.probability"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.o.Validate(); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Validate = %v, want an error naming %s", err, tt.want)
			}
		})
	}
	if err := DefaultOptions().Validate(); err != nil {
		t.Errorf("DefaultOptions: %v", err)
	}
}

func TestOptionsYAML(t *testing.T) {
	var o Options
	err := yamlconf.Decode([]byte(`
profile: ublox-m8
rate_hz: 5
cold_start: 45s
noise_m: 2.5
faults:
  fix_loss: {enabled: true, at: [2m], duration: 30s}
  multipath: {enabled: true, per_hour: 6, duration: 3s, max_jump_m: 80}
  bad_checksum: {enabled: true, probability: 0.01}
  wrong_baud: {enabled: true, per_hour: 1, duration: 10s, baud: 4800}
  clock_jump: {enabled: true, at: [5m], duration: 10s, offset: 172032h}
`), &o)
	if err != nil {
		t.Fatal(err)
	}
	if o.ColdStart.D() != 45*time.Second || o.Faults.FixLoss.At[0].D() != 2*time.Minute || o.Faults.Multipath.MaxJump != 80 ||
		o.Faults.WrongBaud.Baud != 4800 || o.Faults.ClockJump.Offset.D() != 1024*7*24*time.Hour {
		t.Errorf("decoded %+v", o)
	}
	if err := yamlconf.Decode([]byte("faults: {tunnel: {enabled: true}}"), &o); err == nil {
		t.Error("unknown fault accepted")
	}
}
