// Package config is the hub's typed configuration, loaded strictly from YAML
// (see configs/hub.yaml for the commented example).
package config

import (
	"errors"
	"fmt"
	"github.com/headway-transit/headway/hub/internal/alerts"
	"github.com/headway-transit/headway/hub/internal/avlfeed"
	"github.com/headway-transit/headway/hub/internal/feedpoll"
	"github.com/headway-transit/headway/hub/internal/tufeed"
	"io/fs"
	"maps"
	"net"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/headway-transit/headway/hub/internal/broker"
	"github.com/headway-transit/headway/hub/internal/operators"
	"github.com/headway-transit/headway/internal/loglevel"
	"github.com/headway-transit/headway/internal/wire"
	"github.com/headway-transit/headway/internal/yamlconf"
)

// Config is the whole hub configuration.
type Config struct {
	// GTFS is the schedule: a .zip file or a folder.
	GTFS string `yaml:"gtfs"`
	// LogLevel: debug, info (default), warn or error; SIGHUP rereads it.
	LogLevel loglevel.Level `yaml:"log_level"`
	// State is the file the learned model is kept in between runs (saved
	// every StateEvery and at shutdown, loaded at start). Empty: the hub
	// learns afresh at each start.
	State      string   `yaml:"state"`
	StateEvery Duration `yaml:"state_every"`
	HTTP       HTTP     `yaml:"http"`
	MQTT       MQTT     `yaml:"mqtt"`
	// Vehicles assigns trips to vehicles that report none, by vehicle id.
	Vehicles map[string]VehicleAssignment `yaml:"vehicles"`
	Boards   Boards                       `yaml:"boards"`
	Tracking Tracking                     `yaml:"tracking"`
	// Cluster joins this hub to others: their embedded brokers form one
	// NATS cluster, so a bus or sign may use any hub.
	Cluster Cluster `yaml:"cluster"`
	// TLS is the certificate the hub's listeners present: HTTP and
	// WebSocket (https, wss) and the embedded MQTT broker (mqtts).
	TLS TLS `yaml:"tls"`
	// Feeds are the agency's own realtime feeds the hub takes in.
	Feeds Feeds `yaml:"feeds"`
	// Alerts configures the service alerts operators write.
	Alerts Alerts `yaml:"alerts"`
	// Trouble says when something is listed for operators (/api/trouble,
	// headway_trouble).
	Trouble Trouble `yaml:"trouble"`
	// Fleet: the versions the operators want the agents to run. The hub
	// tells the buses (retained MQTT) and the signs (WebSocket), and the
	// dashboard and /api/fleet list who runs another. SIGHUP rereads it.
	Fleet Fleet `yaml:"fleet"`
}

// Fleet is hub.yaml fleet:; an empty version asks nothing of that role.
type Fleet struct {
	VehicleVersion string `yaml:"vehicle_version"`
	StationVersion string `yaml:"station_version"`
}

// Trouble holds the thresholds of /api/trouble.
type Trouble struct {
	SilentAfter   Duration `yaml:"silent_after"`   // a bus online with no fix this long
	SignCacheAge  Duration `yaml:"sign_cache_age"` // a connected sign whose cache is older
	AccuracyFloor float64  `yaml:"accuracy_floor"` // a route under this in-band percent over an hour
	MinScored     int      `yaml:"min_scored"`     // ... with at least this many predictions scored
}

// Alerts configures the operators' service alerts.
type Alerts struct {
	// File keeps the alerts operators write (dashboard, POST /api/alerts)
	// across restarts; empty: in memory only.
	File string `yaml:"file"`
}

// Feeds are realtime feeds from the agency's own systems.
type Feeds struct {
	// Vehicles are feeds of vehicle positions from an AVL system: their
	// buses are tracked and predicted like those running Headway's agent.
	Vehicles []VehicleFeed `yaml:"vehicles"`
	// Alerts are GTFS-Realtime ServiceAlerts feeds: their alerts go to
	// the signs of the stops they concern.
	Alerts []AlertFeed `yaml:"alerts"`
	// TripUpdates are the agency's own GTFS-Realtime TripUpdates: their
	// cancellations and skipped stops leave the boards, their predictions
	// show for trip runs the hub tracks no bus on.
	TripUpdates []TripUpdatesFeed `yaml:"trip_updates"`
}

// TripUpdatesFeed is one GTFS-Realtime TripUpdates feed.
type TripUpdatesFeed struct {
	Name    string            `yaml:"name"`
	URL     string            `yaml:"url"`
	File    string            `yaml:"file"`
	Every   Duration          `yaml:"every"`   // default 30s
	Timeout Duration          `yaml:"timeout"` // default 10s
	Headers map[string]string `yaml:"headers"`
	// VehiclePrefix as for the same agency's vehicle feed, so that its
	// vehicles have one name.
	VehiclePrefix string `yaml:"vehicle_prefix"`
	MaxBytes      int64  `yaml:"max_bytes"` // default 32 MiB
}

// Source is f with its defaults, as package tufeed takes it.
func (f TripUpdatesFeed) Source() tufeed.Config {
	c := tufeed.Config{Config: feedpoll.Config{Name: f.Name, URL: f.URL, File: f.File, Every: f.Every.D(), Timeout: f.Timeout.D(),
		Headers: f.Headers, MaxBytes: f.MaxBytes}, VehiclePrefix: f.VehiclePrefix}
	if c.Every == 0 {
		c.Every = 30 * time.Second
	}
	if c.Timeout == 0 {
		c.Timeout = 10 * time.Second
	}
	if c.MaxBytes == 0 {
		c.MaxBytes = 32 << 20
	}
	return c
}

// AlertFeed is one GTFS-Realtime ServiceAlerts feed.
type AlertFeed struct {
	Name    string            `yaml:"name"`
	URL     string            `yaml:"url"`
	File    string            `yaml:"file"`
	Every   Duration          `yaml:"every"`   // default 60s
	Timeout Duration          `yaml:"timeout"` // default 10s
	Headers map[string]string `yaml:"headers"`
	// Language picks the translation the signs show (e.g. en); default
	// the untagged one, else the first.
	Language string `yaml:"language"`
	MaxBytes int64  `yaml:"max_bytes"` // default 8 MiB
}

// Source is f with its defaults, as package alerts takes it.
func (f AlertFeed) Source() alerts.FeedConfig {
	c := alerts.FeedConfig{Config: feedpoll.Config{Name: f.Name, URL: f.URL, File: f.File, Every: f.Every.D(), Timeout: f.Timeout.D(),
		Headers: f.Headers, MaxBytes: f.MaxBytes}, Language: f.Language}
	if c.Every == 0 {
		c.Every = time.Minute
	}
	if c.Timeout == 0 {
		c.Timeout = 10 * time.Second
	}
	if c.MaxBytes == 0 {
		c.MaxBytes = 8 << 20
	}
	return c
}

// VehicleFeed is one feed of vehicle positions (README, "Buses from the
// agency's own AVL").
type VehicleFeed struct {
	// Name names the feed in /metrics, /api/feeds and the logs.
	Name string `yaml:"name"`
	// URL is polled (http or https); or File, read again when it changes.
	URL  string `yaml:"url"`
	File string `yaml:"file"`
	// Format is gtfs-rt (GTFS-Realtime VehiclePositions, the default) or
	// siri-vm (SIRI Vehicle Monitoring XML).
	Format string `yaml:"format"`
	// Every is the poll interval (default 15s), Timeout a request's
	// (default 10s).
	Every   Duration `yaml:"every"`
	Timeout Duration `yaml:"timeout"`
	// Headers go with every request, for example an API key. With any
	// set, hub.yaml must be readable by its owner alone.
	Headers map[string]string `yaml:"headers"`
	// VehiclePrefix is put before the feed's vehicle ids, so that they
	// cannot clash with Headway's own buses or another feed's.
	VehiclePrefix string `yaml:"vehicle_prefix"`
	// MaxAge: positions older than this are stale, and a feed whose own
	// timestamp is older is flagged (default 5m).
	MaxAge Duration `yaml:"max_age"`
	// MaxBytes refuses larger documents (default 32 MiB).
	MaxBytes int64 `yaml:"max_bytes"`
}

// feedField is one feed as Secrets sees it.
type feedField struct {
	field   string
	headers bool
}

func (fs Feeds) fields() []feedField {
	var out []feedField
	for i, f := range fs.Vehicles {
		out = append(out, feedField{fmt.Sprintf("feeds.vehicles[%d]", i), len(f.Headers) > 0})
	}
	for i, f := range fs.TripUpdates {
		out = append(out, feedField{fmt.Sprintf("feeds.trip_updates[%d]", i), len(f.Headers) > 0})
	}
	for i, f := range fs.Alerts {
		out = append(out, feedField{fmt.Sprintf("feeds.alerts[%d]", i), len(f.Headers) > 0})
	}
	return out
}

// Source is f with its defaults, as avlfeed takes it.
func (f VehicleFeed) Source() avlfeed.Config {
	def := func(d Duration, v time.Duration) time.Duration {
		if d == 0 {
			return v
		}
		return d.D()
	}
	mb := f.MaxBytes
	if mb == 0 {
		mb = 32 << 20
	}
	return avlfeed.Config{
		Name: f.Name, URL: f.URL, File: f.File, Format: f.Format,
		Every: def(f.Every, 15*time.Second), Timeout: def(f.Timeout, 10*time.Second),
		Headers: f.Headers, Prefix: f.VehiclePrefix,
		MaxAge: def(f.MaxAge, 5*time.Minute), MaxBytes: mb,
	}
}

func (fs Feeds) check() []error {
	var errs []error
	names := map[string]bool{alerts.Operator: true} // the operators' alerts' source
	one := func(field, name, file string, check error) {
		if err := wire.ValidID("feed", name); err != nil {
			errs = append(errs, fmt.Errorf("%s.name: %w", field, err))
		} else if names[name] {
			errs = append(errs, fmt.Errorf("%s.name: %q given twice (or the operators' own)", field, name))
		}
		names[name] = true
		if check != nil {
			errs = append(errs, fmt.Errorf("%s: %w", field, check))
		}
		if file != "" {
			if err := checkPath(file); err != nil {
				errs = append(errs, fmt.Errorf("%s.file: %w", field, err))
			}
		}
	}
	for i, f := range fs.Vehicles {
		one(fmt.Sprintf("feeds.vehicles[%d]", i), f.Name, f.File, f.Source().Check())
	}
	for i, f := range fs.TripUpdates {
		one(fmt.Sprintf("feeds.trip_updates[%d]", i), f.Name, f.File, f.Source().Check())
	}
	for i, f := range fs.Alerts {
		one(fmt.Sprintf("feeds.alerts[%d]", i), f.Name, f.File, f.Source().Check())
	}
	return errs
}

// TLS names the PEM files of the hub's certificate. They are read again
// when they change and on SIGHUP, without dropping a connection.
type TLS struct {
	Cert string `yaml:"cert"`
	Key  string `yaml:"key"`
	// ClientCA, when set, verifies the client certificates buses and
	// signs may present: one it did not sign is refused.
	ClientCA string `yaml:"client_ca"`
}

// Secrets names the fields of c that hold secrets: the file must then be
// its owner's alone (yamlconf.CheckPrivate).
func (c Config) Secrets() []string {
	var out []string
	if c.MQTT.Password != "" {
		out = append(out, "mqtt.password")
	}
	for i, u := range c.MQTT.Users {
		if u.Password != "" {
			out = append(out, fmt.Sprintf("mqtt.users[%d].password", i))
		}
	}
	if c.Cluster.Secret != "" {
		out = append(out, "cluster.secret")
	}
	for _, f := range c.Feeds.fields() {
		if f.headers {
			out = append(out, f.field+".headers")
		}
	}
	return out
}

// On reports whether the listeners speak TLS.
func (t TLS) On() bool { return t.Cert != "" || t.Key != "" }

// Cluster places the hub in a cluster of hubs (see README, "Three hubs").
type Cluster struct {
	// Name is the cluster's name, the same on every hub. Empty: no cluster.
	Name string `yaml:"name"`
	// Node is this hub's name, different on every hub.
	Node string `yaml:"node"`
	// Listen is where the other hubs' brokers connect to this one's.
	Listen string `yaml:"listen"`
	// Routes are the hubs' route addresses, nats-route://host:port; the
	// same list on every hub (this hub's own is skipped).
	Routes []string `yaml:"routes"`
	// Secret, the same on every hub, lets a hub's broker route to the
	// others: 16 characters at least (openssl rand -hex 24).
	Secret string `yaml:"secret"`
	// CA, when set, puts the routes on TLS: each hub presents its
	// tls.cert (which needs the serverAuth and clientAuth key usages and
	// the name the others dial it by) and verifies the other's against
	// this CA, both ways.
	CA string `yaml:"ca"`
	// Plain lets routes be plain text on a cluster.listen other than
	// loopback, with no ca: only on a private network.
	Plain bool `yaml:"plain"`
	// NATS lists an external NATS cluster's client URLs (nats://host:4222)
	// when the hubs use one (mqtt.url its MQTT listener) instead of their
	// embedded brokers: then there is no listen, routes or secret, and the
	// hubs log in with mqtt.username and mqtt.password.
	NATS []string `yaml:"nats"`
	// Partitions the vehicles are shared out in among the hubs online, each
	// vehicle tracked by one hub (default 12; the same on every hub). -1:
	// every hub tracks every vehicle.
	Partitions int `yaml:"partitions"`
}

// Clustered reports whether the hub is one of a cluster.
func (c Cluster) Clustered() bool { return c.Name != "" }

// External reports whether the cluster's hubs use an external NATS cluster
// rather than their embedded brokers.
func (c Cluster) External() bool { return c.Clustered() && len(c.NATS) > 0 }

// HTTP configures the hub's web server (WebSocket, API, dashboard, metrics).
type HTTP struct {
	Listen string `yaml:"listen"`
	// AllowedOrigins lists the Origin values browsers may open /ws from, in
	// addition to same-host pages. Signs run the agent, which sends no
	// Origin, and are always allowed.
	AllowedOrigins []string `yaml:"allowed_origins"`
	// MaxSigns caps the open sign connections on /ws; more are refused
	// with 503 until some close (default 20000).
	MaxSigns int `yaml:"max_signs"`
	// Plain lets the hub serve plain text on an address other than
	// loopback with no tls: (behind a proxy that speaks TLS for it).
	Plain bool `yaml:"plain"`
	// Signs is the register of signs (hub signs add|list|revoke): when
	// set, /ws takes only a sign with its own token, showing its own
	// stops. Empty: any sign may connect.
	Signs string `yaml:"signs"`
	// Operators may sign in to the dashboard and the API that shows the
	// fleet and the displays. With none, those are open on a hub that
	// listens on loopback only, and closed otherwise.
	Operators []Operator `yaml:"operators"`
	// RateLimit bounds each client's requests to the public endpoints.
	RateLimit RateLimit `yaml:"rate_limit"`
	// TrustedProxies are the reverse proxies (addresses or CIDR blocks)
	// whose X-Forwarded-For header names the client for the rate limit.
	TrustedProxies []string `yaml:"trusted_proxies"`
	// MapTiles is the agency's own map tile server, drawn under the
	// dashboard's network map: a URL template with {z}, {x} and {y}
	// (Web Mercator, 256-pixel tiles). Empty: the map has no background.
	MapTiles string `yaml:"map_tiles"`
}

// Operator is one person who may sign in to the dashboard.
type Operator struct {
	Username string `yaml:"username"`
	// PasswordHash is the bcrypt hash of the password (hub passwd).
	PasswordHash string `yaml:"password_hash"`
}

// RateLimit is how many requests a client (one address; an IPv6 /64) may
// make to a stop's board, GTFS-Realtime and the signs' WebSocket.
type RateLimit struct {
	// PerSecond on average; 0 turns the limit off.
	PerSecond float64 `yaml:"per_second"`
	// Burst at once.
	Burst int `yaml:"burst"`
	// Exempt addresses or CIDR blocks are not limited (default: this
	// machine itself, 127.0.0.0/8 and ::1).
	Exempt []string `yaml:"exempt"`
}

// Prefixes reads addresses and CIDR blocks.
func Prefixes(field string, in []string) ([]netip.Prefix, error) {
	out := make([]netip.Prefix, 0, len(in))
	for i, s := range in {
		if p, err := netip.ParsePrefix(s); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(s)
		if err != nil {
			return nil, fmt.Errorf("%s[%d]: %q is neither an address nor a CIDR block", field, i, s)
		}
		out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
	}
	return out, nil
}

// OperatorsOpen reports whether the dashboard and private API are open
// with no sign-in: no operators, and listening on loopback only.
func (c Config) OperatorsOpen() bool {
	return len(c.HTTP.Operators) == 0 && loopback(c.HTTP.Listen)
}

// MQTT chooses between the embedded broker and an external one.
type MQTT struct {
	// Listen is the embedded broker's address. Used when URL is empty.
	Listen string `yaml:"listen"`
	// Store is the folder the embedded broker (nats-server) keeps its
	// JetStream files in: sessions, retained boards and QoS 1 messages not
	// yet delivered. Empty: "broker" beside the state file when state is
	// set, else a temporary folder lost when the hub stops.
	Store string `yaml:"store"`
	// URL of an external broker (tcp://host:1883, ssl://host:8883). When set,
	// no broker is embedded.
	URL string `yaml:"url"`
	// URLs are more external brokers, tried in turn after URL: the nodes
	// of a NATS (or EMQX) cluster, so the hub moves on when one dies.
	URLs     []string `yaml:"urls"`
	Username string   `yaml:"username"`
	Password string   `yaml:"password"`
	// Users are the clients the embedded broker lets in, each kept to its
	// role's topics (see broker.Role*). With none, anyone may connect.
	Users []MQTTUser `yaml:"users"`
	// Vehicles is the register of buses on the embedded broker (hub
	// vehicles add|list|revoke): each with its own password, kept to its
	// own topics. Read again when it changes and on SIGHUP.
	Vehicles string `yaml:"vehicles"`
	// Plain lets the embedded broker listen in plain text on an address
	// other than loopback with no tls:.
	Plain    bool   `yaml:"plain"`
	ClientID string `yaml:"client_id"`
	Prefix   string `yaml:"prefix"`
	// Queue bounds how many received messages wait for the tracker; beyond
	// it messages are dropped and counted, never blocking the MQTT client.
	Queue int `yaml:"queue"`
}

// MQTTUser is one account on the embedded broker.
type MQTTUser struct {
	Username string `yaml:"username"`
	// Password, or better PasswordHash (bcrypt, from `hub passwd`).
	Password     string `yaml:"password"`
	PasswordHash string `yaml:"password_hash"`
	Role         string `yaml:"role"` // vehicle (default), reader or admin
}

// BrokerUser is u as the embedded broker takes it.
func (u MQTTUser) BrokerUser() broker.User {
	return broker.User{Username: u.Username, Password: u.Password, PasswordHash: u.PasswordHash, Role: u.Role}
}

// VehicleAssignment pins a vehicle to a trip, or to a block (then its trip
// is chosen among the block's by position and time).
type VehicleAssignment struct {
	Trip  string `yaml:"trip"`
	Block string `yaml:"block"`
}

// Boards tunes the arrival boards pushed to signs.
type Boards struct {
	Horizon Duration `yaml:"horizon"`  // how far ahead a board looks
	MaxRows int      `yaml:"max_rows"` // arrivals per board
	Refresh Duration `yaml:"refresh"`  // rebuild period for schedule-only changes
}

// Tracking tunes vehicle tracking.
type Tracking struct {
	// MaxOffRoute is how far from its trip's shape a position may be and
	// still count as on the trip, in metres.
	MaxOffRoute float64 `yaml:"max_off_route_m"`
	// Stale is how long after its last fix a vehicle stops feeding predictions.
	Stale Duration `yaml:"stale"`
	// MaxFuture rejects fixes stamped further than this ahead of the hub's clock.
	MaxFuture Duration `yaml:"max_future"`
	// MaxStand is how long a vehicle may stand still mid-trip and still
	// feed predictions; its trip is then scheduled until it moves.
	MaxStand Duration `yaml:"max_stand"`
	// TerminalLead is how long before its departure a vehicle waiting at
	// its trip's first stop starts to feed predictions; before that the
	// signs show the trip as scheduled, with the bus at the terminal.
	TerminalLead Duration `yaml:"terminal_lead"`
	// Settle is how long a newly tracked vehicle whose inferred trip is a
	// guess (another block's trip fits it about as well) feeds no
	// predictions; its trip stays scheduled on the signs meanwhile.
	Settle Duration `yaml:"settle"`
	// MissedAfter is how long past its departure a trip with no vehicle
	// tracked on it is labelled on the boards as having no bus.
	MissedAfter Duration `yaml:"missed_after"`
}

// Duration is a time.Duration written as "90s" in YAML.
type Duration = yamlconf.Duration

// Default returns the configuration used for unset fields.
func Default() Config {
	return Config{
		StateEvery: Duration(5 * time.Minute),
		HTTP: HTTP{Listen: "127.0.0.1:8080", MaxSigns: 20000,
			RateLimit: RateLimit{PerSecond: 10, Burst: 40, Exempt: []string{"127.0.0.0/8", "::1"}}},
		MQTT: MQTT{Listen: "127.0.0.1:1883", ClientID: "headway-hub", Prefix: wire.DefaultPrefix, Queue: 4096},
		Boards: Boards{
			Horizon: Duration(90 * time.Minute),
			MaxRows: 20,
			Refresh: Duration(15 * time.Second),
		},
		Trouble: Trouble{SilentAfter: Duration(5 * time.Minute), SignCacheAge: Duration(5 * time.Minute), AccuracyFloor: 70, MinScored: 50},
		Tracking: Tracking{
			MaxOffRoute:  150,
			Stale:        Duration(5 * time.Minute),
			MaxFuture:    Duration(2 * time.Minute),
			MaxStand:     Duration(10 * time.Minute),
			TerminalLead: Duration(5 * time.Minute),
			Settle:       Duration(4 * time.Minute),
			MissedAfter:  Duration(10 * time.Minute),
		},
	}
}

// Load reads and validates the config file at path.
func Load(path string) (Config, error) {
	c := Default()
	if err := yamlconf.Load(path, &c); err != nil {
		return Config{}, err
	}
	return c, nil
}

// loopback reports whether the host of listen (host:port) is this machine
// only.
func loopback(listen string) bool {
	h, _, err := net.SplitHostPort(listen)
	if err != nil {
		return false
	}
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// check reports missing or half-given TLS files.
func (t TLS) check() []error {
	var errs []error
	if (t.Cert == "") != (t.Key == "") {
		errs = append(errs, errors.New("tls: give cert and key together"))
	}
	if t.ClientCA != "" && !t.On() {
		errs = append(errs, errors.New("tls.client_ca: only with tls.cert and tls.key"))
	}
	for _, f := range []struct{ name, path string }{{"tls.cert", t.Cert}, {"tls.key", t.Key}, {"tls.client_ca", t.ClientCA}} {
		if f.path != "" {
			if err := checkPath(f.path); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", f.name, err))
			}
		}
	}
	return errs
}

// checkPath reports a file that is not there now, rather than when the hub
// gets to loading it, and says where a relative path was looked for.
func checkPath(p string) error {
	_, err := os.Stat(p)
	if err == nil {
		return nil
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = fmt.Errorf("%s: %w", p, pe.Err)
	}
	if !filepath.IsAbs(p) {
		if wd, werr := os.Getwd(); werr == nil {
			err = fmt.Errorf("%w (relative to %s, where the hub runs)", err, wd)
		}
	}
	return err
}

// Validate checks every field; errors name the field.
func (c *Config) Validate() error {
	var errs []error
	if err := c.LogLevel.Check(); err != nil {
		errs = append(errs, err)
	}
	for _, v := range []struct{ field, v string }{{"fleet.vehicle_version", c.Fleet.VehicleVersion}, {"fleet.station_version", c.Fleet.StationVersion}} {
		if len(v.v) > wire.MaxIDLen || strings.ContainsFunc(v.v, func(r rune) bool { return r <= ' ' || r >= 0x7f }) {
			errs = append(errs, fmt.Errorf("%s: %q: want a package version such as 1.4.2 (no spaces, at most %d bytes)", v.field, v.v, wire.MaxIDLen))
		}
	}
	if c.GTFS == "" {
		errs = append(errs, errors.New("gtfs: is required (a GTFS .zip or folder)"))
	} else if err := checkPath(c.GTFS); err != nil {
		errs = append(errs, fmt.Errorf("gtfs: %w", err))
	}
	if _, _, err := net.SplitHostPort(c.HTTP.Listen); err != nil {
		errs = append(errs, fmt.Errorf("http.listen: %w", err))
	} else if !c.TLS.On() && !c.HTTP.Plain && !loopback(c.HTTP.Listen) {
		errs = append(errs, fmt.Errorf("http.listen: %s would serve plain text beyond this machine: set tls.cert and tls.key, or http.plain: true behind a TLS proxy", c.HTTP.Listen))
	}
	errs = append(errs, c.TLS.check()...)
	for i, o := range c.HTTP.Operators {
		if err := (operators.User{Username: o.Username, PasswordHash: o.PasswordHash}).Check(); err != nil {
			errs = append(errs, fmt.Errorf("http.operators[%d]: %w", i, err))
		}
	}
	if rl := c.HTTP.RateLimit; rl.PerSecond < 0 || (rl.PerSecond > 0 && rl.Burst < 1) {
		errs = append(errs, fmt.Errorf("http.rate_limit: per_second %v, burst %d: want per_second 0 (off) or more, and burst at least 1", rl.PerSecond, rl.Burst))
	}
	if _, err := Prefixes("http.rate_limit.exempt", c.HTTP.RateLimit.Exempt); err != nil {
		errs = append(errs, err)
	}
	if _, err := Prefixes("http.trusted_proxies", c.HTTP.TrustedProxies); err != nil {
		errs = append(errs, err)
	}
	if t := c.HTTP.MapTiles; t != "" {
		u, err := url.Parse(strings.NewReplacer("{z}", "0", "{x}", "0", "{y}", "0").Replace(t))
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || !strings.Contains(t, "{z}") || !strings.Contains(t, "{x}") || !strings.Contains(t, "{y}") {
			errs = append(errs, fmt.Errorf("http.map_tiles: %q: want an http(s) URL template with {z}, {x} and {y}", t))
		}
	}
	if c.MQTT.URL == "" {
		if len(c.MQTT.URLs) > 0 {
			errs = append(errs, errors.New("mqtt.urls: give the first external broker as mqtt.url, the others here"))
		}
		if _, _, err := net.SplitHostPort(c.MQTT.Listen); err != nil {
			errs = append(errs, fmt.Errorf("mqtt.listen: %w", err))
		} else if !c.TLS.On() && !c.MQTT.Plain && !loopback(c.MQTT.Listen) {
			errs = append(errs, fmt.Errorf("mqtt.listen: %s would take plain text beyond this machine: set tls.cert and tls.key, or mqtt.plain: true", c.MQTT.Listen))
		}
	} else {
		if c.MQTT.Store != "" {
			errs = append(errs, errors.New("mqtt.store: only for the embedded broker, and mqtt.url is set"))
		}
		errs = append(errs, checkBrokerURL("mqtt.url", c.MQTT.URL)...)
		for i, u := range c.MQTT.URLs {
			errs = append(errs, checkBrokerURL(fmt.Sprintf("mqtt.urls[%d]", i), u)...)
		}
	}
	if err := wire.ValidPrefix(c.MQTT.Prefix); err != nil {
		errs = append(errs, fmt.Errorf("mqtt.prefix: %w", err))
	}
	if c.MQTT.ClientID == "" {
		errs = append(errs, errors.New("mqtt.client_id: must not be empty"))
	}
	if c.MQTT.Queue < 1 {
		errs = append(errs, fmt.Errorf("mqtt.queue: %d, must be at least 1", c.MQTT.Queue))
	}
	for _, v := range slices.Sorted(maps.Keys(c.Vehicles)) {
		a := c.Vehicles[v]
		if err := wire.ValidID("vehicle", v); err != nil {
			errs = append(errs, fmt.Errorf("vehicles: %w", err))
		}
		switch {
		case a.Trip != "" && a.Block != "":
			errs = append(errs, fmt.Errorf("vehicles.%s: give trip or block, not both", v))
		case a.Trip == "" && a.Block == "":
			errs = append(errs, fmt.Errorf("vehicles.%s: give a trip or a block", v))
		case a.Trip != "":
			if err := wire.ValidID("trip", a.Trip); err != nil {
				errs = append(errs, fmt.Errorf("vehicles.%s.trip: %w", v, err))
			}
		default:
			if err := wire.ValidID("block", a.Block); err != nil {
				errs = append(errs, fmt.Errorf("vehicles.%s.block: %w", v, err))
			}
		}
	}
	if c.Boards.Horizon.D() < time.Minute || c.Boards.Horizon.D() > 24*time.Hour {
		errs = append(errs, fmt.Errorf("boards.horizon: %v, want 1m to 24h", c.Boards.Horizon.D()))
	}
	errs = append(errs, c.Cluster.check(c.MQTT.URL, c.TLS.On())...)
	if len(c.MQTT.Users) > 0 && c.MQTT.URL != "" {
		errs = append(errs, errors.New("mqtt.users: only for the embedded broker, and mqtt.url is set: give the users to that broker"))
	}
	if c.MQTT.Vehicles != "" && c.MQTT.URL != "" {
		errs = append(errs, errors.New("mqtt.vehicles: only for the embedded broker, and mqtt.url is set: give the buses' accounts to that broker (README, Deploying on a public network)"))
	}
	seen := map[string]bool{}
	for i, u := range c.MQTT.Users {
		if err := u.BrokerUser().Check(); err != nil {
			errs = append(errs, fmt.Errorf("mqtt.users[%d]: %w", i, err))
		}
		if seen[u.Username] {
			errs = append(errs, fmt.Errorf("mqtt.users[%d]: username %q given twice", i, u.Username))
		}
		seen[u.Username] = true
	}
	errs = append(errs, c.Feeds.check()...)
	if t := c.Trouble; t.SilentAfter.D() < time.Minute || t.SignCacheAge.D() < time.Minute || t.AccuracyFloor <= 0 || t.AccuracyFloor > 100 || t.MinScored < 1 {
		errs = append(errs, fmt.Errorf("trouble: silent_after %v, sign_cache_age %v, accuracy_floor %v, min_scored %d: want at least 1m, 1m, 0 to 100 percent, at least 1",
			t.SilentAfter.D(), t.SignCacheAge.D(), t.AccuracyFloor, t.MinScored))
	}
	if c.StateEvery.D() < time.Second {
		errs = append(errs, fmt.Errorf("state_every: %v, want at least 1s", c.StateEvery.D()))
	}
	if c.HTTP.MaxSigns < 1 {
		errs = append(errs, fmt.Errorf("http.max_signs: %d, want at least 1", c.HTTP.MaxSigns))
	}
	if c.Boards.MaxRows < 1 || c.Boards.MaxRows > 200 {
		errs = append(errs, fmt.Errorf("boards.max_rows: %d, want 1 to 200", c.Boards.MaxRows))
	}
	if c.Boards.Refresh.D() < time.Second {
		errs = append(errs, fmt.Errorf("boards.refresh: %v, want at least 1s", c.Boards.Refresh.D()))
	}
	if c.Tracking.MaxOffRoute <= 0 {
		errs = append(errs, fmt.Errorf("tracking.max_off_route_m: %v, must be positive", c.Tracking.MaxOffRoute))
	}
	if c.Tracking.MaxStand.D() < time.Minute {
		errs = append(errs, fmt.Errorf("tracking.max_stand: %v, want at least 1m (longer than a dwell)", c.Tracking.MaxStand.D()))
	}
	if c.Tracking.Settle.D() <= 0 {
		errs = append(errs, fmt.Errorf("tracking.settle: %v, want a positive duration such as 4m", c.Tracking.Settle.D()))
	}
	if c.Tracking.TerminalLead.D() <= 0 {
		errs = append(errs, fmt.Errorf("tracking.terminal_lead: %v, want a positive duration such as 5m", c.Tracking.TerminalLead.D()))
	}
	if c.Tracking.MissedAfter.D() <= 0 {
		errs = append(errs, fmt.Errorf("tracking.missed_after: %v, want a positive duration such as 10m", c.Tracking.MissedAfter.D()))
	}
	if c.Tracking.Stale.D() <= 0 {
		errs = append(errs, errors.New("tracking.stale: must be positive"))
	}
	if c.Tracking.MaxFuture.D() < 0 {
		errs = append(errs, errors.New("tracking.max_future: must not be negative"))
	}
	return errors.Join(errs...)
}

// External lists the external brokers, url then urls; none when the hub
// embeds its broker.
func (m MQTT) External() []string {
	if m.URL == "" {
		return nil
	}
	return append([]string{m.URL}, m.URLs...)
}

func checkBrokerURL(field, raw string) []error {
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return []error{fmt.Errorf("%s: %w", field, err)}
	case u.Scheme != "tcp" && u.Scheme != "ssl" && u.Scheme != "tls" && u.Scheme != "mqtt" && u.Scheme != "mqtts":
		return []error{fmt.Errorf("%s: scheme %q, want tcp, ssl, tls, mqtt or mqtts", field, u.Scheme)}
	case u.Host == "":
		return []error{fmt.Errorf("%s: no host", field)}
	}
	return nil
}

func (c Cluster) check(external string, tlsOn bool) []error {
	if !c.Clustered() {
		if c.Node != "" || c.Listen != "" || len(c.Routes) > 0 || c.Secret != "" {
			return []error{errors.New("cluster.name: is required for a cluster (the same on every hub)")}
		}
		return nil
	}
	var errs []error
	if err := wire.ValidID("node", c.Node); err != nil {
		errs = append(errs, fmt.Errorf("cluster.node: %w (a name different on every hub)", err))
	}
	if c.Partitions < -1 || c.Partitions > 1024 {
		errs = append(errs, fmt.Errorf("cluster.partitions: %d, want 1 to 1024, or -1 for every hub tracking every vehicle", c.Partitions))
	}
	if external != "" {
		// The hubs on an external NATS cluster.
		if len(c.NATS) == 0 {
			errs = append(errs, errors.New("cluster.nats: with mqtt.url set, list the external NATS cluster's client URLs (nats://host:4222)"))
		}
		for i, r := range c.NATS {
			if u, err := url.Parse(r); err != nil || (u.Scheme != "nats" && u.Scheme != "tls") || u.Port() == "" {
				errs = append(errs, fmt.Errorf("cluster.nats[%d]: %q, want nats://host:port", i, r))
			}
		}
		for _, f := range []struct {
			name string
			set  bool
		}{{"listen", c.Listen != ""}, {"routes", len(c.Routes) > 0}, {"secret", c.Secret != ""}, {"ca", c.CA != ""}} {
			if f.set {
				errs = append(errs, fmt.Errorf("cluster.%s: only for the hubs' embedded brokers, and mqtt.url is set (the external cluster routes itself)", f.name))
			}
		}
		return errs
	}
	if len(c.NATS) > 0 {
		errs = append(errs, errors.New("cluster.nats: only with an external broker (mqtt.url)"))
	}
	if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		errs = append(errs, fmt.Errorf("cluster.listen: %w", err))
	} else if c.CA == "" && !c.Plain && !loopback(c.Listen) {
		errs = append(errs, fmt.Errorf("cluster.listen: %s would route plain text beyond this machine: set cluster.ca (routes on TLS with tls.cert), or cluster.plain: true on a private network", c.Listen))
	}
	if c.CA != "" {
		if !tlsOn {
			errs = append(errs, errors.New("cluster.ca: routes speak TLS with the hub's own certificate: set tls.cert and tls.key"))
		}
		if err := checkPath(c.CA); err != nil {
			errs = append(errs, fmt.Errorf("cluster.ca: %w", err))
		}
	}
	if len(c.Routes) == 0 {
		errs = append(errs, errors.New("cluster.routes: list every hub's route address, nats-route://host:port"))
	}
	for i, r := range c.Routes {
		u, err := url.Parse(r)
		if err != nil || u.Scheme != "nats-route" || u.Port() == "" {
			errs = append(errs, fmt.Errorf("cluster.routes[%d]: %q, want nats-route://host:port", i, r))
		}
	}
	if len(c.Secret) < 16 {
		errs = append(errs, errors.New("cluster.secret: shorter than 16 characters: the same long random string on every hub (openssl rand -hex 24)"))
	}
	return errs
}
