package vehicle

import (
	"context"
	"log/slog"
	"math"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/headway-transit/headway/drivers/gps"
	"github.com/headway-transit/headway/drivers/nmea"
	"github.com/headway-transit/headway/internal/mqttconn"
	"github.com/headway-transit/headway/internal/wire"
	"github.com/headway-transit/headway/internal/yamlconf"
)

// doneToken is a completed paho token.
type doneToken struct{ err error }

func (t doneToken) Wait() bool                     { return true }
func (t doneToken) WaitTimeout(time.Duration) bool { return true }
func (t doneToken) Done() <-chan struct{} {
	c := make(chan struct{})
	close(c)
	return c
}
func (t doneToken) Error() error { return t.err }

type published struct {
	topic    string
	retained bool
	payload  []byte
}

// fakeClient records publishes; Connect calls the OnConnect handler.
type fakeClient struct {
	opts *mqtt.ClientOptions
	mu   sync.Mutex
	pubs []published
	conn bool
}

func (c *fakeClient) Connect() mqtt.Token {
	c.mu.Lock()
	c.conn = true
	c.mu.Unlock()
	if c.opts.OnConnect != nil {
		c.opts.OnConnect(nil)
	}
	return doneToken{}
}
func (c *fakeClient) Disconnect(uint) {
	c.mu.Lock()
	c.conn = false
	c.mu.Unlock()
}
func (c *fakeClient) Publish(topic string, _ byte, retained bool, payload any) mqtt.Token {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.pubs = append(c.pubs, published{topic, retained, append([]byte(nil), payload.([]byte)...)})
	return doneToken{}
}
func (c *fakeClient) Subscribe(string, byte, mqtt.MessageHandler) mqtt.Token { return doneToken{} }
func (c *fakeClient) IsConnectionOpen() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.conn
}
func (c *fakeClient) all() []published {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]published(nil), c.pubs...)
}

// fakeGPS sends its fixes, then waits for ctx.
type fakeGPS struct{ fixes []nmea.Fix }

func (g fakeGPS) Run(ctx context.Context, out chan<- nmea.Fix) error {
	for _, f := range g.fixes {
		select {
		case out <- f:
		case <-ctx.Done():
			return nil
		}
	}
	<-ctx.Done()
	return nil
}

func fix(sec int, mode nmea.Mode, hdop float64) nmea.Fix {
	return nmea.Fix{
		Time: time.Date(2026, 11, 27, 7, 0, 0, 0, time.UTC).Add(time.Duration(sec) * 500 * time.Millisecond),
		Mode: mode, Lat: 44.4 + float64(sec)*1e-4, Lon: 8.9, AltMSL: 20, AltHAE: math.NaN(),
		Speed: 5, Track: -10, HDOP: hdop, Sats: 8,
	}
}

func TestPublishesGatedNumberedFixes(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Vehicle, cfg.GPS.Port, cfg.Trip = "bus-7", "/dev/null", "1-0-0800"
	cfg.Outbox.Path = filepath.Join(t.TempDir(), "outbox.db")
	cfg.Quality.MaxAge = 0 // as on a computer with no trusted clock: the backwards check must cope
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	nofix := fix(0, nmea.ModeNoFix, 1)
	notime := fix(0, nmea.Mode3D, 1)
	notime.Time = time.Time{}
	gps := fakeGPS{fixes: []nmea.Fix{
		nofix, notime,
		func() nmea.Fix { f := fix(0, nmea.Mode3D, 1); f.Status = nmea.StatusSimulated; return f }(), // demo mode
		func() nmea.Fix { f := fix(0, nmea.Mode3D, 1); f.Status = nmea.StatusDR; return f }(),        // dead reckoning
		fix(0, nmea.Mode3D, 1),  // sent: seq 1
		fix(1, nmea.Mode3D, 1),  // half a second later: throttled
		fix(2, nmea.Mode3D, 50), // HDOP too high
		fix(3, nmea.Mode3D, 1),  // sent: seq 2
		fix(5, nmea.Mode2D, 1),  // 2D is allowed by default: seq 3
		func() nmea.Fix { f := fix(7, nmea.Mode3D, 1); f.Time = f.Time.Add(24 * time.Hour); return f }(), // bad date: seq 4
		fix(9, nmea.Mode3D, 1), // back to the right time: seq 5, not throttled for a day
	}}
	var client *fakeClient
	now := func() time.Time { return time.Date(2026, 11, 27, 7, 0, 3, 0, time.UTC) }
	a, err := New(cfg, Options{GPS: gps, Now: now, Factory: func(o *mqtt.ClientOptions) mqttconn.Client {
		client = &fakeClient{opts: o}
		return client
	}})
	if err != nil {
		t.Fatal(err)
	}
	if client.opts.WillTopic != "headway/v1/vehicles/bus-7/status" || !client.opts.WillRetained || !strings.Contains(string(client.opts.WillPayload), `"offline"`) {
		t.Errorf("last will: %s %v %s", client.opts.WillTopic, client.opts.WillRetained, client.opts.WillPayload)
	}
	if client.opts.CleanSession {
		t.Error("want a persistent session, so the broker keeps QoS 1 messages for the agent")
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- a.Run(ctx) }()
	deadline := time.Now().Add(5 * time.Second)
	var positions []wire.Position
	for time.Now().Before(deadline) {
		positions = positions[:0]
		for _, p := range client.all() {
			if strings.HasSuffix(p.topic, "/position") {
				pos, err := wire.DecodePosition(p.payload)
				if err != nil {
					t.Fatalf("published an invalid position: %v", err)
				}
				positions = append(positions, pos)
			}
		}
		if len(positions) >= 5 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if len(positions) != 5 {
		t.Fatalf("published %d positions, want 5", len(positions))
	}
	// Whether a fix went out live or from the backlog depends on when the
	// connection came up; the set of seqs and their content does not.
	sort.Slice(positions, func(i, j int) bool { return positions[i].Seq < positions[j].Seq })
	for i, p := range positions {
		if p.Seq != uint64(i+1) || p.Vehicle != "bus-7" || p.Trip != "1-0-0800" {
			t.Errorf("position %d: %+v", i, p)
		}
	}
	if *positions[0].Track != 350 {
		t.Errorf("track %v, want -10 normalised to 350", *positions[0].Track)
	}
	if positions[2].Mode != 2 {
		t.Errorf("mode %d, want 2", positions[2].Mode)
	}
	pubs := client.all()
	first, last := pubs[0], pubs[len(pubs)-1]
	if !first.retained || !strings.Contains(string(first.payload), `"online"`) {
		t.Errorf("first publish %s %s, want retained online status", first.topic, first.payload)
	}
	if !last.retained || !strings.Contains(string(last.payload), `"offline"`) {
		t.Errorf("last publish %s %s, want retained offline status", last.topic, last.payload)
	}
}

func TestConfig(t *testing.T) {
	good, err := LoadConfig("../../../configs/vehicle.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if good.Vehicle != "bus-17" || good.GPS.Baud != 9600 {
		t.Errorf("example config: %+v", good)
	}
	if err := yamlconf.Decode([]byte("vehicle: b\ngps: {port: /dev/x, baud: auto}\n"), &good); err != nil || good.GPS.Baud != gps.Auto {
		t.Errorf("baud auto: %v %v", good.GPS.Baud, err)
	}
	if err := yamlconf.Decode([]byte("vehicle: b\ngps: {port: /dev/x, baud: 1234}\n"), &good); err == nil || !strings.Contains(err.Error(), "1234") {
		t.Errorf("baud 1234: %v", err)
	}
	good, _ = LoadConfig("../../../configs/vehicle.yaml")
	if good.Vehicle != "bus-17" {
		t.Errorf("example config: %+v", good)
	}
	tests := []struct {
		name string
		edit func(*Config)
		want string
	}{
		{"vehicle", func(c *Config) { c.Vehicle = "bus 17" }, "vehicle:"},
		{"port", func(c *Config) { c.GPS.Port = "" }, "gps.port"},
		{"baud", func(c *Config) { c.GPS.Baud = 1234 }, "gps.baud"},
		{"url", func(c *Config) { c.MQTT.URLs = []string{"http://x"} }, "mqtt.urls[0]"},
		{"no urls", func(c *Config) { c.MQTT.URLs = nil }, "mqtt.urls"},
		{"cert without key", func(c *Config) { c.MQTT.CertFile = "c.pem" }, "mqtt.cert_file"},
		{"interval", func(c *Config) { c.Publish.Interval = Duration(time.Millisecond) }, "publish.interval"},
		{"mode", func(c *Config) { c.Quality.MinMode = 1 }, "quality.min_mode"},
		{"listen", func(c *Config) { c.Listen = "nope" }, "listen"},
		{"prefix", func(c *Config) { c.MQTT.Prefix = "a/+/b" }, "mqtt.prefix"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := good
			tc.edit(&c)
			err := c.Validate()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to name %q", err, tc.want)
			}
		})
	}
}

func TestGate(t *testing.T) {
	now := time.Date(2026, 11, 27, 7, 0, 0, 0, time.UTC)
	base := nmea.Fix{Time: now, Mode: nmea.Mode3D, Status: nmea.StatusGPS, Lat: 44.4, Lon: 8.9, Speed: 10, Track: 90, HDOP: 1, Sats: 8}
	edit := func(f func(*nmea.Fix)) nmea.Fix { x := base; f(&x); return x }
	last := &wire.Position{Time: now.Add(-time.Second), Lat: 44.4, Lon: 8.9}
	tests := []struct {
		name string
		fix  nmea.Fix
		last *wire.Position
		want string
	}{
		{"good", base, nil, ""},
		{"good after the last", base, last, ""},
		{"simulated", edit(func(f *nmea.Fix) { f.Status = nmea.StatusSimulated }), nil, "simulated"},
		{"dead reckoning", edit(func(f *nmea.Fix) { f.Status = nmea.StatusDR }), nil, "estimated"},
		{"2D when 3D is required", edit(func(f *nmea.Fix) { f.Mode = nmea.Mode2D }), nil, ""},
		{"high HDOP", edit(func(f *nmea.Fix) { f.HDOP = 25 }), nil, "high_hdop"},
		{"too fast", edit(func(f *nmea.Fix) { f.Speed = 70 }), nil, "too_fast"},
		{"old buffered fix", edit(func(f *nmea.Fix) { f.Time = now.Add(-10 * time.Minute) }), nil, "stale"},
		{"bad date", edit(func(f *nmea.Fix) { f.Time = now.Add(24 * time.Hour) }), nil, "stale"},
		{"jump", edit(func(f *nmea.Fix) { f.Lat += 0.01 }), last, "jump"}, // 1.1 km in a second
		{"throttled", edit(func(f *nmea.Fix) { f.Time = now.Add(-500 * time.Millisecond) }), last, "throttled"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := DefaultConfig()
			a := &Agent{cfg: cfg, last: tc.last, log: slogDiscard()}
			if got := a.gate(tc.fix, now); got != tc.want {
				t.Errorf("gate = %q, want %q", got, tc.want)
			}
		})
	}
}

func slogDiscard() *slog.Logger { return slog.New(slog.DiscardHandler) }
