package display

import (
	"fmt"
	"testing"
)

// BenchmarkRender: one frame of an eight-row board at each panel size: what
// a sign's small computer (a Pi Zero runs about a tenth of this machine's
// speed) spends per update.
func BenchmarkRender(b *testing.B) {
	board := Board{Title: "Central Station", Clock: "08:15", Rows: rows(8), Alert: "Route 2 diverted via Via Roma"}
	for _, s := range sizes {
		b.Run(fmt.Sprintf("%dx%d-depth%d", s.w, s.h, s.d), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := Render(board, s.w, s.h, s.d); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
