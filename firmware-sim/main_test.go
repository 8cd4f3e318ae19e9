package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"os"
	"strings"
	"testing"
)

func TestHelp(t *testing.T) {
	for _, args := range [][]string{{"-help"}, {"help"}, {"run", "-help"}} {
		var out, errOut bytes.Buffer
		err := run(context.Background(), args, &out, &errOut)
		if !errors.Is(err, flag.ErrHelp) {
			t.Errorf("%v: err = %v, want flag.ErrHelp", args, err)
		}
		if text := out.String() + errOut.String(); !strings.Contains(text, "Testing a bus agent") || !strings.Contains(text, "-speedup") {
			t.Errorf("%v: help lacks the technician's guide or the flags:\n%s", args, text)
		}
	}
}

func TestUsageErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
	}{
		{"no command", nil},
		{"no feed", []string{"run", "-route", "1"}},
		{"nothing to drive", []string{"run", "-feed", "x"}},
		{"bad start", []string{"run", "-feed", "x", "-route", "1", "-start", "tomorrow"}},
		{"bad speedup", []string{"run", "-feed", "x", "-route", "1", "-speedup", "0"}},
		{"stray argument", []string{"run", "-feed", "x", "-route", "1", "extra"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			err := run(context.Background(), tc.args, &out, &out)
			if !errors.As(err, new(usageError)) {
				t.Errorf("err = %v, want a usage error", err)
			}
		})
	}
}

func TestRunStdout(t *testing.T) {
	const feed = "../configs/demo-feed"
	if _, err := os.Stat(feed); err != nil {
		t.Skipf("no demo feed: %v", err)
	}
	var out, errOut bytes.Buffer
	err := run(context.Background(), []string{"run", "-feed", feed, "-route", "1", "-stdout",
		"-start", "2026-11-27T08:13:00+01:00", "-duration", "3s", "-speedup", "100"}, &out, &errOut)
	if err != nil {
		t.Fatalf("%v\n%s", err, errOut.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 6 || !strings.HasPrefix(lines[0], "$GPRMC,071300.000,A,") || !strings.HasPrefix(lines[1], "$GPGGA,071300.000,") {
		t.Errorf("stdout:\n%s", out.String())
	}
	if !strings.HasPrefix(errOut.String(), "gps0: stdout route 1 trip ") {
		t.Errorf("stderr: %s", errOut.String())
	}
}
