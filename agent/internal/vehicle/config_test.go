package vehicle

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/headway-transit/headway/drivers/gps"
)

func TestLoadConfigGood(t *testing.T) {
	c, err := LoadConfig(filepath.Join("testdata", "config", "good.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if c.GPS.Baud != gps.Auto || len(c.MQTT.URLs) != 2 || c.MQTT.ReconnectMax.D() != 2*time.Second ||
		c.Publish.Interval.D() != 2*time.Second || c.Quality.MaxHDOP != 20 {
		t.Errorf("got %+v", c)
	}
}

// TestLoadConfigBad pins each message whole; FILE stands for the path.
func TestLoadConfigBad(t *testing.T) {
	tests := []struct {
		file string
		want string
	}{
		{"nested-typo.yaml", "config FILE: line 4: mqtt.url: unknown field, did you mean mqtt.urls?"},
		{"wrong-level.yaml", "config FILE: line 4: port: unknown field here, did you mean gps.port (indented under gps:)?"},
		{"typo.yaml", "config FILE: line 4: quality.max_hdpo: unknown field, did you mean quality.max_hdop?"},
		{"baud.yaml", `config FILE: line 2: gps.baud: baud rate "1234": want auto or one of [4800 9600 19200 38400 57600 115200]`},
		{"duration.yaml", `config FILE: line 4: publish.interval: "1" is not a duration (write it like 90s or 1m30s)`},
		{"urls-not-a-list.yaml", `config FILE: line 4: mqtt.urls: "tcp://a:1883", want a list: [a, b], or one "- item" a line`},
		{"many.yaml", `config FILE: line 2: vehicle: vehicle id "bus 17": character ' ' at 3 is not allowed` + "\n" +
			"config FILE: gps.port: is required (e.g. /dev/ttyUSB0)\n" +
			`config FILE: line 4: mqtt.urls[0]: scheme "http", want tcp, ssl, tls, mqtt or mqtts` + "\n" +
			"config FILE: line 6: quality.min_mode: 4, want 2 or 3"},
	}
	files, _ := filepath.Glob("testdata/config/*.yaml")
	if len(files)-1 != len(tests) {
		t.Errorf("%d bad configs, %d cases", len(files)-1, len(tests))
	}
	for _, tc := range tests {
		t.Run(strings.TrimSuffix(tc.file, ".yaml"), func(t *testing.T) {
			path := filepath.Join("testdata", "config", tc.file)
			_, err := LoadConfig(path)
			if err == nil {
				t.Fatal("loaded")
			}
			if want := strings.ReplaceAll(tc.want, "FILE", path); err.Error() != want {
				t.Errorf("got\n%s\nwant\n%s", err, want)
			}
		})
	}
}
