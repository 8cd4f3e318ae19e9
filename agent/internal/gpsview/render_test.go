package gpsview

import (
	"bytes"
	"flag"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/headway-transit/headway/drivers/gps"
	"github.com/headway-transit/headway/drivers/nmea"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

var frameTime = time.Date(2026, 11, 27, 7, 0, 10, 0, time.UTC)

func unknownFix() nmea.Fix {
	nan := math.NaN()
	return nmea.Fix{Lat: nan, Lon: nan, AltMSL: nan, AltHAE: nan, Speed: nan, Track: nan,
		HDOP: nan, PDOP: nan, VDOP: nan, Sats: -1, SatsInView: -1}
}

func TestRender(t *testing.T) {
	fix := nmea.Fix{
		Time: time.Date(2026, 11, 27, 7, 0, 9, 0, time.UTC), Mode: nmea.Mode3D, Status: nmea.StatusDGPS,
		Lat: 48.1173, Lon: -11.5167, AltMSL: 545.4, AltHAE: 592.3, Speed: 5, Track: 90,
		HDOP: 0.9, PDOP: 1.5, VDOP: 1.2, Sats: 3, SatsInView: 4,
	}
	noFix := unknownFix()
	noFix.Mode = nmea.ModeNoFix
	noFix.SatsInView = 2
	sky := []nmea.Satellite{
		{System: nmea.SystemGPS, PRN: 12, Elevation: 70, Azimuth: 300, SNR: 49, Used: true},
		{System: nmea.SystemGPS, PRN: 5, Elevation: 45, Azimuth: 120, SNR: 31, Used: true},
		{System: nmea.SystemGalileo, PRN: 7, Signal: 7, Elevation: 20, Azimuth: 10, SNR: 22, Used: true},
		{System: nmea.SystemGLONASS, PRN: 70, Elevation: 3, Azimuth: -1, SNR: -1},
		{PRN: 250, Elevation: -1, Azimuth: -1, SNR: 60},
	}
	tests := []struct {
		name string
		snap Snapshot
	}{
		{name: "not connected", snap: Snapshot{Port: "/dev/ttyUSB0", Stats: gps.Stats{
			AutoBaud: true, Reconnects: 2, Detected: 38400, Baud: 57600,
			LastError: "open serial port /dev/ttyUSB0 at 9600 baud: no such file or directory",
		}}},
		{name: "hunting", snap: Snapshot{Port: "/dev/ttyUSB0", Stats: gps.Stats{
			Connected: true, AutoBaud: true, Hunting: true, Baud: 4800, Bytes: 1234,
			Rejects: map[string]uint64{nmea.ReasonGarbage: 17, nmea.ReasonChecksum: 2},
		}, Rates: map[string]float64{}, Span: time.Second}},
		{name: "3d fix", snap: Snapshot{Port: "/dev/ttyACM0", Stats: gps.Stats{
			Connected: true, AutoBaud: true, Baud: 38400, Detected: 38400, Reconnects: 1, Bytes: 98765,
			Sentences: map[string]uint64{"RMC": 50, "GGA": 50, "GSA": 50, "GSV": 150},
			Ignored:   map[string]uint64{"PUBX": 5},
			Rejects:   map[string]uint64{nmea.ReasonChecksum: 1},
			Latest:    fix, LatestAt: frameTime.Add(-300 * time.Millisecond),
			LastFix: fix.Time, LastFixAt: frameTime.Add(-300 * time.Millisecond),
			Sky: sky,
			Texts: []string{"u-blox AG - www.u-blox.com", "HW UBX-M8030 00080000",
				"a text far too long for one line of the view, which would wrap on an eighty column terminal", "bad\x1b[2Jescape"},
		}, Rates: map[string]float64{"RMC": 1, "GGA": 1, "GSA": 1, "GSV": 3, "PUBX": 0.2}, Span: 5 * time.Second}},
		{name: "no fix", snap: Snapshot{Port: "/dev/ttyS0", Stats: gps.Stats{
			Connected: true, Baud: 9600, Bytes: 500,
			Sentences: map[string]uint64{"RMC": 3, "GSV": 2},
			Latest:    noFix, LatestAt: frameTime.Add(-800 * time.Millisecond),
			LastFixAt: frameTime.Add(-3 * time.Minute),
			Sky:       sky[3:],
		}, Rates: map[string]float64{"RMC": 1, "GSV": 0.667}, Span: 3 * time.Second}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := Render(&b, tt.snap, frameTime); err != nil {
				t.Fatal(err)
			}
			golden(t, filepath.Join("testdata", strings.ReplaceAll(tt.name, " ", "_"), "frame.txt"), b.Bytes())
			for i, line := range strings.Split(b.String(), "\n") {
				if len([]rune(line)) > 80 {
					t.Errorf("line %d is %d columns, want <= 80: %q", i+1, len([]rune(line)), line)
				}
				if strings.ContainsRune(line, '\x1b') {
					t.Errorf("line %d carries an escape: %q", i+1, line)
				}
			}
		})
	}
}

// golden compares got with the file at path, or rewrites it with -update.
func golden(tb testing.TB, path string, got []byte) {
	tb.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			tb.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			tb.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		tb.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		tb.Errorf("%s differs (go test -update rewrites it)\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}
