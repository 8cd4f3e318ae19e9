package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"strings"
	"testing"
)

func TestReplayCmdStdout(t *testing.T) {
	var out, errOut bytes.Buffer
	err := replayCmd(context.Background(), []string{"replay", "-speed", "max", "-stdout", "internal/replay/testdata/small.log"}, &out, &errOut)
	if err != nil {
		t.Fatalf("replayCmd: %v\n%s", err, errOut.String())
	}
	if n := strings.Count(out.String(), "$GPRMC"); n != 5 || strings.Contains(out.String(), "#") {
		t.Errorf("stdout holds %d RMC (want 5) or a comment:\n%s", n, out.String())
	}
	if !strings.Contains(errOut.String(), "replayed 5 epochs") {
		t.Errorf("stderr = %q", errOut.String())
	}
}

func TestReplayCmdUsage(t *testing.T) {
	for _, tt := range []struct {
		name string
		args []string
	}{
		{"no log", []string{"-stdout"}},
		{"bad speed", []string{"-speed", "fast", "-stdout", "x.log"}},
		{"zero speed", []string{"-speed", "0", "-stdout", "x.log"}},
		{"two outputs", []string{"-stdout", "-link", "/tmp/x", "x.log"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := replayCmd(context.Background(), tt.args, new(bytes.Buffer), new(bytes.Buffer))
			if !errors.As(err, new(usageError)) {
				t.Errorf("replayCmd(%q) = %v, want a usage error", tt.args, err)
			}
		})
	}
	if err := replayCmd(context.Background(), []string{"-h"}, new(bytes.Buffer), new(bytes.Buffer)); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("-h = %v, want flag.ErrHelp", err)
	}
}
