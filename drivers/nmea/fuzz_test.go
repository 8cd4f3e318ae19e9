package nmea

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"math"
	"os"
	"strings"
	"testing"
	"time"
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
		checkRange("GNS.Lat", s.GNS.Lat, 90)
		checkRange("GNS.Lon", s.GNS.Lon, 180)
		checkRange("GLL.Lat", s.GLL.Lat, 90)
		checkRange("GLL.Lon", s.GLL.Lon, 180)
		if s.GSV.NSats > len(s.GSV.Sats) || s.GSA.NPRNs > len(s.GSA.PRNs) || s.GNS.NModes > len(s.GNS.Modes) {
			t.Fatalf("counts out of range: %+v", s)
		}
	})
}

func FuzzDecoder(f *testing.F) {
	f.Add([]byte(rmcExample + "\r\n" + ggaExample + "\r\n"))
	f.Add([]byte("# comment\n\x00garbage$GPRMC,1\n" + ggaExample + "\n" + rmcExample))
	// One small seed per log (its first 40 lines): a single large seed of
	// every log together made each mutation slow to run.
	for _, path := range sharedLogs(f) {
		data, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		var seed []byte
		sc := bufio.NewScanner(bytes.NewReader(data))
		for i := 0; i < 40 && sc.Scan(); i++ {
			seed = append(append(seed, sc.Bytes()...), '\n')
		}
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkDecoder(t, data, len(data)+2)
	})
}

// FuzzMerge fuzzes the epoch merger: each input line is framed as a
// sentence with a correct checksum, so that the fuzzer's lines reach the
// merger instead of dying at the checksum.
func FuzzMerge(f *testing.F) {
	add := func(lines ...string) {
		var b []byte
		for _, l := range lines {
			b = append(append(b, l...), '\n')
		}
		f.Add(b)
	}
	add("GPRMC,123519,A,4807.038,N,01131.000,E,022.4,084.4,230394,003.1,W",
		"GPGGA,123519,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,")
	add("GNGSA,A,3,80,71,73,79,69,,,,,,,,1.83,1.09,1.47,2", "GPGSV,2,1,06,13,00,000,39,15,76,248,44,17,25,106,36,19,00,000,34,1",
		"GPGSV,2,2,06,24,43,270,36,28,42,055,48,1", "GNGNS,091547.00,5114.50897,N,00012.28663,W,AAN,10,0.83,111.1,45.6,,,V",
		"GNVTG,,T,,M,0.004,N,0.008,K,A", "GNZDA,091547.00,05,10,2024,00,00", "GPTXT,01,01,02,u-blox ag - www.u-blox.com",
		"GNGLL,5114.50897,N,00012.28663,W,091547.00,A,A", "PGRMT,GPS 15x-W software ver. 4.20,,,,,,,")
	var lines []string
	for _, path := range sharedLogs(f) {
		data, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		sc := bufio.NewScanner(bytes.NewReader(data))
		for i := 0; i < 30 && sc.Scan(); i++ {
			l := sc.Text()
			if j := strings.LastIndexByte(l, '*'); strings.HasPrefix(l, "$") && j > 0 {
				lines = append(lines, l[1:j])
			}
		}
		add(lines...)
		lines = lines[:0]
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var in []byte
		n := 0
		for line := range bytes.SplitSeq(data, []byte{'\n'}) {
			// Keep the framing characters out of the body, so the line
			// stays one sentence.
			line = bytes.Map(func(r rune) rune {
				if r == '$' || r == '*' || r == '\r' {
					return ','
				}
				return r
			}, line)
			in = AppendChecksum(in, line)
			n++
		}
		checkDecoder(t, in, n+1)
	})
}

// checkDecoder decodes data to the end, checking every fix's invariants,
// and fails if it takes more than maxFixes fixes.
func checkDecoder(t *testing.T, data []byte, maxFixes int) {
	pivot := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	d := NewDecoder(bytes.NewReader(data), RolloverPivot(pivot))
	for range maxFixes + 1 {
		fix, err := d.Next()
		if errors.Is(err, io.EOF) {
			if s := d.Stats(); s.Bytes != uint64(len(data)) {
				t.Fatalf("Stats.Bytes = %d, input has %d", s.Bytes, len(data))
			}
			for _, s := range d.Sky() {
				if s.PRN <= 0 || s.Elevation > 90 || s.Azimuth > 359 || s.SNR > 99 {
					t.Fatalf("satellite out of range: %+v", s)
				}
			}
			if len(d.Texts()) > maxTexts {
				t.Fatalf("%d texts", len(d.Texts()))
			}
			return
		}
		if err != nil {
			t.Fatalf("Next: %v", err)
		}
		switch {
		case fix.HasPosition() && (math.Abs(fix.Lat) > 90 || math.Abs(fix.Lon) > 180):
			t.Fatalf("position out of range: %+v", fix)
		case fix.Mode < Mode2D && (fix.HasPosition() || fix.Status != StatusUnknown):
			t.Fatalf("no fix but a position or status: %+v", fix)
		case !fix.Time.IsZero() && fix.Time.Before(pivot):
			t.Fatalf("time %v before the rollover pivot %v", fix.Time, pivot)
		case fix.SatsInView < -1 || fix.Sats < -1:
			t.Fatalf("satellite counts out of range: %+v", fix)
		}
	}
	t.Fatalf("more than %d fixes: Next does not reach io.EOF", maxFixes)
}
