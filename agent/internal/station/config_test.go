package station

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestLoadConfig(t *testing.T) {
	tests := []struct {
		name string
		file string
		want Config
	}{
		{
			name: "every field",
			file: "testdata/config/good.yaml",
			want: Config{
				Display:       "sign-42",
				Stops:         []string{"CEN", "HBR"},
				Hub:           []string{"ws://127.0.0.1:8080/ws", "wss://hub2.example.org/ws"},
				Cache:         "/var/lib/headway/sign.db",
				Listen:        "127.0.0.1:8090",
				Rows:          6,
				Clock:         "12h",
				StaleAfter:    2 * time.Minute,
				FallbackAfter: 15 * time.Minute,
				Timezone:      "Europe/Rome",
			},
		},
		{
			name: "defaults",
			file: "testdata/config/minimal.yaml",
			want: Config{
				Display:       "sign-1",
				Stops:         []string{"CEN"},
				Hub:           []string{"ws://127.0.0.1:8080/ws"},
				Cache:         "./run/sign.db",
				Listen:        DefaultListen,
				Rows:          DefaultRows,
				Clock:         DefaultClock,
				StaleAfter:    DefaultStaleAfter,
				FallbackAfter: DefaultFallbackAfter,
			},
		},
		{
			name: "the example in configs",
			file: "../../../configs/station.yaml",
			want: Config{
				Display:       "demo-sign",
				Stops:         []string{"CEN"},
				Hub:           []string{"ws://127.0.0.1:8080/ws"},
				Cache:         "./run/sign.db",
				Listen:        "127.0.0.1:8090",
				Rows:          8,
				Clock:         "24h",
				StaleAfter:    90 * time.Second,
				FallbackAfter: 10 * time.Minute,
				LogLevel:      "info",
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := LoadConfig(filepath.FromSlash(tc.file))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("LoadConfig =\n%+v\nwant\n%+v", got, tc.want)
			}
		})
	}
}

// TestLoadConfigErrors pins each message whole (FILE stands for the path),
// except for the time zone's, which only need to name the field and what
// is wanted.
func TestLoadConfigErrors(t *testing.T) {
	tests := []struct {
		file     string
		want     string   // the whole message
		contains []string // or, all of these
	}{
		{file: "unknown-key.yaml", want: "config FILE: line 5: stale_aftr: unknown field, did you mean stale_after?"},
		{file: "rows-not-a-number.yaml", want: `config FILE: line 5: rows: "many", want a whole number`},
		{file: "hub-not-a-list.yaml", want: `config FILE: line 3: hub: "ws://127.0.0.1:8080/ws", want a list: [a, b], or one "- item" a line`},
		{file: "missing-display.yaml", want: "config FILE: display: is required (the sign's id, e.g. sign-42)"},
		{file: "bad-hub-scheme.yaml", want: `config FILE: line 3: hub[1]: "http://127.0.0.1:8080/ws": scheme must be ws or wss`},
		{file: "too-many-stops.yaml", want: "config FILE: line 2: stops: 65 stops, at most 64"},
		{file: "bad-duration.yaml", want: `config FILE: line 5: stale_after: "90" is not a duration (write it like 90s or 2m)`},
		{file: "bad-clock.yaml", want: `config FILE: line 5: clock: "24-hour", want 24h or 12h`},
		{file: "bad-rows.yaml", want: "config FILE: line 5: rows: 0, want 1 to 50"},
		{file: "bad-stop-id.yaml", want: `config FILE: line 2: stops[1]: stop id "HBR/2": character '/' at 3 is not allowed`},
		{file: "duplicate-stop.yaml", want: `config FILE: line 2: stops[1]: "CEN" is listed twice (also stops[0])`},
		{file: "missing-cache.yaml", want: "config FILE: cache: is required (path of the sign's cache file, e.g. /var/lib/headway/sign.db)"},
		{file: "bad-listen.yaml", want: `config FILE: line 5: listen: "8090": want host:port, e.g. 127.0.0.1:8090`},
		{file: "fallback-before-stale.yaml", want: "config FILE: line 6: fallback_after: 2m0s, must be at least stale_after (5m0s)"},
		{file: "bad-fallback.yaml", want: `config FILE: line 5: fallback_after: "soon" is not a duration (write it like 10m or 15m)`},
		{file: "many.yaml", want: `config FILE: line 6: stale_after: "90" is not a duration (write it like 90s or 2m)` + "\n" +
			`config FILE: line 2: display: display id "sign 42": character ' ' at 4 is not allowed` + "\n" +
			`config FILE: line 3: stops[1]: "CEN" is listed twice (also stops[0])` + "\n" +
			`config FILE: line 4: hub[0]: "http://127.0.0.1:8080/ws": scheme must be ws or wss` + "\n" +
			"config FILE: cache: is required (path of the sign's cache file, e.g. /var/lib/headway/sign.db)\n" +
			"config FILE: line 5: rows: 0, want 1 to 50"},
		{file: "bad-timezone.yaml", contains: []string{"config FILE: line 5: timezone:", "Europe/Rom", "IANA"}},
		{file: "local-timezone.yaml", contains: []string{"config FILE: line 5: timezone:", "IANA"}},
		{file: "does-not-exist.yaml", contains: []string{"config: open FILE: no such file or directory"}},
	}
	files, _ := filepath.Glob("testdata/config/*.yaml")
	if good := 2; len(files)-good != len(tests)-1 { // does-not-exist has no file
		t.Errorf("%d bad configs in testdata, %d cases", len(files)-good, len(tests)-1)
	}
	for _, tc := range tests {
		t.Run(strings.TrimSuffix(tc.file, ".yaml"), func(t *testing.T) {
			path := filepath.Join("testdata", "config", tc.file)
			_, err := LoadConfig(path)
			if err == nil {
				t.Fatal("LoadConfig succeeded")
			}
			if tc.want != "" {
				if want := strings.ReplaceAll(tc.want, "FILE", path); err.Error() != want {
					t.Errorf("got\n%s\nwant\n%s", err, want)
				}
			}
			for _, w := range tc.contains {
				if w = strings.ReplaceAll(w, "FILE", path); !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestNewValidates(t *testing.T) {
	cfg := testConfig(t, []string{"ws://127.0.0.1:1/ws"})
	cfg.Rows = 0
	if _, err := New(cfg, Options{}); err == nil || !strings.Contains(err.Error(), "rows") {
		t.Errorf("New with rows 0: %v", err)
	}
	cfg = testConfig(t, []string{"ws://127.0.0.1:1/ws"})
	if _, err := New(cfg, Options{Version: strings.Repeat("v", 200)}); err == nil {
		t.Error("New accepted an over-long version")
	}
}

// TestTokenConfig: a config holding a token must be its owner's alone,
// and the token one piece.
func TestTokenConfig(t *testing.T) {
	dir := t.TempDir()
	write := func(name, token string, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		body := fmt.Sprintf("display: s-1\nstops: [A]\nhub: [\"ws://127.0.0.1:8080/ws\"]\ncache: %q\ntoken: %q\n", filepath.Join(dir, "c.db"), token)
		if err := os.WriteFile(p, []byte(body), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	if c, err := LoadConfig(write("ok.yaml", "hws_abc", 0o600)); err != nil || c.Token != "hws_abc" {
		t.Errorf("0600 with a token: %+v, %v", c.Token, err)
	}
	if _, err := LoadConfig(write("open.yaml", "hws_abc", 0o644)); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Errorf("0644 with a token: %v", err)
	}
	if _, err := LoadConfig(write("split.yaml", "hws_a bc", 0o600)); err == nil || !strings.Contains(err.Error(), "token: has spaces") {
		t.Errorf("a token with a space: %v", err)
	}
}
