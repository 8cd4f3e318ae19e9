package display

import (
	"image"
	"strings"
	"unicode/utf8"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"
)

// The bundled font: X11's 7×13 fixed font (golang.org/x/image/font/basicfont),
// every glyph 7 pixels wide, drawn at a whole scale so that its strokes stay
// sharp on a panel.
var face = basicfont.Face7x13

const glyphW, glyphH = 7, 13

// Box is one thing Layout drew and where.
type Box struct {
	Kind string // title, clock, banner, alert, route, headsign, when, marker, empty
	Rect image.Rectangle
	Text string
}

// Scale is the font scale Render uses for a panel: lines about a twelfth
// of its height, at least 16 characters across, 1 to 4 times the font.
func Scale(w, h int) int { return min(max(min(h/60, w/(16*glyphW)), 1), 4) }

// Render draws b on a new w×h frame of depth d.
func Render(b Board, w, h int, d Depth) (*Frame, []Box, error) {
	f, err := NewFrame(w, h, d)
	if err != nil {
		return nil, nil, err
	}
	return f, layout(f, b), nil
}

func layout(f *Frame, b Board) []Box {
	s := Scale(f.W, f.H)
	lineH := glyphH * s
	pad := 2 * s
	var boxes []Box
	text := func(kind, str string, x, y, maxW int, c uint8) (image.Rectangle, string) {
		str = fit(str, maxW/(glyphW*s))
		if str == "" {
			return image.Rectangle{}, ""
		}
		r := drawText(f, str, x, y, s, c)
		boxes = append(boxes, Box{Kind: kind, Rect: r, Text: str})
		return r, str
	}
	warn := Red // the warning colour; Black on a Mono frame
	y := 0

	// The header: the stop's name, the clock on the right.
	clockW := utf8.RuneCountInString(b.Clock) * glyphW * s
	if b.Clock != "" {
		text("clock", b.Clock, f.W-pad-clockW, y+pad/2, clockW, Black)
	}
	text("title", b.Title, pad, y+pad/2, f.W-3*pad-clockW, Black)
	y += lineH + pad
	f.Fill(image.Rect(0, y, f.W, y+max(1, s/2)), Black)
	y += max(1, s/2) + pad/2

	if b.Banner != "" && y+lineH+pad <= f.H {
		r := image.Rect(0, y, f.W, y+lineH+pad)
		f.Fill(r, warn)
		boxes = append(boxes, Box{Kind: "banner", Rect: r, Text: b.Banner})
		drawText(f, fit(b.Banner, (f.W-2*pad)/(glyphW*s)), pad, y+pad/2, s, White)
		y = r.Max.Y + pad/2
	}
	if b.Alert != "" && y+lineH+pad <= f.H {
		mark := image.Rect(pad, y+pad/2, pad+glyphW*s, y+pad/2+lineH)
		f.Fill(mark, warn)
		drawText(f, "!", mark.Min.X, mark.Min.Y, s, White)
		boxes = append(boxes, Box{Kind: "marker", Rect: mark, Text: "!"})
		text("alert", b.Alert, mark.Max.X+pad, y+pad/2, f.W-mark.Max.X-2*pad, warn)
		y += lineH + pad
	}

	if len(b.Rows) == 0 {
		if y+pad+lineH <= f.H {
			text("empty", b.Empty, pad, y+pad, f.W-2*pad, Black)
		}
		return boxes
	}
	routeW := 4 * glyphW * s
	whenChars := 6
	for _, r := range b.Rows {
		if len(r.When) > whenChars {
			whenChars = len(r.When)
		}
	}
	whenW := whenChars * glyphW * s
	markW := 3 * s
	for _, r := range b.Rows {
		if y+lineH+pad > f.H {
			break // no room: the rest is left out, never squeezed
		}
		// The route in a box, inverse.
		box := image.Rect(pad, y, pad+routeW, y+lineH+pad/2)
		f.Fill(box, Black)
		boxes = append(boxes, Box{Kind: "route", Rect: box, Text: r.Route})
		route := r.Route // cut, no ellipsis: "1234X" reads as 1234 better than "1..."
		if utf8.RuneCountInString(route) > 4 {
			route = string([]rune(route)[:4])
		}
		drawText(f, route, box.Min.X+(routeW-utf8.RuneCountInString(route)*glyphW*s)/2, y+pad/4, s, White)
		// When, on the right; a live time has a filled square beside it,
		// a stale one an empty square, a scheduled none.
		when := fit(r.When, whenChars)
		wx := f.W - pad - utf8.RuneCountInString(when)*glyphW*s
		text("when", when, wx, y+pad/4, whenW, Black)
		mk := image.Rect(f.W-pad-whenW-pad-markW, y+(lineH-markW)/2, f.W-pad-whenW-pad, y+(lineH-markW)/2+markW)
		switch {
		case r.Live && r.Stale:
			outline(f, mk, warn)
			boxes = append(boxes, Box{Kind: "marker", Rect: mk, Text: "stale"})
		case r.Live:
			f.Fill(mk, Black)
			boxes = append(boxes, Box{Kind: "marker", Rect: mk, Text: "live"})
		}
		hx := box.Max.X + pad
		text("headsign", r.Headsign, hx, y+pad/4, mk.Min.X-pad-hx, Black)
		y += lineH + pad
	}
	return boxes
}

// fit cuts s to n characters, ending with "..." when it was longer.
func fit(s string, n int) string {
	s = strings.TrimSpace(s)
	if n <= 0 {
		return ""
	}
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	if n <= 3 {
		return string([]rune(s)[:n])
	}
	return strings.TrimRight(string([]rune(s)[:n-3]), " ") + "..."
}

// drawText draws s with its top-left at x, y, each font pixel an s×s
// block, and returns the box it covers.
func drawText(f *Frame, str string, x, y, s int, c uint8) image.Rectangle {
	n := utf8.RuneCountInString(str)
	mask := image.NewAlpha(image.Rect(0, 0, n*glyphW, glyphH))
	d := font.Drawer{Dst: mask, Src: image.Opaque, Face: face, Dot: fixed.P(0, face.Ascent)}
	d.DrawString(str)
	for my := 0; my < glyphH; my++ {
		for mx := 0; mx < n*glyphW; mx++ {
			if mask.AlphaAt(mx, my).A < 128 {
				continue
			}
			for dy := 0; dy < s; dy++ {
				for dx := 0; dx < s; dx++ {
					f.Set(x+mx*s+dx, y+my*s+dy, c)
				}
			}
		}
	}
	return image.Rect(x, y, x+n*glyphW*s, y+glyphH*s)
}

func outline(f *Frame, r image.Rectangle, c uint8) {
	f.Fill(image.Rect(r.Min.X, r.Min.Y, r.Max.X, r.Min.Y+1), c)
	f.Fill(image.Rect(r.Min.X, r.Max.Y-1, r.Max.X, r.Max.Y), c)
	f.Fill(image.Rect(r.Min.X, r.Min.Y, r.Min.X+1, r.Max.Y), c)
	f.Fill(image.Rect(r.Max.X-1, r.Min.Y, r.Max.X, r.Max.Y), c)
}
