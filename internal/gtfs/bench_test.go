package gtfs

import (
	"os"
	"testing"
)

// BenchmarkLoadLargest loads the largest real feed in the shared test data.
func BenchmarkLoadLargest(b *testing.B) {
	var largest string
	var size int64
	for _, p := range realFeeds(b) {
		if fi, err := os.Stat(p); err == nil && fi.Size() > size {
			largest, size = p, fi.Size()
		}
	}
	b.Logf("loading %s", largest)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Load(largest); err != nil {
			b.Fatal(err)
		}
	}
}
