package nmea

import (
	"testing"
	"time"
)

func BenchmarkParseSentence(b *testing.B) {
	lines := [][]byte{[]byte(rmcExample), []byte(ggaExample),
		[]byte("$GPGSA,A,3,17,28,06,01,30,20,26,13,,,,,1.8,1.1,1.5*33")}
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		var s Sentence
		if reason, err := parse(lines[n%len(lines)], &s, nil); reason != "" {
			b.Fatal(err)
		}
		n++
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "sentences/s")
}

// BenchmarkParseSentenceAPI measures the exported entry point, which
// returns Sentence by value.
func BenchmarkParseSentenceAPI(b *testing.B) {
	line := []byte(rmcExample)
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		if _, err := ParseSentence(line); err != nil {
			b.Fatal(err)
		}
		n++
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "sentences/s")
}

// BenchmarkDecoder measures the decoder over a 10 Hz stream of RMC, GGA
// and GSA, an hour long and repeated.
func BenchmarkDecoder(b *testing.B) {
	var stream []byte
	start := time.Date(2026, 11, 27, 7, 0, 0, 0, time.UTC)
	const epochs = 36000
	for i := range epochs {
		f := Fix{Time: start.Add(time.Duration(i) * 100 * time.Millisecond), Mode: Mode3D,
			Lat: 52.52 + float64(i)*1e-6, Lon: 13.4, AltMSL: 34.5, AltHAE: 74, Speed: 12.5, Track: 90, HDOP: 0.9, Sats: 9}
		stream = AppendRMC(stream, "GN", f)
		stream = AppendGGA(stream, "GN", f)
		stream = append(stream, "$GPGSA,A,3,17,28,06,01,30,20,26,13,,,,,1.8,1.1,1.5*33\r\n"...)
	}
	d := NewDecoder(&repeatReader{data: stream})
	b.ReportAllocs()
	b.SetBytes(int64(len(stream) / epochs))
	for b.Loop() {
		if _, err := d.Next(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(3*b.N)/b.Elapsed().Seconds(), "sentences/s")
}

// repeatReader yields data over and over.
type repeatReader struct {
	data []byte
	off  int
}

func (r *repeatReader) Read(p []byte) (int, error) {
	n := copy(p, r.data[r.off:])
	r.off = (r.off + n) % len(r.data)
	return n, nil
}

// BenchmarkDecoderMultiGNSS measures a u-blox M10-style NMEA 4.11 epoch of
// 16 sentences (GN RMC, VTG, GGA, GSA x4, GSV x6 over four systems and two
// GPS signals, GLL, ZDA, TXT), as a multi-GNSS receiver sends every second.
func BenchmarkDecoderMultiGNSS(b *testing.B) {
	var stream []byte
	const epochs = 3600
	for i := range epochs {
		t := time.Date(2026, 11, 27, 7, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Second)
		stream = append(stream, multiGNSSEpoch(b, t.Format("150405"))...)
	}
	const perEpoch = 16
	d := NewDecoder(&repeatReader{data: stream})
	b.ReportAllocs()
	b.SetBytes(int64(len(stream) / epochs))
	for b.Loop() {
		if _, err := d.Next(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(perEpoch*b.N)/b.Elapsed().Seconds(), "sentences/s")
}
