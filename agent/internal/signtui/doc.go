// Package signtui is the technician's terminal board, behind
// "agent station -tui": the same rows, modes and banner as the sign page,
// for a technician on SSH who cannot see the screen.
//
// [Render] draws one station.View as plain text and is a pure function,
// checked against golden files. [Run] redraws in place on a terminal every
// second and on every change (ANSI home and erase, no dependencies), or
// prints a frame whenever the text changes when the output is a file or a
// pipe.
package signtui
