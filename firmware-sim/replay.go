package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"

	"github.com/headway-transit/headway/firmware-sim/internal/ptyport"
	"github.com/headway-transit/headway/firmware-sim/internal/replay"
	"github.com/headway-transit/headway/firmware-sim/internal/serialport"
)

const replayHelp = `Usage:
  firmware-sim replay [-speed 1|N|max] [-link PATH | -port DEV -baud N | -stdout] [-loop] LOG

Plays a recorded NMEA log (gpsd's .log format: '#' lines are skipped) as if
the receiver that recorded it were sending, like gpsd's gpsfake. The pace
comes from the sentences' UTC times: each epoch is sent when its time comes,
-speed times faster than recorded, or as fast as the port takes it with
-speed max. Ctrl-C stops it.

  Replay a receiver's log to a bus agent on this machine:
    firmware-sim replay -link /tmp/headway-gps0 ../shared/testdata/gpsd-nmea/ublox-lea-5h.log
    (point the agent's GPS port at /tmp/headway-gps0)
  Replay it into a real bus through a USB-serial adapter:
    firmware-sim replay -port /dev/ttyUSB0 -baud 9600 -loop field.log
  Decode it at full speed:
    firmware-sim replay -speed max -stdout field.log | bin/agent nmea -

Flags of replay:
`

// replayCmd runs "firmware-sim replay"; args may start with "replay".
func replayCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "replay" {
		args = args[1:]
	}
	fs := flag.NewFlagSet("replay", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), replayHelp)
		fs.PrintDefaults()
	}
	speed := fs.String("speed", "1", "speed-up: 1 as recorded, N times faster, or max")
	link := fs.String("link", "", "symlink `path` of the virtual serial port (default /tmp/headway-gps0)")
	port := fs.String("port", "", "real serial `device` to send on, e.g. /dev/ttyUSB0")
	baud := fs.Int("baud", 9600, "baud rate of -port")
	toStdout := fs.Bool("stdout", false, "write to stdout instead of a port")
	loop := fs.Bool("loop", false, "play the log again and again until interrupted")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err}
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return usageError{fmt.Errorf("replay wants one LOG file, got %d arguments", fs.NArg())}
	}
	sp, err := parseSpeed(*speed)
	if err != nil {
		return usageError{err}
	}
	outputs := 0
	for _, set := range []bool{*link != "", *port != "", *toStdout} {
		if set {
			outputs++
		}
	}
	if outputs > 1 {
		return usageError{errors.New("give one of -link, -port and -stdout")}
	}
	if *baud <= 0 {
		return usageError{fmt.Errorf("-baud %d must be positive", *baud)}
	}

	f, err := os.Open(fs.Arg(0))
	if err != nil {
		return err
	}
	lg, err := replay.Parse(f)
	f.Close()
	if err != nil {
		return fmt.Errorf("%s: %w", fs.Arg(0), err)
	}

	var w io.Writer
	announce := stdout
	switch {
	case *toStdout:
		w, announce = stdout, stderr
	case *port != "":
		p, err := serialport.Open(*port, *baud)
		if err != nil {
			return err
		}
		defer p.Close()
		w = p
		fmt.Fprintf(announce, "replaying %s on %s\n", fs.Arg(0), p)
	default:
		if *link == "" {
			*link = "/tmp/headway-gps0"
		}
		p, err := ptyport.Open(*link)
		if err != nil {
			return err
		}
		defer p.Close()
		w = p
		fmt.Fprintf(announce, "replaying %s on %s\n", fs.Arg(0), p)
	}
	if s, ok := announce.(interface{ Sync() error }); ok {
		s.Sync()
	}
	st, err := replay.Play(ctx, lg, w, replay.Options{Speed: sp, Loop: *loop})
	fmt.Fprintf(announce, "replayed %d epochs (%d bytes)\n", st.Epochs, st.Bytes)
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return nil // Ctrl-C
	}
	return err
}

// parseSpeed reads -speed: "max" (0: as fast as possible) or a positive
// number.
func parseSpeed(s string) (float64, error) {
	if s == "max" {
		return 0, nil
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || !(v > 0) || math.IsInf(v, 0) {
		return 0, fmt.Errorf("-speed %q: want a positive number or max", s)
	}
	return v, nil
}
