package nmea

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"math"
	"os"
	"testing"
)

// seedFromLogs adds up to n lines of each shared gpsd log, when present.
func seedFromLogs(f *testing.F, n int, add func(line []byte)) {
	for _, path := range sharedLogs(f) {
		data, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		sc := bufio.NewScanner(bytes.NewReader(data))
		for i := 0; i < n && sc.Scan(); i++ {
			add(bytes.Clone(sc.Bytes()))
		}
	}
}

func FuzzParseSentence(f *testing.F) {
	for _, s := range []string{
		rmcExample, ggaExample, rmcExample + "\r\n",
		"$GPRMC,,V,,,,,,,,,,N*53",
		"$GPGGA,,,,,,0,00,99.99,,,,,,*48",
		"$PGRME,15.0,M,45.0,M,25.0,M*1C",
		"$GPGSA,A,3,17,28,06,01,30,20,26,13,,,,,1.8,1.1,1.5*33",
		"garbage", "$", "$*", "$GPRMC*00",
	} {
		f.Add([]byte(s))
	}
	seedFromLogs(f, 20, func(line []byte) { f.Add(line) })
	f.Fuzz(func(t *testing.T, line []byte) {
		s, err := ParseSentence(line)
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) || pe.Reason == "" {
				t.Fatalf("error %v is not a *ParseError with a reason", err)
			}
			return
		}
		if s.Type == "" {
			t.Fatalf("accepted sentence without a type: %+v", s)
		}
		checkRange := func(name string, v, lim float64) {
			if !math.IsNaN(v) && (v < -lim || v > lim) {
				t.Fatalf("%s = %v out of range in %q", name, v, line)
			}
		}
		checkRange("RMC.Lat", s.RMC.Lat, 90)
		checkRange("RMC.Lon", s.RMC.Lon, 180)
		checkRange("GGA.Lat", s.GGA.Lat, 90)
		checkRange("GGA.Lon", s.GGA.Lon, 180)
	})
}

func FuzzDecoder(f *testing.F) {
	f.Add([]byte(rmcExample + "\r\n" + ggaExample + "\r\n"))
	f.Add([]byte("# comment\n\x00garbage$GPRMC,1\n" + ggaExample + "\n" + rmcExample))
	var log []byte
	seedFromLogs(f, 40, func(line []byte) { log = append(append(log, line...), '\n') })
	if len(log) > 0 {
		f.Add(log)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		d := NewDecoder(bytes.NewReader(data))
		for range len(data) + 2 {
			fix, err := d.Next()
			if errors.Is(err, io.EOF) {
				if s := d.Stats(); s.Bytes != uint64(len(data)) {
					t.Fatalf("Stats.Bytes = %d, input has %d", s.Bytes, len(data))
				}
				return
			}
			if err != nil {
				t.Fatalf("Next: %v", err)
			}
			if fix.HasPosition() && (math.Abs(fix.Lat) > 90 || math.Abs(fix.Lon) > 180) {
				t.Fatalf("position out of range: %+v", fix)
			}
		}
		t.Fatal("more fixes than input bytes: Next does not reach io.EOF")
	})
}
