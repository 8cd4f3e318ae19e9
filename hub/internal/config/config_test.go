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

// TestLoadExample loads configs/hub.yaml from where make demo runs it: its
// gtfs path is relative to the repository's root.
func TestLoadExample(t *testing.T) {
	t.Chdir("../../..")
	if _, err := Load("configs/hub.yaml"); err != nil {
		t.Fatal(err)
	}
}

// TestLoadBad pins each message whole, FILE standing for the file's path.
func TestLoadBad(t *testing.T) {
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		file string
		want string
	}{
		{"unknown-key.yaml", "config FILE: line 2: htpp: unknown field, did you mean http?"},
		{"typo.yaml", "config FILE: line 3: stat_every: unknown field, did you mean state_every?"},
		{"nested-typo.yaml", "config FILE: line 3: mqtt.urll: unknown field, did you mean mqtt.url?"},
		{"wrong-level.yaml", "config FILE: line 4: prefix: unknown field here, did you mean mqtt.prefix (indented under mqtt:)?"},
		{"not-a-number.yaml", `config FILE: line 3: boards.max_rows: "many", want a whole number`},
		{"bad-duration.yaml", `config FILE: line 2: boards.refresh: "soon" is not a duration (write it like 90s or 1m30s)`},
		{"no-gtfs.yaml", "config FILE: gtfs: is required (a GTFS .zip or folder)"},
		{"missing-gtfs.yaml", "config FILE: line 1: gtfs: /nonexistent/headway/feed.zip: no such file or directory"},
		{"missing-gtfs-relative.yaml", "config FILE: line 1: gtfs: configs/demo-feed: no such file or directory (relative to " + wd + ", where the hub runs)"},
		{"bad-url.yaml", `config FILE: line 2: mqtt.url: scheme "http", want tcp, ssl, tls, mqtt or mqtts`},
		{"bad-listen.yaml", "config FILE: line 2: http.listen: address 8080: missing port in address"},
		{"bad-vehicle.yaml", `config FILE: line 2: vehicles: vehicle id "bus 17": character ' ' at 3 is not allowed`},
		{"rows.yaml", "config FILE: line 2: boards.max_rows: 0, want 1 to 200"},
		{"settle.yaml", "config FILE: line 2: tracking.settle: 0s, want a positive duration such as 4m"},
		{"max-signs.yaml", "config FILE: line 3: http.max_signs: 0, want at least 1"},
		{"operators.yaml", `config FILE: line 4: http.operators[0]: user "alice": password_hash is not a bcrypt hash (make one with hub passwd): crypto/bcrypt: hashedSecret too short to be a bcrypted password` + "\n" +
			"config FILE: line 6: http.rate_limit: per_second 5, burst 0: want per_second 0 (off) or more, and burst at least 1\n" +
			`config FILE: line 9: http.trusted_proxies[0]: "10.0.0.0/33" is neither an address nor a CIDR block`},
		{"user-password.yaml", `config FILE: line 4: mqtt.users[0]: user "bus-1": password shorter than 12 characters`},
		{"users-external.yaml", "config FILE: line 4: mqtt.users: only for the embedded broker, and mqtt.url is set: give the users to that broker"},
		{"broker.yaml", `config FILE: line 3: mqtt.broker: unknown field (fields here: listen, store, url, urls, username, password, users, vehicles, plain, client_id, prefix, queue)`},
		{"store-external.yaml", "config FILE: line 4: mqtt.store: only for the embedded broker, and mqtt.url is set"},
		{"cluster.yaml", "config FILE: line 4: cluster.node: node id \"hub a\": character ' ' at 3 is not allowed (a name different on every hub)\n" +
			"config FILE: line 5: cluster.listen: :6222 would route plain text beyond this machine: set cluster.ca (routes on TLS with tls.cert), or cluster.plain: true on a private network\n" +
			"config FILE: line 6: cluster.routes[0]: \"hub-b:6222\", want nats-route://host:port\n" +
			"config FILE: line 7: cluster.secret: shorter than 16 characters: the same long random string on every hub (openssl rand -hex 24)"},
		{"cluster-external.yaml", "config FILE: line 7: cluster.nats[0]: \"nats-1:4222\", want nats://host:port\n" +
			"config FILE: line 8: cluster.secret: only for the hubs' embedded brokers, and mqtt.url is set (the external cluster routes itself)"},
		{"cluster-ca.yaml", "config FILE: line 8: cluster.ca: routes speak TLS with the hub's own certificate: set tls.cert and tls.key\n" +
			"config FILE: line 8: cluster.ca: /nonexistent/ca.pem: no such file or directory"},
		{"cluster-name.yaml", "config FILE: cluster.name: is required for a cluster (the same on every hub)"},
		{"feeds.yaml", `config FILE: line 4: feeds.vehicles[0]: url "ftp://avl.example.org/vp.pb": want http:// or https://` + "\n" +
			`config FILE: line 6: feeds.vehicles[1].name: "metro" given twice (or the operators' own)` + "\n" +
			"config FILE: line 6: feeds.vehicles[1]: give url or file, one of them\n" +
			"config FILE: line 8: feeds.vehicles[1].file: /tmp/vp.pb: no such file or directory\n" +
			`config FILE: line 9: feeds.vehicles[2]: format: unknown feed format "siri" (want gtfs-rt or siri-vm)`},
		{"trouble.yaml", "config FILE: line 2: trouble: silent_after 10s, sign_cache_age 5m0s, accuracy_floor 120, min_scored 50: want at least 1m, 1m, 0 to 100 percent, at least 1"},
		{"urls-alone.yaml", "config FILE: line 3: mqtt.urls: give the first external broker as mqtt.url, the others here"},
		{"urls-bad.yaml", `config FILE: line 4: mqtt.urls[0]: scheme "http", want tcp, ssl, tls, mqtt or mqtts`},
		{"prefix.yaml", `config FILE: line 2: mqtt.prefix: topic prefix "headway/#": MQTT wildcards (+ #) are not allowed`},
		{"plain-public.yaml", "config FILE: line 2: http.listen: 0.0.0.0:8080 would serve plain text beyond this machine: set tls.cert and tls.key, or http.plain: true behind a TLS proxy\n" +
			"config FILE: line 3: mqtt.listen: 192.0.2.1:1883 would take plain text beyond this machine: set tls.cert and tls.key, or mqtt.plain: true"},
		{"tls-half.yaml", "config FILE: line 2: tls: give cert and key together\n" +
			"config FILE: line 2: tls.cert: /nonexistent/hub.pem: no such file or directory\n" +
			"config FILE: line 2: tls.client_ca: ca.pem: no such file or directory (relative to " + wd + ", where the hub runs)"},
		{"trip-and-block.yaml", "config FILE: line 3: vehicles.bus-1: give trip or block, not both"},
		{"many.yaml", "config FILE: line 2: gtfs: /nonexistent/headway/feed: no such file or directory\n" +
			"config FILE: line 4: http.listen: address 8080: missing port in address\n" +
			"config FILE: line 6: boards.max_rows: 0, want 1 to 200"},
	}
	files, _ := filepath.Glob("testdata/bad/*.yaml")
	if len(files) != len(tests) {
		t.Errorf("%d bad configs, %d cases", len(files), len(tests))
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			path := filepath.Join("testdata", "bad", tc.file)
			_, err := Load(path)
			if err == nil {
				t.Fatal("loaded")
			}
			if want := strings.ReplaceAll(tc.want, "FILE", path); err.Error() != want {
				t.Errorf("got\n%s\nwant\n%s", err, want)
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
