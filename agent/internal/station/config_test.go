package station

import (
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

func TestLoadConfigErrors(t *testing.T) {
	tests := []struct {
		file string
		want []string // all must appear in the error
	}{
		{file: "unknown-key.yaml", want: []string{"stale_aftr"}},
		{file: "missing-display.yaml", want: []string{"display:", "required"}},
		{file: "bad-hub-scheme.yaml", want: []string{"hub[1]", "ws or wss"}},
		{file: "too-many-stops.yaml", want: []string{"stops:", "65"}},
		{file: "bad-duration.yaml", want: []string{"stale_after:", `"90"`}},
		{file: "bad-clock.yaml", want: []string{"clock:", "24-hour"}},
		{file: "bad-rows.yaml", want: []string{"rows:"}},
		{file: "bad-stop-id.yaml", want: []string{"stops[1]"}},
		{file: "duplicate-stop.yaml", want: []string{"stops[1]", "twice"}},
		{file: "missing-cache.yaml", want: []string{"cache:", "required"}},
		{file: "bad-listen.yaml", want: []string{"listen:"}},
		{file: "bad-timezone.yaml", want: []string{"timezone:", "Europe/Rom", "IANA"}},
		{file: "local-timezone.yaml", want: []string{"timezone:", "IANA"}},
		{file: "fallback-before-stale.yaml", want: []string{"fallback_after:", "stale_after"}},
		{file: "bad-fallback.yaml", want: []string{"fallback_after:", `"soon"`}},
		{file: "does-not-exist.yaml", want: []string{"does-not-exist.yaml"}},
	}
	for _, tc := range tests {
		t.Run(strings.TrimSuffix(tc.file, ".yaml"), func(t *testing.T) {
			path := filepath.Join("testdata", "config", tc.file)
			_, err := LoadConfig(path)
			if err == nil {
				t.Fatal("LoadConfig succeeded")
			}
			for _, w := range append(tc.want, "config") {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			// The file is named too, except when it could not be opened
			// (then the os error names it).
			if !strings.Contains(err.Error(), path) {
				t.Errorf("error %q does not name the file %s", err, path)
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
