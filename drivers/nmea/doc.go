// Package nmea decodes NMEA 0183 sentences from GPS receivers into fixes,
// and encodes the sentences the firmware simulator sends.
//
// The package does no I/O of its own: a [Decoder] reads from any io.Reader,
// the way encoding/csv does, so it runs the same over a serial port, a PTY,
// a recorded gpsd log or a test's strings.Reader. It depends on the standard
// library only (deps_test.go enforces this), so that the hub and the tools
// can use it without pulling in serial-port code.
//
// It decodes GGA, RMC, GNS, GLL, VTG, GSA, GSV, ZDA and TXT from any
// talker (GP, GL, GA, GB, BD, GQ, QZ, GI, IN, GN, ...), with the fields of
// NMEA 2.x to 4.11: FAA mode indicators, navigational status, GSA system
// and GSV signal ids. Other well-formed sentences, proprietary ones
// included, are counted in [Stats].Ignored.
//
// Receivers send one burst of sentences per measurement epoch, the timed
// ones carrying the same UTC time of day. The [Decoder] merges an epoch
// into one [Fix]: the date from RMC or ZDA (moved past GPS week rollovers,
// see [RolloverPivot]); the position from GGA, else GNS, RMC or GLL; speed
// and track from RMC, else VTG; altitudes and satellites used from GGA or
// GNS; the 2D/3D mode and the DOPs from GSA; and a [Status] saying how the
// fix was obtained. Simulated and dead-reckoned positions are marked as
// such ([Status.Measured] is false): they must not be taken for a
// measurement. [Decoder.Sky] gives the satellites in view from GSV, and
// [Decoder.Texts] the receiver's identity and status texts.
//
// Input from the field is noisy: receivers restart mid-sentence, serial lines
// pick up noise, logs carry comments. None of that is an error for the
// Decoder. Such lines are rejected, counted by reason in [Stats].Rejects,
// and decoding resumes at the next sentence. [ParseSentence] reports the
// same problems as a [*ParseError] naming the reason.
package nmea
