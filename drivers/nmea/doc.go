// Package nmea decodes NMEA 0183 sentences from GPS receivers into fixes,
// and encodes the sentences the firmware simulator sends.
//
// The package does no I/O of its own: a [Decoder] reads from any io.Reader,
// the way encoding/csv does, so it runs the same over a serial port, a PTY,
// a recorded gpsd log or a test's strings.Reader. It depends on the standard
// library only (deps_test.go enforces this), so that the hub and the tools
// can use it without pulling in serial-port code.
//
// Receivers send one burst of sentences per measurement epoch, all carrying
// the same UTC time of day. The [Decoder] merges the sentences of an epoch
// into one [Fix]: RMC gives the date, speed and track, GGA the fix quality,
// altitude, HDOP and satellite count. Only RMC and GGA are decoded today;
// other well-formed sentences are counted in [Stats].Ignored.
//
// Input from the field is noisy: receivers restart mid-sentence, serial lines
// pick up noise, logs carry comments. None of that is an error for the
// Decoder. Such lines are rejected, counted by reason in [Stats].Rejects,
// and decoding resumes at the next sentence. [ParseSentence] reports the
// same problems as a [*ParseError] naming the reason.
package nmea
