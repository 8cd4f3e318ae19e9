package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/headway-transit/headway/drivers/nmea"
	"github.com/headway-transit/headway/firmware-sim/internal/fleet"
	"github.com/headway-transit/headway/firmware-sim/internal/scenario"
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
		if text := out.String(); !strings.Contains(text, "-skip share") || !strings.Contains(text, "-skip-trips IDs") || !strings.Contains(text, `{"type":"skip"`) {
			t.Errorf("%v: help lacks -skip, -skip-trips or the skip truth line:\n%s", args, text)
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
		{"skip all", []string{"run", "-feed", "x", "-route", "1", "-skip", "1"}},
		{"negative skip", []string{"fleet", "-feed", "x", "-route", "1", "-skip", "-0.2"}},
		{"skip not a number", []string{"run", "-feed", "x", "-route", "1", "-skip", "a fifth"}},
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

// Flags given override the scenario file; the rest of the file stands.
func TestFlagsOverrideScenario(t *testing.T) {
	const path = "../configs/sim-rush-hour.yaml"
	if _, err := os.Stat(path); err != nil {
		t.Skipf("no scenario: %v", err)
	}
	tests := []struct {
		name  string
		args  []string
		check func(t *testing.T, s scenario.Scenario)
	}{
		{"file alone", []string{"-scenario", path}, func(t *testing.T, s scenario.Scenario) {
			if s.Vehicles != 9 || s.Seed != 11 || !s.Traffic.Enabled || s.Motion.DwellMin.D() != 20*time.Second {
				t.Errorf("%+v", s)
			}
		}},
		{"flags win", []string{"-vehicles", "2", "-scenario", path, "-traffic=false", "-route", "3", "-seed", "4"}, func(t *testing.T, s scenario.Scenario) {
			if s.Vehicles != 2 || s.Seed != 4 || s.Traffic.Enabled || !slices.Equal(s.Routes, []string{"3"}) {
				t.Errorf("%+v", s)
			}
			if s.Start != "2026-11-27T07:45:00+01:00" || s.Motion.DwellMax.D() != 45*time.Second {
				t.Errorf("values the flags did not touch changed: %+v", s)
			}
		}},
		{"no file", []string{"-route", "1"}, func(t *testing.T, s scenario.Scenario) {
			if s.Vehicles != 0 || s.Seed != 1 || s.Start != "now" || !s.Traffic.Enabled || s.Output.Link != "/tmp/headway-gps" {
				t.Errorf("%+v", s)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			s, err := parseSim("run", tc.args, &out, &out, usage)
			if err != nil {
				t.Fatalf("%v\n%s", err, out.String())
			}
			tc.check(t, s)
		})
	}
}

// A block on stdout, with the truth: fix lines for each epoch and a stop
// line for each stop left, each typed.
func TestRunBlockTruth(t *testing.T) {
	const feed = "../configs/demo-feed"
	if _, err := os.Stat(feed); err != nil {
		t.Skipf("no demo feed: %v", err)
	}
	truth := filepath.Join(t.TempDir(), "truth.jsonl")
	var out, errOut bytes.Buffer
	err := run(context.Background(), []string{"run", "-feed", feed, "-block", "2-bus01", "-stdout", "-truth", truth,
		"-start", "2026-11-27T08:00:00+01:00", "-duration", "20m", "-speedup", "100000"}, &out, &errOut)
	if err != nil {
		t.Fatalf("%v\n%s", err, errOut.String())
	}
	b, err := os.ReadFile(truth)
	if err != nil {
		t.Fatal(err)
	}
	types := map[string]int{}
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var v struct{ Type string }
		if err := json.Unmarshal([]byte(line), &v); err != nil {
			t.Fatalf("%s: %v", line, err)
		}
		types[v.Type]++
	}
	if types["fix"] != 20*60 || types["stop"] < 5 || len(types) != 2 {
		t.Errorf("truth line types %v, want 1200 fixes and some stops", types)
	}
	if !strings.Contains(errOut.String(), "block 2-bus01") {
		t.Errorf("stderr: %s", errOut.String())
	}
}

// -skip and -skip-trips leave trips unrun: the truth lists each, no bus
// drives one, and an unknown trip is refused by name.
func TestRunSkipTruth(t *testing.T) {
	const feed = "../configs/demo-feed"
	if _, err := os.Stat(feed); err != nil {
		t.Skipf("no demo feed: %v", err)
	}
	tests := []struct {
		name    string
		args    []string
		want    []string // trips with a skip line, if given
		wantErr string
	}{
		{"share", []string{"fleet", "-routes", "2", "-vehicles", "1", "-skip", "0.2"}, nil, ""},
		{"named", []string{"run", "-route", "2", "-skip-trips", "2-0-0840,2-1-0900"}, []string{"2-0-0840", "2-1-0900"}, ""},
		{"unknown trip", []string{"run", "-route", "2", "-skip-trips", "2-0-0840,no-such-trip"}, nil, `"no-such-trip"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			truth := filepath.Join(t.TempDir(), "truth.jsonl")
			args := append(tc.args, "-feed", feed, "-stdout", "-truth", truth,
				"-start", "2026-11-27T08:00:00+01:00", "-duration", "90m", "-speedup", "1000000", "-seed", "3")
			var out, errOut bytes.Buffer
			err := run(context.Background(), args, &out, &errOut)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want one naming %s", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("%v\n%s", err, errOut.String())
			}
			b, err := os.ReadFile(truth)
			if err != nil {
				t.Fatal(err)
			}
			skipped, driven := map[string]bool{}, map[string]bool{}
			for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
				var v struct {
					Type, Trip string
					ServiceDay string    `json:"service_day"`
					Departure  time.Time `json:"scheduled_departure"`
				}
				if err := json.Unmarshal([]byte(line), &v); err != nil {
					t.Fatalf("%s: %v", line, err)
				}
				switch v.Type {
				case fleet.TypeSkip:
					skipped[v.Trip] = true
					if v.ServiceDay != "2026-11-27" || v.Departure.IsZero() {
						t.Errorf("skip line %s", line)
					}
				case fleet.TypeFix:
					driven[v.Trip] = true
				}
			}
			if len(skipped) == 0 {
				t.Fatal("no skip line")
			}
			for id := range skipped {
				if driven[id] {
					t.Errorf("skipped %s was driven", id)
				}
			}
			for _, id := range tc.want {
				if !skipped[id] {
					t.Errorf("no skip line for %s: %v", id, skipped)
				}
			}
			if tc.want != nil && len(skipped) != len(tc.want) {
				t.Errorf("skip lines for %v, want %v", skipped, tc.want)
			}
		})
	}
}

func TestFleetUsage(t *testing.T) {
	const feed = "../configs/demo-feed"
	if _, err := os.Stat(feed); err != nil {
		t.Skipf("no demo feed: %v", err)
	}
	tests := []struct {
		name string
		args []string
	}{
		{"pty and mqtt", []string{"fleet", "-feed", feed, "-pty", "-mqtt", "tcp://127.0.0.1:1"}},
		{"stdout takes one", []string{"fleet", "-feed", feed, "-vehicles", "3", "-stdout", "-duration", "1s"}},
		{"routes and blocks", []string{"fleet", "-feed", feed, "-routes", "1", "-block", "1-bus01"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			if err := run(context.Background(), tc.args, &out, &out); !errors.As(err, new(usageError)) {
				t.Errorf("err = %v, want a usage error", err)
			}
		})
	}
}

// Every scenario in configs/ runs: one of its buses, for a simulated minute,
// on stdout, decodes as NMEA.
func TestScenariosRun(t *testing.T) {
	files, _ := filepath.Glob("../configs/sim-*.yaml")
	if len(files) == 0 {
		t.Skip("no scenarios in configs/")
	}
	// Scenario paths are relative to the repository root.
	t.Chdir("..")
	for _, path := range files {
		path = strings.TrimPrefix(path, "../")
		t.Run(filepath.Base(path), func(t *testing.T) {
			var out, errOut bytes.Buffer
			err := run(context.Background(), []string{"run", "-scenario", path, "-route", "1", "-vehicles", "1", "-stdout",
				"-truth", "", "-duration", "1m", "-speedup", "100000"}, &out, &errOut)
			if err != nil {
				t.Fatalf("%v\n%s", err, errOut.String())
			}
			dec := nmea.NewDecoder(&out)
			fixes := 0
			for {
				if _, err := dec.Next(); err != nil {
					break
				}
				fixes++
			}
			if fixes < 50 {
				t.Errorf("%d epochs decoded in a simulated minute", fixes)
			}
		})
	}
}

// The tunnel scenario loses the fix two minutes in for 45 s, every run.
func TestTunnelScenarioLosesFix(t *testing.T) {
	if _, err := os.Stat("../configs/sim-tunnel.yaml"); err != nil {
		t.Skipf("no scenario: %v", err)
	}
	t.Chdir("..")
	var out, errOut bytes.Buffer
	err := run(context.Background(), []string{"run", "-scenario", "configs/sim-tunnel.yaml", "-stdout",
		"-duration", "4m", "-speedup", "100000"}, &out, &errOut)
	if err != nil {
		t.Fatalf("%v\n%s", err, errOut.String())
	}
	dec := nmea.NewDecoder(&out)
	start := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	lost := 0
	for {
		f, err := dec.Next()
		if err != nil {
			break
		}
		if f.HasPosition() {
			continue
		}
		lost++
		if at := f.Time.Sub(start); !f.Time.IsZero() && (at < 2*time.Minute || at > 2*time.Minute+46*time.Second) {
			t.Errorf("no fix at %v, outside the tunnel", at)
		}
	}
	if lost < 40 || lost > 46 {
		t.Errorf("%d epochs without a fix, want the 45 s tunnel", lost)
	}
}

func TestStatusText(t *testing.T) {
	got := statusText(fleet.Stats{Vehicles: 500, Moving: 12, Fixes: 12345}, 499.6,
		map[string]uint64{"garbage": 3, "bad_checksum": 2, "unplug": 0}, nil)
	want := "vehicles 500 (moving 12) | fixes/s 500 | fixes 12345 | faults 5 (bad_checksum 2, garbage 3)"
	if got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
}
