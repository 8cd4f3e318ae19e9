package nmea

import (
	"math"
	"testing"
)

// Textbook sentences (gpsinformation.org), checksums as published.
const (
	rmcExample = "$GPRMC,123519,A,4807.038,N,01131.000,E,022.4,084.4,230394,003.1,W*6A"
	ggaExample = "$GPGGA,123519,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,*47"
)

// sentence returns body framed with '$', its checksum and "\r\n".
func sentence(tb testing.TB, body string) string {
	tb.Helper()
	return string(AppendChecksum(nil, []byte(body)))
}

// near reports whether got is within tol of want, treating NaN as equal to NaN.
func near(got, want, tol float64) bool {
	if math.IsNaN(want) || math.IsNaN(got) {
		return math.IsNaN(want) && math.IsNaN(got)
	}
	return math.Abs(got-want) <= tol
}

func checkFloat(tb testing.TB, name string, got, want, tol float64) {
	tb.Helper()
	if !near(got, want, tol) {
		tb.Errorf("%s = %.9f, want %.9f (±%g)", name, got, want, tol)
	}
}
