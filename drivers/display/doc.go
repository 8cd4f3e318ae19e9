// Package display draws what a station sign shows on the pixel grid of a
// hardware sign: an e-paper panel or an LED matrix. The core here renders
// and encodes with no I/O (as drivers/nmea decodes); the outputs that talk
// to hardware sit beside it, as drivers/gps does for receivers.
//
//   - board.go: Board, the sign's content in display terms (rows of route,
//     headsign, minutes or "Due", live or scheduled; a banner; alerts), made
//     by the station agent from its view.
//   - frame.go: Frame, a pixel grid of a depth (1-bit, 3-colour), and its
//     PNG.
//   - render.go: Render lays a Board out on a Frame with the bundled bitmap
//     font, scaled to be read from across a street: long headsigns cut with
//     an ellipsis, rows that do not fit left out, nothing drawn over
//     anything else (Layout returns the boxes, which the tests check).
package display
