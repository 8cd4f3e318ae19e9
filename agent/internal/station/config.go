package station

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/headway-transit/headway/internal/loglevel"
	"github.com/headway-transit/headway/internal/tlsfiles"
	"github.com/headway-transit/headway/internal/wire"
	"github.com/headway-transit/headway/internal/yamlconf"
)

// Config is the station role's configuration (configs/station.yaml).
type Config struct {
	Display    string        // sign id sent to the hub; required, a wire id
	Stops      []string      // 1..wire.MaxStopsPerSubscribe stop ids, shown in this order
	Hub        []string      // hub WebSocket URLs (ws or wss), tried in order
	Cache      string        // bbolt cache file
	Listen     string        // host:port of the sign page, /board.json, /healthz, /metrics
	Rows       int           // arrivals shown per stop, 1..MaxRows
	Clock      string        // "24h" or "12h"
	StaleAfter time.Duration // data older than this is flagged stale on the sign
	// FallbackAfter: offline for longer than this, the sign adds timetable
	// departures after its last board, labelled as scheduled.
	FallbackAfter time.Duration
	// Timezone is the agency's IANA time zone, in which the sign shows the
	// clock. Empty means the zone the hub reports for its feed (the GTFS
	// agency_timezone), else the machine's own zone.
	Timezone string
	// TLS: for wss hubs, the CA that signed the hub's certificate (empty:
	// the system's roots) and this sign's own certificate, if the hub asks
	// for one.
	TLS TLSFiles
	// Token is the sign's own, from hub signs add, for a hub that
	// registers its signs; sent as Authorization: Bearer. A config file
	// holding one must be readable by its owner only.
	Token string
	// Outputs are hardware signs the station drives besides its page:
	// led, epaper, png (package signout).
	Outputs []OutputConfig
	// PowerFail: the pin that warns of a power cut (none: SIGPWR only).
	PowerFail PowerFailConfig
	// LogLevel: debug, info (default), warn or error.
	LogLevel loglevel.Level
}

// TLSFiles names PEM files.
type TLSFiles struct {
	CA   string `yaml:"ca"`
	Cert string `yaml:"cert"`
	Key  string `yaml:"key"`
}

// Defaults for the optional fields.
const (
	DefaultListen     = "127.0.0.1:8090"
	DefaultRows       = 8
	DefaultClock      = "24h"
	DefaultStaleAfter = 90 * time.Second
	// DefaultFallbackAfter is long enough that a short hub restart never
	// changes what the sign shows, short enough that predictions made before
	// it are not trusted beyond their horizon.
	DefaultFallbackAfter = 10 * time.Minute
)

// MaxRows bounds Rows: no sign shows more, and it bounds /board.json.
const MaxRows = 50

// Clock formats.
const (
	Clock24h = "24h"
	Clock12h = "12h"
)

// DefaultConfig returns a Config with the defaults of the optional fields.
func DefaultConfig() Config {
	return Config{
		Listen:        DefaultListen,
		Rows:          DefaultRows,
		Clock:         DefaultClock,
		StaleAfter:    DefaultStaleAfter,
		FallbackAfter: DefaultFallbackAfter,
	}
}

// LoadConfig reads a station config file strictly (unknown keys are errors),
// applies defaults and validates it. Errors name the file and the field.
func LoadConfig(path string) (Config, error) {
	fc := fileConfig{
		Listen:        DefaultListen,
		Rows:          DefaultRows,
		Clock:         DefaultClock,
		StaleAfter:    DefaultStaleAfter.String(),
		FallbackAfter: DefaultFallbackAfter.String(),
	}
	if err := yamlconf.Load(path, &fc); err != nil {
		return Config{}, err
	}
	if fc.cfg.Token != "" {
		if st, err := os.Stat(path); err == nil && !yamlconf.Private(st) {
			return Config{}, fmt.Errorf("config %s: holds the sign's token and others may read it (mode %04o): chmod 600 %s (or, owned by root for a service's group, chmod 640)", path, st.Mode().Perm(), path)
		}
	}
	return fc.cfg, nil
}

// fileConfig is the YAML shape. Durations are read as strings and parsed in
// Validate, so a bad one is reported with its field name rather than as a
// bare YAML type error.
type fileConfig struct {
	Display       string   `yaml:"display"`
	Stops         []string `yaml:"stops"`
	Hub           []string `yaml:"hub"`
	Cache         string   `yaml:"cache"`
	Listen        string   `yaml:"listen"`
	Rows          int      `yaml:"rows"`
	Clock         string   `yaml:"clock"`
	StaleAfter    string   `yaml:"stale_after"`
	FallbackAfter string   `yaml:"fallback_after"`
	Timezone      string   `yaml:"timezone"`
	TLS           TLSFiles `yaml:"tls"`
	Token         string   `yaml:"token"`
	// Outputs: hardware sign outputs (the key display: is the sign's id).
	Outputs   []OutputConfig  `yaml:"outputs"`
	PowerFail PowerFailConfig `yaml:"power_fail"`
	LogLevel  loglevel.Level  `yaml:"log_level"`

	cfg Config // the result, set by Validate
}

func (fc *fileConfig) Validate() error {
	var errs []error
	stale, staleErr := time.ParseDuration(fc.StaleAfter)
	if staleErr != nil {
		errs = append(errs, fmt.Errorf("stale_after: %q is not a duration (write it like 90s or 2m)", fc.StaleAfter))
	}
	fallback, fallbackErr := time.ParseDuration(fc.FallbackAfter)
	if fallbackErr != nil {
		errs = append(errs, fmt.Errorf("fallback_after: %q is not a duration (write it like 10m or 15m)", fc.FallbackAfter))
	}
	// Stand-ins for the durations that did not parse, chosen to pass the
	// checks below, so the rest of the file is still checked and nothing is
	// reported twice.
	switch {
	case staleErr != nil && fallbackErr == nil && fallback > 0:
		stale = min(DefaultStaleAfter, fallback)
	case staleErr != nil:
		stale = DefaultStaleAfter
	}
	if fallbackErr != nil {
		fallback = max(DefaultFallbackAfter, stale)
	}
	cfg := Config{
		Display:       fc.Display,
		Stops:         fc.Stops,
		Hub:           fc.Hub,
		Cache:         fc.Cache,
		Listen:        fc.Listen,
		Rows:          fc.Rows,
		Clock:         fc.Clock,
		StaleAfter:    stale,
		FallbackAfter: fallback,
		Timezone:      fc.Timezone,
		TLS:           fc.TLS,
		Token:         fc.Token,
		Outputs:       fc.Outputs,
		PowerFail:     fc.PowerFail,
		LogLevel:      fc.LogLevel,
	}
	if len(cfg.Outputs) == 0 {
		cfg.Outputs = nil // outputs: [] is none
	}
	if err := cfg.Validate(); err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	fc.cfg = cfg
	return nil
}

// Validate checks every field and reports every problem at once; errors
// name the field as it is spelled in the YAML file.
func (c *Config) Validate() error {
	var errs []error
	for i, o := range c.Outputs {
		if err := o.Check(); err != nil {
			errs = append(errs, fmt.Errorf("outputs[%d]: %w", i, err))
		}
	}
	if err := c.LogLevel.Check(); err != nil {
		errs = append(errs, err)
	}
	if err := c.PowerFail.Check(); err != nil {
		errs = append(errs, err)
	}
	if c.Display == "" {
		errs = append(errs, errors.New("display: is required (the sign's id, e.g. sign-42)"))
	} else if err := wire.ValidID("display", c.Display); err != nil {
		errs = append(errs, fmt.Errorf("display: %w", err))
	}
	if len(c.Stops) == 0 {
		errs = append(errs, errors.New("stops: at least one stop id is required"))
	}
	if len(c.Stops) > wire.MaxStopsPerSubscribe {
		errs = append(errs, fmt.Errorf("stops: %d stops, at most %d", len(c.Stops), wire.MaxStopsPerSubscribe))
	}
	for i, s := range c.Stops {
		if err := wire.ValidID("stop", s); err != nil {
			errs = append(errs, fmt.Errorf("stops[%d]: %w", i, err))
		} else if j := slices.Index(c.Stops, s); j != i {
			errs = append(errs, fmt.Errorf("stops[%d]: %q is listed twice (also stops[%d])", i, s, j))
		}
	}
	if len(c.Hub) == 0 {
		errs = append(errs, errors.New("hub: at least one hub URL is required (e.g. ws://127.0.0.1:8080/ws)"))
	}
	for i, h := range c.Hub {
		u, err := url.Parse(h)
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("hub[%d]: %w", i, err))
		case u.Scheme != "ws" && u.Scheme != "wss":
			errs = append(errs, fmt.Errorf("hub[%d]: %q: scheme must be ws or wss", i, h))
		case u.Host == "":
			errs = append(errs, fmt.Errorf("hub[%d]: %q has no host", i, h))
		}
	}
	if strings.ContainsAny(c.Token, " \t\r\n") {
		errs = append(errs, errors.New("token: has spaces or line breaks: paste it as hub signs add printed it"))
	}
	if c.TLS != (TLSFiles{}) {
		if _, err := tlsfiles.Client(c.TLS.CA, c.TLS.Cert, c.TLS.Key); err != nil {
			errs = append(errs, err)
		}
		if !slices.ContainsFunc(c.Hub, func(h string) bool { return strings.HasPrefix(h, "wss://") }) {
			errs = append(errs, errors.New("tls: set, but no hub is wss://"))
		}
	}
	if c.Cache == "" {
		errs = append(errs, errors.New("cache: is required (path of the sign's cache file, e.g. /var/lib/headway/sign.db)"))
	}
	if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		errs = append(errs, fmt.Errorf("listen: %q: want host:port, e.g. 127.0.0.1:8090", c.Listen))
	}
	if c.Rows < 1 || c.Rows > MaxRows {
		errs = append(errs, fmt.Errorf("rows: %d, want 1 to %d", c.Rows, MaxRows))
	}
	if c.Clock != Clock24h && c.Clock != Clock12h {
		errs = append(errs, fmt.Errorf("clock: %q, want 24h or 12h", c.Clock))
	}
	if c.StaleAfter <= 0 {
		errs = append(errs, fmt.Errorf("stale_after: %v, must be positive", c.StaleAfter))
	} else if c.FallbackAfter < c.StaleAfter {
		errs = append(errs, fmt.Errorf("fallback_after: %v, must be at least stale_after (%v)", c.FallbackAfter, c.StaleAfter))
	}
	if _, err := c.location(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// location returns the zone set by Timezone, or nil when it is not set:
// then the sign shows the zone the hub reports, else the machine's.
func (c *Config) location() (*time.Location, error) {
	if c.Timezone == "" {
		return nil, nil
	}
	// "Local" would silently mean this machine again, and the page's
	// Intl.DateTimeFormat would not know it: only real IANA names.
	if c.Timezone == "Local" || strings.HasPrefix(c.Timezone, "/") {
		return nil, fmt.Errorf("timezone: %q: want an IANA zone name such as Europe/Rome, or leave it out for the agency's zone from the hub", c.Timezone)
	}
	loc, err := time.LoadLocation(c.Timezone)
	if err != nil {
		return nil, fmt.Errorf("timezone: %q is not a known IANA time zone (e.g. Europe/Rome, America/New_York): %w", c.Timezone, err)
	}
	return loc, nil
}

// localZoneName finds the machine's IANA zone name the way the Go runtime
// picks the zone: $TZ, else the /etc/localtime link.
func localZoneName() string {
	if tz, ok := os.LookupEnv("TZ"); ok {
		tz = strings.TrimPrefix(tz, ":")
		if tz == "" {
			return "UTC"
		}
		if _, err := time.LoadLocation(tz); err == nil && !strings.HasPrefix(tz, "/") {
			return tz
		}
		return ""
	}
	target, err := os.Readlink("/etc/localtime")
	if err != nil {
		return ""
	}
	if i := strings.LastIndex(target, "zoneinfo/"); i >= 0 {
		name := target[i+len("zoneinfo/"):]
		if _, err := time.LoadLocation(name); err == nil {
			return name
		}
	}
	return ""
}
