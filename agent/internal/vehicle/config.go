package vehicle

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"time"

	"github.com/headway-transit/headway/drivers/gps"
	"github.com/headway-transit/headway/internal/loglevel"
	"github.com/headway-transit/headway/internal/wire"
	"github.com/headway-transit/headway/internal/yamlconf"
)

// Config is the vehicle agent's configuration (configs/vehicle.yaml).
type Config struct {
	Vehicle string  `yaml:"vehicle"`
	GPS     GPS     `yaml:"gps"`
	MQTT    MQTT    `yaml:"mqtt"`
	Publish Publish `yaml:"publish"`
	Quality Quality `yaml:"quality"`
	Outbox  Outbox  `yaml:"outbox"`
	// Trip optionally pins the vehicle to a GTFS trip; empty lets the hub
	// infer it.
	Trip string `yaml:"trip"`
	// Listen serves /healthz and /metrics; empty disables them.
	Listen string `yaml:"listen"`
	// LogLevel: debug, info (default), warn or error; SIGHUP rereads it.
	LogLevel loglevel.Level `yaml:"log_level"`
}

// GPS is the receiver's serial port.
type GPS struct {
	Port string `yaml:"port"`
	Baud Baud   `yaml:"baud"`
}

// Baud is a serial rate, or auto (0) to find the receiver's rate.
type Baud int

// UnmarshalText accepts auto or one of the standard NMEA rates.
func (b *Baud) UnmarshalText(t []byte) error {
	n, err := gps.ParseBaud(string(t))
	if err != nil {
		return err
	}
	*b = Baud(n)
	return nil
}

// MQTT says how to reach the broker.
type MQTT struct {
	URLs     []string `yaml:"urls"`
	Username string   `yaml:"username"`
	Password string   `yaml:"password"`
	Prefix   string   `yaml:"prefix"`
	CAFile   string   `yaml:"ca_file"`
	CertFile string   `yaml:"cert_file"`
	KeyFile  string   `yaml:"key_file"`
	// ReconnectMax caps the wait between reconnection attempts, so the
	// live position is back soon after the broker is.
	ReconnectMax Duration `yaml:"reconnect_max"`
}

// Outbox is the store-and-forward queue on disk.
type Outbox struct {
	Path     string   `yaml:"path"`
	MaxFixes int      `yaml:"max_fixes"` // beyond this the oldest are dropped (and counted)
	MaxAge   Duration `yaml:"max_age"`   // older fixes are dropped (and counted)
	// BackfillRate is how many backlog fixes a second are sent after an
	// outage, alongside the live ones; BackfillInflight how many may await
	// the broker's acknowledgement at once.
	BackfillRate     float64 `yaml:"backfill_rate"`
	BackfillInflight int     `yaml:"backfill_inflight"`
}

// Publish throttles what is sent.
type Publish struct {
	Interval    Duration `yaml:"interval"`       // at most one fix per interval
	MinDistance float64  `yaml:"min_distance_m"` // skip fixes closer than this to the last sent, while the interval allows
}

// Quality gates which fixes are accepted.
type Quality struct {
	MinMode  int     `yaml:"min_mode"` // 2 or 3
	MaxHDOP  float64 `yaml:"max_hdop"`
	MaxSpeed float64 `yaml:"max_speed_mps"` // faster (reported, or implied by a jump) is rejected
	MaxJump  float64 `yaml:"max_jump_m"`    // further from the last fix within a second is rejected
	// MaxAge rejects fixes whose time is further than this from the
	// computer's clock (a receiver replaying buffered fixes, a bad date).
	// 0 turns the check off, for computers without a trustworthy clock.
	MaxAge Duration `yaml:"max_fix_age"`
}

// Duration is a time.Duration written as "1s" in YAML.
type Duration = yamlconf.Duration

// DefaultConfig is used for unset fields.
func DefaultConfig() Config {
	return Config{
		GPS:     GPS{Baud: 9600},
		MQTT:    MQTT{URLs: []string{"tcp://127.0.0.1:1883"}, Prefix: wire.DefaultPrefix, ReconnectMax: Duration(time.Second)},
		Publish: Publish{Interval: Duration(time.Second)},
		Quality: Quality{MinMode: 2, MaxHDOP: 20, MaxSpeed: 40, MaxJump: 200, MaxAge: Duration(30 * time.Second)},
		Outbox: Outbox{
			Path: "/var/lib/headway/outbox.db", MaxFixes: 200_000, MaxAge: Duration(48 * time.Hour),
			BackfillRate: 20, BackfillInflight: 20,
		},
	}
}

// LoadConfig reads and validates a vehicle config file.
func LoadConfig(path string) (Config, error) {
	c := DefaultConfig()
	if err := yamlconf.Load(path, &c); err != nil {
		return Config{}, err
	}
	return c, nil
}

// Validate checks every field; errors name the field.
func (c *Config) Validate() error {
	var errs []error
	if err := c.LogLevel.Check(); err != nil {
		errs = append(errs, err)
	}
	if err := wire.ValidID("vehicle", c.Vehicle); err != nil {
		errs = append(errs, fmt.Errorf("vehicle: %w", err))
	}
	if c.GPS.Port == "" {
		errs = append(errs, errors.New("gps.port: is required (e.g. /dev/ttyUSB0)"))
	}
	if _, err := gps.ParseBaud(fmt.Sprint(int(c.GPS.Baud))); err != nil && c.GPS.Baud != gps.Auto {
		errs = append(errs, fmt.Errorf("gps.baud: %w", err))
	}
	if len(c.MQTT.URLs) == 0 {
		errs = append(errs, errors.New("mqtt.urls: at least one broker URL is required"))
	}
	for i, s := range c.MQTT.URLs {
		u, err := url.Parse(s)
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("mqtt.urls[%d]: %w", i, err))
		case u.Scheme != "tcp" && u.Scheme != "ssl" && u.Scheme != "tls" && u.Scheme != "mqtt" && u.Scheme != "mqtts":
			errs = append(errs, fmt.Errorf("mqtt.urls[%d]: scheme %q, want tcp, ssl, tls, mqtt or mqtts", i, u.Scheme))
		case u.Host == "":
			errs = append(errs, fmt.Errorf("mqtt.urls[%d]: no host", i))
		}
	}
	if err := wire.ValidPrefix(c.MQTT.Prefix); err != nil {
		errs = append(errs, fmt.Errorf("mqtt.prefix: %w", err))
	}
	if (c.MQTT.CertFile == "") != (c.MQTT.KeyFile == "") {
		errs = append(errs, errors.New("mqtt.cert_file, mqtt.key_file: give both or neither"))
	}
	if time.Duration(c.Publish.Interval) < 100*time.Millisecond {
		errs = append(errs, fmt.Errorf("publish.interval: %v, want at least 100ms", time.Duration(c.Publish.Interval)))
	}
	if c.Publish.MinDistance < 0 {
		errs = append(errs, errors.New("publish.min_distance_m: must not be negative"))
	}
	if c.Quality.MinMode != 2 && c.Quality.MinMode != 3 {
		errs = append(errs, fmt.Errorf("quality.min_mode: %d, want 2 or 3", c.Quality.MinMode))
	}
	if c.Quality.MaxHDOP <= 0 {
		errs = append(errs, errors.New("quality.max_hdop: must be positive"))
	}
	if c.Quality.MaxSpeed <= 0 || c.Quality.MaxSpeed > 100 {
		errs = append(errs, fmt.Errorf("quality.max_speed_mps: %v, want 0 to 100", c.Quality.MaxSpeed))
	}
	if c.Quality.MaxJump <= 0 {
		errs = append(errs, errors.New("quality.max_jump_m: must be positive"))
	}
	if c.Quality.MaxAge.D() < 0 {
		errs = append(errs, errors.New("quality.max_fix_age: must not be negative (0 turns it off)"))
	}
	if c.MQTT.ReconnectMax.D() < 100*time.Millisecond {
		errs = append(errs, fmt.Errorf("mqtt.reconnect_max: %v, want at least 100ms", c.MQTT.ReconnectMax.D()))
	}
	if c.Outbox.Path == "" {
		errs = append(errs, errors.New("outbox.path: is required (a file on persistent storage)"))
	}
	if c.Outbox.MaxFixes < 1 {
		errs = append(errs, fmt.Errorf("outbox.max_fixes: %d, must be at least 1", c.Outbox.MaxFixes))
	}
	if c.Outbox.MaxAge.D() < time.Minute {
		errs = append(errs, fmt.Errorf("outbox.max_age: %v, want at least 1m", c.Outbox.MaxAge.D()))
	}
	if c.Outbox.BackfillRate <= 0 {
		errs = append(errs, errors.New("outbox.backfill_rate: must be positive"))
	}
	if c.Outbox.BackfillInflight < 1 || c.Outbox.BackfillInflight > 1000 {
		errs = append(errs, fmt.Errorf("outbox.backfill_inflight: %d, want 1 to 1000", c.Outbox.BackfillInflight))
	}
	if c.Trip != "" {
		if err := wire.ValidID("trip", c.Trip); err != nil {
			errs = append(errs, fmt.Errorf("trip: %w", err))
		}
	}
	if c.Listen != "" {
		if _, _, err := net.SplitHostPort(c.Listen); err != nil {
			errs = append(errs, fmt.Errorf("listen: %w", err))
		}
	}
	return errors.Join(errs...)
}
