// Package gpsview is the technician's live view of a GPS receiver, behind
// "agent gps": fix, position, satellites, dilution of precision, sentence
// rates, rejects, reconnects, baud rate and the receiver's identity.
//
// [Render] draws one [Snapshot] as plain text and is a pure function, so
// its output is checked against golden files. [Run] drives a receiver,
// samples its statistics every second and redraws in place on a terminal
// (ANSI home and erase, no external dependencies), or prints plain
// snapshots when the output is a file or a pipe.
package gpsview
