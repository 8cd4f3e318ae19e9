package display

import (
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
)

// Depth is what a pixel can be.
type Depth int

// Depths of the panels Headway drives.
const (
	Mono     Depth = 1 // black and white (e-paper, single-colour LED)
	TriColor Depth = 3 // black, white and red (three-colour e-paper)
	Gray     Depth = 4 // four greys (greyscale e-paper): warnings in dark grey
)

// Pixel values.
const (
	White uint8 = 0
	Black uint8 = 1
	Red   uint8 = 2 // TriColor; Black on Mono; DarkGray on Gray
	// DarkGray and LightGray are Gray frames' greys.
	DarkGray  uint8 = 3
	LightGray uint8 = 4
)

// Frame is a W×H grid of pixels, row-major.
type Frame struct {
	W, H  int
	Depth Depth
	Pix   []uint8
}

// NewFrame is a white frame.
func NewFrame(w, h int, d Depth) (*Frame, error) {
	if w < 32 || h < 16 || w > 4096 || h > 4096 {
		return nil, fmt.Errorf("display: %dx%d is not a sign's size (32x16 to 4096x4096)", w, h)
	}
	if d != Mono && d != TriColor && d != Gray {
		return nil, fmt.Errorf("display: depth %d: want 1 (black and white), 3 (black, white, red) or 4 (greys)", d)
	}
	return &Frame{W: w, H: h, Depth: d, Pix: make([]uint8, w*h)}, nil
}

// Set colours the pixel at x, y; outside the frame is ignored. Red on a
// Mono frame is black.
func (f *Frame) Set(x, y int, c uint8) {
	if x < 0 || y < 0 || x >= f.W || y >= f.H {
		return
	}
	switch {
	case c == Red && f.Depth == Mono:
		c = Black
	case c == Red && f.Depth == Gray:
		c = DarkGray
	case (c == DarkGray || c == LightGray) && f.Depth != Gray:
		c = Black
	}
	f.Pix[y*f.W+x] = c
}

// At is the pixel at x, y.
func (f *Frame) At(x, y int) uint8 { return f.Pix[y*f.W+x] }

// Fill colours the rectangle r.
func (f *Frame) Fill(r image.Rectangle, c uint8) {
	r = r.Intersect(image.Rect(0, 0, f.W, f.H))
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			f.Set(x, y, c)
		}
	}
}

var palette = color.Palette{color.White, color.Black, color.RGBA{0xc8, 0x10, 0x2e, 0xff},
	color.Gray{Y: 0x55}, color.Gray{Y: 0xaa}}

// Image is the frame as a paletted image (white, black, red, greys).
func (f *Frame) Image() *image.Paletted {
	img := image.NewPaletted(image.Rect(0, 0, f.W, f.H), palette)
	copy(img.Pix, f.Pix)
	return img
}

// WritePNG writes the frame as a PNG: what the panel shows, for
// technicians without one (agent station -render) and for golden tests.
func (f *Frame) WritePNG(w io.Writer) error { return png.Encode(w, f.Image()) }
