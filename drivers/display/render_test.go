package display

import (
	"bytes"
	"flag"
	"fmt"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden PNGs")

func rows(n int) []Row {
	heads := []string{"University", "Lighthouse", "Harbour Gate", "Airport", "Old Town", "Central Station"}
	var out []Row
	for i := range n {
		r := Row{Route: fmt.Sprint(1 + i%3), Headsign: heads[i%len(heads)], When: fmt.Sprintf("%d min", 2+3*i), Live: i%2 == 0}
		if i == 0 {
			r.When = "Due"
		}
		out = append(out, r)
	}
	return out
}

// The boards of the golden tests: the cases.
var cases = []struct {
	name  string
	board Board
}{
	{"empty", Board{Title: "Central Station", Clock: "08:15", Empty: "No departures in the next hour"}},
	{"one", Board{Title: "Central Station", Clock: "08:15", Rows: rows(1)}},
	{"eight", Board{Title: "Central Station", Clock: "08:15", Rows: rows(8)}},
	{"thirty", Board{Title: "Central Station", Clock: "08:15", Rows: rows(30)}},
	{"long", Board{Title: "Piazza della Vittoria / Via Roma (north side, stand C)", Clock: "23:59", Rows: []Row{
		{Route: "1234X", Headsign: "University via Harbour Gate, Old Town, the Lighthouse and the Airport", When: "12 min", Live: true},
		{Route: "2", Headsign: "Lighthouse", When: "Due", Live: true}}}},
	{"stale", Board{Title: "Central Station", Clock: "08:15", Banner: "LIVE TIMES MAY BE OUT OF DATE", Rows: []Row{
		{Route: "1", Headsign: "University", When: "3 min", Live: true, Stale: true},
		{Route: "2", Headsign: "Lighthouse", When: "08:27"}}}},
	{"scheduled", Board{Title: "Central Station", Clock: "08:15", Banner: "SCHEDULED TIMES ONLY", Alert: "Route 2 diverted via Via Roma", Rows: []Row{
		{Route: "1", Headsign: "University", When: "08:20"}, {Route: "2", Headsign: "Lighthouse", When: "08:27"}, {Route: "3", Headsign: "Airport", When: "08:31"}}}},
	{"closed", Board{Title: "Harbour Gate", Clock: "08:15", Banner: "STOP CLOSED", Alert: "Closed for works: use Fish Market", Empty: "No departures from this stop"}},
}

var sizes = []struct {
	w, h int
	d    Depth
}{{250, 122, Mono}, {800, 480, TriColor}, {400, 300, Gray}}

// TestGolden renders every case at both sizes and compares with the PNGs
// in testdata (go test -update ./drivers/display rewrites them; look at
// them before committing).
func TestGolden(t *testing.T) {
	for _, sz := range sizes {
		for _, c := range cases {
			name := fmt.Sprintf("%s-%dx%d-%d.png", c.name, sz.w, sz.h, sz.d)
			t.Run(name, func(t *testing.T) {
				f, boxes, err := Render(c.board, sz.w, sz.h, sz.d)
				if err != nil {
					t.Fatal(err)
				}
				checkBoxes(t, f, boxes)
				var buf bytes.Buffer
				if err := f.WritePNG(&buf); err != nil {
					t.Fatal(err)
				}
				path := filepath.Join("testdata", name)
				if *update {
					if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
						t.Fatal(err)
					}
					return
				}
				want, err := os.ReadFile(path)
				if err != nil {
					t.Fatalf("%v (go test -update ./drivers/display writes it)", err)
				}
				wimg, err := png.Decode(bytes.NewReader(want))
				if err != nil {
					t.Fatal(err)
				}
				got := f.Image()
				for y := range sz.h {
					for x := range sz.w {
						r1, g1, b1, _ := got.At(x, y).RGBA()
						r2, g2, b2, _ := wimg.At(x, y).RGBA()
						if r1 != r2 || g1 != g2 || b1 != b2 {
							t.Fatalf("pixel %d,%d differs from %s (go test -update ./drivers/display, then look)", x, y, path)
						}
					}
				}
			})
		}
	}
}

// checkBoxes: everything drawn is inside the frame and nothing overlaps.
func checkBoxes(t *testing.T, f *Frame, boxes []Box) {
	t.Helper()
	frame := f.Image().Bounds()
	for i, a := range boxes {
		if !a.Rect.In(frame) {
			t.Errorf("%s %q at %v is outside the %dx%d frame", a.Kind, a.Text, a.Rect, f.W, f.H)
		}
		for _, b := range boxes[i+1:] {
			if a.Rect.Overlaps(b.Rect) && !(a.Kind == "banner" || b.Kind == "banner") {
				t.Errorf("%s %q at %v overlaps %s %q at %v", a.Kind, a.Text, a.Rect, b.Kind, b.Text, b.Rect)
			}
		}
	}
}

func TestLongTextCut(t *testing.T) {
	for _, sz := range sizes {
		_, boxes, err := Render(cases[4].board, sz.w, sz.h, sz.d)
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range boxes {
			if b.Kind == "headsign" {
				if !strings.HasSuffix(b.Text, "...") {
					t.Errorf("%dx%d: the long headsign is not cut: %q", sz.w, sz.h, b.Text)
				}
				break // the first row's is the long one
			}
		}
	}
	if got := fit("Lighthouse", 6); got != "Lig..." {
		t.Errorf("fit: %q", got)
	}
}

func TestThirtyRowsFitWhatFits(t *testing.T) {
	for _, sz := range sizes {
		_, boxes, err := Render(cases[3].board, sz.w, sz.h, sz.d)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, b := range boxes {
			if b.Kind == "route" {
				n++
			}
		}
		t.Logf("%dx%d shows %d of 30 rows", sz.w, sz.h, n)
		if n < 2 || n >= 30 {
			t.Errorf("%dx%d: %d rows", sz.w, sz.h, n)
		}
	}
}

func TestBadSizes(t *testing.T) {
	if _, _, err := Render(Board{}, 10, 10, Mono); err == nil {
		t.Error("a 10x10 sign")
	}
	if _, _, err := Render(Board{}, 250, 122, 2); err == nil {
		t.Error("depth 2")
	}
}
