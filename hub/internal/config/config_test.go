package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestLoadGood(t *testing.T) {
	files, _ := filepath.Glob("testdata/good/*.yaml")
	files = append(files, "../../../configs/hub.yaml")
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			c, err := Load(f)
			if err != nil {
				t.Fatal(err)
			}
			if c.GTFS == "" || c.Boards.Horizon.D() <= 0 || c.Tracking.Stale.D() != 5*time.Minute {
				t.Errorf("defaults not applied: %+v", c)
			}
		})
	}
	c, err := Load("testdata/good/external-broker.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if c.MQTT.URL != "ssl://mqtt.example.org:8883" || c.Vehicles["bus-17"].Trip != "1-0-0800" {
		t.Errorf("got %+v", c)
	}
}

func TestLoadBad(t *testing.T) {
	want := map[string]string{
		"unknown-key.yaml":    "htpp",
		"no-gtfs.yaml":        "gtfs:",
		"bad-url.yaml":        "mqtt.url",
		"bad-listen.yaml":     "http.listen",
		"bad-duration.yaml":   "soon",
		"bad-vehicle.yaml":    "vehicles",
		"rows.yaml":           "boards.max_rows",
		"max-signs.yaml":      "http.max_signs",
		"user-password.yaml":  "mqtt.users[0]",
		"users-external.yaml": "mqtt.users: only for the embedded broker",
		"prefix.yaml":         "mqtt.prefix",
		"trip-and-block.yaml": "vehicles.bus-1",
	}
	files, _ := filepath.Glob("testdata/bad/*.yaml")
	if len(files) != len(want) {
		t.Fatalf("%d bad configs, %d expectations", len(files), len(want))
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			_, err := Load(f)
			if err == nil {
				t.Fatal("loaded")
			}
			if !strings.Contains(err.Error(), want[filepath.Base(f)]) || !strings.Contains(err.Error(), f) {
				t.Errorf("error %q should name %q and the file", err, want[filepath.Base(f)])
			}
		})
	}
}

func FuzzLoad(f *testing.F) {
	for _, p := range []string{"testdata/good/example.yaml", "testdata/good/external-broker.yaml", "testdata/bad/bad-url.yaml"} {
		b, err := os.ReadFile(p)
		if err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		path := filepath.Join(t.TempDir(), "c.yaml")
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
		c, err := Load(path)
		if err == nil {
			if verr := c.Validate(); verr != nil {
				t.Fatalf("loaded an invalid config: %v", verr)
			}
		}
	})
}
