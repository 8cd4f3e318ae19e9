package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/headway-transit/headway/drivers/display/alpha"
	"github.com/headway-transit/headway/firmware-sim/internal/ptyport"
)

// signCmd emulates an LED sign speaking the Alpha protocol on a PTY: a
// station agent (or any driver) writes to the link, and what the sign
// would show is printed, line by line, each time it changes. For testing
// an LED output with no sign.
func signCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("sign", flag.ContinueOnError)
	fs.SetOutput(stderr)
	link := fs.String("link", "/tmp/headway-sign", "PTY symlink `path` to point the LED output at")
	lines := fs.Int("lines", 4, "the sign's `lines` (text files A, B, ...)")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: firmware-sim sign [-link PATH] [-lines N]\n\nEmulates an LED sign on a virtual serial port: it decodes the Alpha Sign\nCommunications Protocol packets written to PATH and prints what the sign shows,\nas \"sign: A [green]1 University 3 min\" lines, each time a line changes.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *lines < 1 || *lines > 26 {
		return usageError{fmt.Errorf("-lines %d: want 1 to 26", *lines)}
	}
	port, err := ptyport.Open(*link)
	if err != nil {
		return err
	}
	defer port.Close()
	fmt.Fprintf(stdout, "LED sign (%d lines, Alpha protocol): %s\n", *lines, port)
	go func() {
		<-ctx.Done()
		port.Close()
	}()
	shown := make([]string, *lines)
	d := alpha.NewDecoder(port)
	for {
		t, err := d.Next()
		switch {
		case ctx.Err() != nil:
			return nil
		case errors.Is(err, io.EOF):
			return nil
		case err != nil && strings.Contains(err.Error(), "file already closed"):
			return nil
		case err != nil:
			fmt.Fprintf(stdout, "sign: refused a packet: %v\n", err)
			continue
		}
		i := int(t.File - 'A')
		if i < 0 || i >= *lines {
			fmt.Fprintf(stdout, "sign: file %c is not one of this sign's %d lines\n", t.File, *lines)
			continue
		}
		if shown[i] == t.String() {
			continue
		}
		shown[i] = t.String()
		fmt.Fprintf(stdout, "sign: %c %s\n", t.File, shown[i])
		if f, ok := stdout.(interface{ Sync() error }); ok {
			f.Sync()
		}
	}
}
