package receiver

import (
	"math"
	"strconv"
	"testing"
	"time"

	"github.com/headway-transit/headway/drivers/nmea"
	"github.com/headway-transit/headway/firmware-sim/internal/faults"
	"github.com/headway-transit/headway/internal/geo"
	"github.com/headway-transit/headway/internal/yamlconf"
)

func at(d ...time.Duration) []yamlconf.Duration {
	var out []yamlconf.Duration
	for _, v := range d {
		out = append(out, yamlconf.Duration(v))
	}
	return out
}

// Line faults show up one for one in the decoder's rejects.
func TestLineFaultsInDecoderRejects(t *testing.T) {
	tests := []struct {
		name   string
		cfg    faults.Config
		fault  string
		reject string
	}{
		{"bad checksum", faults.Config{BadChecksum: faults.LineFault{Enabled: true, Probability: 0.05}}, faults.BadChecksum, nmea.ReasonChecksum},
		{"garbage", faults.Config{Garbage: faults.LineFault{Enabled: true, Probability: 0.05}}, faults.Garbage, nmea.ReasonGarbage},
		{"truncated", faults.Config{Truncated: faults.LineFault{Enabled: true, Probability: 0.05}}, faults.Truncated, nmea.ReasonTruncated},
	}
	for _, tt := range tests {
		for _, prof := range []string{"generic", "ublox-m8", "quectel-l70"} {
			t.Run(tt.name+"/"+prof, func(t *testing.T) {
				rx, w, _ := run(t, Options{Profile: prof, Seed: 11, NoiseM: 2, Faults: tt.cfg}, 300)
				injected := rx.FaultCounts()[tt.fault]
				if injected == 0 {
					t.Fatal("nothing injected in 5 minutes")
				}
				fixes, dec := decodeAll(t, w.all())
				st := dec.Stats()
				if st.Rejects[tt.reject] != injected {
					t.Errorf("decoder rejects %v, injected %d %s", st.Rejects, injected, tt.fault)
				}
				if len(st.Rejects) != 1 {
					t.Errorf("other rejects too: %v", st.Rejects)
				}
				// The sentences around the damage still decode.
				if len(positioned(fixes)) < 250 {
					t.Errorf("only %d fixes in 300 s", len(positioned(fixes)))
				}
			})
		}
	}
}

func TestFixLoss(t *testing.T) {
	o := Options{Profile: "ublox-m8", Seed: 5, NoiseM: 2,
		Faults: faults.Config{FixLoss: faults.EventFault{Enabled: true, At: at(20 * time.Second), Duration: yamlconf.Duration(15 * time.Second)}}}
	rx, w, truth := run(t, o, 60)
	fixes, dec := decodeAll(t, w.all())
	tunnelFrom, tunnelTo := truth[20].Time, truth[35].Time
	var in, out int
	for _, f := range fixes {
		inside := !f.Time.Before(tunnelFrom) && f.Time.Before(tunnelTo)
		switch {
		case inside && f.HasPosition():
			t.Errorf("fix at %v inside the tunnel", f.Time)
		case inside:
			in++
		case f.HasPosition():
			out++
		}
	}
	if in != 15 || out != 45 {
		t.Errorf("%d no-fix epochs in the tunnel (want 15), %d fixes outside (want 45)", in, out)
	}
	if rx.FaultCounts()[faults.FixLoss] != 1 || len(dec.Stats().Rejects) > 0 {
		t.Errorf("counts %v, rejects %v", rx.FaultCounts(), dec.Stats().Rejects)
	}
}

func TestMultipath(t *testing.T) {
	o := Options{Profile: "mtk3339", Seed: 5,
		Faults: faults.Config{Multipath: faults.Multipath{EventFault: faults.EventFault{Enabled: true, At: at(10*time.Second, 40*time.Second), Duration: yamlconf.Duration(3 * time.Second)}}}}
	rx, w, truth := run(t, o, 60)
	fixes, _ := decodeAll(t, w.all())
	if len(fixes) != 60 {
		t.Fatalf("%d fixes", len(fixes))
	}
	jumped := 0
	for i, f := range fixes {
		d := geo.Distance(geo.Point{Lat: f.Lat, Lon: f.Lon}, truth[i].Point())
		inJump := i >= 10 && i < 13 || i >= 40 && i < 43
		switch {
		case inJump && (d < 29 || d > 201):
			t.Errorf("fix %d is %.1f m off during a jump, want 30-200 m", i, d)
		case !inJump && d > 0.5:
			t.Errorf("fix %d is %.1f m off outside a jump", i, d)
		case inJump:
			jumped++
		}
	}
	if jumped != 6 || rx.FaultCounts()[faults.MultipathJ] != 2 {
		t.Errorf("%d jumped fixes, counts %v", jumped, rx.FaultCounts())
	}
}

func TestClockJump(t *testing.T) {
	const week1024 = 1024 * 7 * 24 * time.Hour
	for _, off := range []time.Duration{3 * time.Hour, -90 * time.Minute, week1024} {
		t.Run(off.String(), func(t *testing.T) {
			o := Options{Profile: "quectel-l70", Seed: 1,
				Faults: faults.Config{ClockJump: faults.ClockJump{EventFault: faults.EventFault{Enabled: true, At: at(10 * time.Second), Duration: yamlconf.Duration(5 * time.Second)}, Offset: yamlconf.Duration(off)}}}
			_, w, truth := run(t, o, 30)
			fixes, dec := decodeAll(t, w.all())
			if len(fixes) != 30 {
				t.Fatalf("%d fixes", len(fixes))
			}
			for i, f := range fixes {
				want := truth[i].Time
				if i >= 10 && i < 15 {
					want = want.Add(off)
				}
				if !f.Time.Equal(want) {
					t.Errorf("fix %d at %v, want %v", i, f.Time, want)
				}
			}
			if r := dec.Stats().Rejects; len(r) > 0 {
				t.Errorf("rejects %v", r)
			}
		})
	}
}

// At the wrong baud rate the agent reads only noise: no sentence passes,
// no fix comes out; before and after, everything decodes.
func TestWrongBaud(t *testing.T) {
	for _, tx := range []int{4800, 38400, 115200} {
		t.Run(strconv.Itoa(tx), func(t *testing.T) {
			o := Options{Profile: "ublox-m8", Seed: 2, Baud: 9600,
				Faults: faults.Config{WrongBaud: faults.WrongBaud{EventFault: faults.EventFault{Enabled: true, At: at(10 * time.Second), Duration: yamlconf.Duration(10 * time.Second)}, Baud: tx}}}
			rx, w, _ := run(t, o, 30)
			if len(w.writes) != 30 || rx.FaultCounts()[faults.WrongBaudN] != 1 {
				t.Fatalf("%d writes, counts %v", len(w.writes), rx.FaultCounts())
			}
			var window []byte
			for _, b := range w.writes[10:20] {
				window = append(window, b...)
			}
			fixes, dec := decodeAll(t, window)
			st := dec.Stats()
			if len(fixes) != 0 || len(st.Sentences) != 0 || len(st.Ignored) != 0 {
				t.Errorf("at %d baud read at 9600: %d fixes, sentences %v, ignored %v", tx, len(fixes), st.Sentences, st.Ignored)
			}
			if len(st.Rejects) == 0 {
				t.Errorf("no rejects from %d bytes of noise", len(window))
			}
			before, _ := decodeAll(t, append(append([]byte(nil), w.writes[0]...), w.writes[1]...))
			after, _ := decodeAll(t, append(append([]byte(nil), w.writes[20]...), w.writes[21]...))
			if len(positioned(before)) != 2 || len(positioned(after)) != 2 {
				t.Errorf("outside the window: %d and %d fixes, want 2 and 2", len(positioned(before)), len(positioned(after)))
			}
		})
	}
}

// A port that cannot be unplugged goes silent instead.
func TestUnplugSilentWithoutUnplugger(t *testing.T) {
	o := Options{Seed: 2, Faults: faults.Config{Unplug: faults.EventFault{Enabled: true, At: at(5 * time.Second), Duration: yamlconf.Duration(5 * time.Second)}}}
	rx, w, _ := run(t, o, 20)
	if len(w.writes) != 15 || rx.FaultCounts()[faults.Unplug] != 1 {
		t.Errorf("%d epochs written of 20, counts %v", len(w.writes), rx.FaultCounts())
	}
}

func TestNoiseBound(t *testing.T) {
	_, w, truth := run(t, Options{Seed: 4, NoiseM: 5, RateHz: 10}, 600)
	fixes, _ := decodeAll(t, w.all())
	var sum float64
	for i, f := range fixes {
		d := geo.Distance(geo.Point{Lat: f.Lat, Lon: f.Lon}, truth[i].Point())
		if d > 3*5*math.Sqrt2+0.1 {
			t.Fatalf("fix %d %.1f m off", i, d)
		}
		sum += d * d
	}
	if rms := math.Sqrt(sum / float64(len(fixes))); rms < 2 || rms > 12 {
		t.Errorf("RMS error %.1f m for 5 m of noise per axis", rms)
	}
}
