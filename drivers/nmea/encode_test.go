package nmea

import (
	"bytes"
	"math"
	"strings"
	"testing"
)

func TestAppendChecksum(t *testing.T) {
	got := string(AppendChecksum([]byte("prefix"), []byte(rmcExample[1:len(rmcExample)-3])))
	if want := "prefix" + rmcExample + "\r\n"; got != want {
		t.Errorf("AppendChecksum = %q, want %q", got, want)
	}
}

func TestRoundTrip(t *testing.T) {
	nan := math.NaN()
	tests := []struct {
		name   string
		talker string
		fix    Fix
	}{
		{
			name: "3D north east", talker: "GP",
			fix: Fix{Time: utc("2026-11-27T07:00:01.250Z"), Mode: Mode3D, Lat: 52.520008, Lon: 13.404954,
				AltMSL: 34.56, AltHAE: 74.06, Speed: 12.5, Track: 271.25, HDOP: 0.87, Sats: 11},
		},
		{
			name: "3D south west", talker: "GN",
			fix: Fix{Time: utc("2026-02-28T23:59:59.999Z"), Mode: Mode3D, Lat: -33.4489, Lon: -70.669265,
				AltMSL: -5.5, AltHAE: 20.25, Speed: 0, Track: 0, HDOP: 1.5, Sats: 4},
		},
		{
			name: "2D near the antimeridian", talker: "GL",
			fix: Fix{Time: utc("2030-06-01T00:00:00Z"), Mode: Mode2D, Lat: -0.000001, Lon: 179.9999999,
				AltMSL: nan, AltHAE: nan, Speed: 3.25, Track: 359.99, HDOP: nan, Sats: -1},
		},
		{
			name: "rounding carries minutes into degrees", talker: "BD",
			fix: Fix{Time: utc("2031-01-01T12:00:00Z"), Mode: Mode3D, Lat: 44.99999999, Lon: -8.999999999,
				AltMSL: 100, AltHAE: nan, Speed: nan, Track: nan, HDOP: 2, Sats: 0},
		},
		{
			name: "no fix", talker: "GP",
			fix: Fix{Time: utc("2026-11-27T07:00:01Z"), Mode: ModeNoFix, Lat: nan, Lon: nan,
				AltMSL: nan, AltHAE: nan, Speed: nan, Track: nan, HDOP: 99.99, Sats: 0},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf []byte
			buf = AppendRMC(buf, tt.talker, tt.fix)
			buf = AppendGGA(buf, tt.talker, tt.fix)
			for _, line := range bytes.SplitAfter(buf, []byte("\n")) {
				if len(line) == 0 {
					continue
				}
				if !bytes.HasPrefix(line, []byte("$"+tt.talker)) || !bytes.HasSuffix(line, []byte("\r\n")) {
					t.Errorf("bad framing: %q", line)
				}
				if _, err := ParseSentence(line); err != nil {
					t.Errorf("ParseSentence(%q): %v", line, err)
				}
			}
			fixes, stats := decodeAll(t, string(buf))
			if len(fixes) != 1 {
				t.Fatalf("got %d fixes from %q, want 1; stats %+v", len(fixes), buf, stats)
			}
			got, want := fixes[0], tt.fix
			if !got.Time.Equal(want.Time) || got.Mode != want.Mode || got.Sats != want.Sats {
				t.Errorf("time %v mode %v sats %d, want %v %v %d\n%s",
					got.Time, got.Mode, got.Sats, want.Time, want.Mode, want.Sats, buf)
			}
			checkFloat(t, "Lat", got.Lat, want.Lat, 1e-6)
			checkFloat(t, "Lon", got.Lon, want.Lon, 1e-6)
			checkFloat(t, "AltMSL", got.AltMSL, want.AltMSL, 0.005)
			checkFloat(t, "AltHAE", got.AltHAE, want.AltHAE, 0.01)
			checkFloat(t, "Speed", got.Speed, want.Speed, 0.0005)
			checkFloat(t, "Track", got.Track, want.Track, 0.005)
			checkFloat(t, "HDOP", got.HDOP, want.HDOP, 0.005)
		})
	}
}

func TestAppendAngleNeverWritesSixtyMinutes(t *testing.T) {
	b := AppendRMC(nil, "GP", Fix{Time: utc("2026-01-01T00:00:00Z"), Mode: Mode2D, Lat: 44.999999999, Lon: 8.9999999999,
		Speed: math.NaN(), Track: math.NaN()})
	if s := string(b); !strings.Contains(s, ",4500.00000,N,00900.00000,E,") {
		t.Errorf("AppendRMC = %q", s)
	}
}

func TestAppendAllocs(t *testing.T) {
	f := Fix{Time: utc("2026-11-27T07:00:01.250Z"), Mode: Mode3D, Lat: 52.5, Lon: 13.4,
		AltMSL: 34.5, AltHAE: 74, Speed: 12.5, Track: 271.25, HDOP: 0.87, Sats: 11}
	buf := make([]byte, 0, 512)
	allocs := testing.AllocsPerRun(100, func() {
		buf = AppendGGA(AppendRMC(buf[:0], "GP", f), "GP", f)
	})
	if allocs != 0 {
		t.Errorf("AppendRMC+AppendGGA allocate %v times", allocs)
	}
}
