// Package broker embeds a NATS server (github.com/nats-io/nats-server/v2)
// as the hub's MQTT broker, so a small deployment or the demo needs no
// separate Mosquitto: MQTT 3.1.1 for the vehicles and the hub's own client
// (the topics and payloads of the v1 contract), with sessions, retained
// messages and QoS 1 deliveries kept in JetStream file storage, so they
// outlive a restart of the hub.
//
// Users (users.go) are NATS users allowed MQTT connections only, each kept
// to its role's topics by subject permissions. MQTT topics are NATS
// subjects with '/' for '.' (see subject). The server's log lines reach
// the hub's log worded for an operator and rate limited (log.go).
package broker

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/headway-transit/headway/internal/wire"
)

// Options configures the embedded NATS server.
type Options struct {
	// Addr is the MQTT listener's host:port; port 0 picks a free one.
	Addr string
	// Users are the clients let in, each kept to its role's topics under
	// Topics. With none and no Vehicles, any client may connect and
	// publish anything.
	Users []User
	// Vehicles, when set, lets in the buses of a register (package
	// vehicles), each kept to its own topics, checked at every connect.
	Vehicles Vehicles
	Topics   wire.Topics
	// StoreDir holds JetStream's files (MQTT sessions, retained messages,
	// QoS 1 messages not yet delivered). Empty means a new temporary
	// folder, removed at Close: nothing outlives the process.
	StoreDir string
	// Cluster, when set, joins this server to other hubs' servers: one
	// NATS cluster, JetStream replicated across it.
	Cluster *Cluster
	// TLS, when set, is the MQTT listener's: it then speaks MQTT over
	// TLS only (mqtts, ssl://).
	TLS    *tls.Config
	Logger *slog.Logger
}

// Cluster is this server's place in a cluster of hubs.
type Cluster struct {
	// Name is the cluster's name, the same on every hub.
	Name string
	// Node is this server's name, different on every hub: JetStream
	// places replicas by it.
	Node string
	// Listen is the host:port the other hubs' routes connect to; port 0
	// picks a free one.
	Listen string
	// Routes are other hubs' route addresses (nats-route://host:port); one
	// that is up suffices, the rest are discovered.
	Routes []string
	// Secret, the same on every hub, is what a server must present to
	// route to this one: without it anyone who reaches Listen could join
	// the cluster and read every message. At least minSecret characters.
	Secret string
	// TLS, when set, encrypts the routes both ways and verifies the peer
	// hub's certificate (tlsfiles.Server.Mutual).
	TLS *tls.Config
}

// routeUser is the username hubs' routes present with Cluster.Secret.
const routeUser = "headway-route"

// minSecret is the shortest Cluster.Secret taken.
const minSecret = 16

// Broker is a running embedded NATS server with its MQTT listener.
type Broker struct {
	srv      *server.Server
	addr     string
	internal User
	tempDir  string
	log      *slog.Logger
	tls      bool
	nlog     *natsLog
}

// Refused counts the MQTT logins refused (wrong username or password) and
// the publishes and subscriptions outside a client's role, since Start.
func (b *Broker) Refused() (logins, violations uint64) {
	return b.nlog.refused.Load(), b.nlog.violations.Load()
}

// readyWithin bounds the server's start (JetStream recovers its files
// first: a large store after a crash takes a while).
const readyWithin = 30 * time.Second

// Start runs the server until Close.
func Start(opts Options) (*Broker, error) {
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	logger = logger.With("component", "broker")
	host, port, err := hostPort(opts.Addr)
	if err != nil {
		return nil, err
	}
	b := &Broker{log: logger}
	dir := opts.StoreDir
	if dir == "" {
		if dir, err = os.MkdirTemp("", "headway-nats-"); err != nil {
			return nil, fmt.Errorf("broker store: %w", err)
		}
		b.tempDir = dir
	}
	so := &server.Options{
		ServerName: "headway-hub",
		// No NATS client port: the vehicles speak MQTT, and the hub's own
		// clients connect in process.
		DontListen: true,
		JetStream:  true,
		StoreDir:   dir,
		NoSigs:     true,
		MQTT:       server.MQTTOpts{Host: host, Port: port, TLSConfig: opts.TLS, TLSTimeout: 5},
	}
	b.tls = opts.TLS != nil
	if c := opts.Cluster; c != nil {
		if err := clusterOptions(so, c); err != nil {
			return nil, b.fail(err)
		}
	}
	if len(opts.Users) > 0 || opts.Vehicles != nil {
		if b.internal, err = InternalUser(); err != nil {
			return nil, b.fail(err)
		}
		users, err := natsUsers(append(append([]User(nil), opts.Users...), b.internal), opts.Topics)
		if err != nil {
			return nil, b.fail(fmt.Errorf("mqtt.users: %w", err))
		}
		so.CustomClientAuthentication = newAuthenticator(users, b.internal.Username, opts.Vehicles, opts.Topics)
	}
	srv, err := server.NewServer(so)
	if err != nil {
		return nil, b.fail(fmt.Errorf("broker: %w", err))
	}
	fatal := make(chan string, 1)
	b.nlog = newNATSLog(logger, fatal)
	srv.SetLoggerV2(b.nlog, false, false, false)
	b.srv = srv
	go srv.Start()
	// Ready, or a fatal error (the MQTT port taken), whichever comes first.
	for deadline := time.Now().Add(readyWithin); !srv.ReadyForConnections(50 * time.Millisecond); {
		select {
		case msg := <-fatal:
			srv.Shutdown()
			if strings.Contains(msg, "address already in use") {
				return nil, b.fail(fmt.Errorf("mqtt.listen %s is in use (another MQTT broker, such as a system Mosquitto?): "+
					"set mqtt.listen to a free port, or set mqtt.url to use that broker: %s", opts.Addr, msg))
			}
			return nil, b.fail(fmt.Errorf("broker: %s", msg))
		default:
		}
		if time.Now().After(deadline) {
			srv.Shutdown()
			return nil, b.fail(fmt.Errorf("broker: not ready within %v", readyWithin))
		}
	}
	vz, err := srv.Varz(nil)
	if err != nil {
		b.Close()
		return nil, fmt.Errorf("broker: %w", err)
	}
	b.addr = net.JoinHostPort(host, strconv.Itoa(vz.MQTT.Port))
	if len(opts.Users) == 0 && opts.Vehicles == nil && !loopback(host) {
		logger.Warn("embedded broker accepts any client on " + b.addr +
			": set mqtt.users (hash passwords with hub passwd) or listen on 127.0.0.1")
	}
	return b, nil
}

// fail cleans up after a failed Start.
func (b *Broker) fail(err error) error {
	if b.tempDir != "" {
		os.RemoveAll(b.tempDir)
	}
	return err
}

func hostPort(addr string) (string, int, error) {
	h, p, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, fmt.Errorf("mqtt.listen %q: want host:port: %w", addr, err)
	}
	port, err := strconv.Atoi(p)
	if err != nil || port < 0 || port > 65535 {
		return "", 0, fmt.Errorf("mqtt.listen %q: port %q is not a number from 0 to 65535", addr, p)
	}
	if port == 0 {
		port = -1 // nats-server: a free port
	}
	if h == "" {
		h = "0.0.0.0"
	}
	return h, port, nil
}

func loopback(host string) bool {
	ip := net.ParseIP(host)
	return host == "localhost" || (ip != nil && ip.IsLoopback())
}

// Addr is the MQTT listener's address, with the port really bound.
func (b *Broker) Addr() string { return b.addr }

// URL is the MQTT URL clients connect to.
func (b *Broker) URL() string {
	if b.tls {
		return "ssl://" + b.addr
	}
	return "tcp://" + b.addr
}

// Credentials are the username and password the hub's own client connects
// with: empty when the broker lets anyone in.
func (b *Broker) Credentials() (username, password string) {
	return b.internal.Username, b.internal.Password
}

// Conn is a NATS connection to the server from inside the process, on the
// hub's own account: for JetStream (package partition).
func (b *Broker) Conn(name string) (*nats.Conn, error) {
	opts := []nats.Option{nats.InProcessServer(b.srv), nats.Name(name), nats.MaxReconnects(-1)}
	if b.internal.Username != "" {
		opts = append(opts, nats.UserInfo(b.internal.Username, b.internal.Password))
	}
	return nats.Connect("", opts...)
}

// JetStream is Conn with its JetStream context; close the connection when
// done.
func (b *Broker) JetStream(name string) (*nats.Conn, jetstream.JetStream, error) {
	nc, err := b.Conn(name)
	if err != nil {
		return nil, nil, err
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return nil, nil, err
	}
	return nc, js, nil
}

// Clients is how many clients are connected.
func (b *Broker) Clients() int64 { return int64(b.srv.NumClients()) }

// Close stops the server, its clients' sessions kept in the store.
func (b *Broker) Close() error {
	b.srv.Shutdown()
	b.srv.WaitForShutdown()
	if b.tempDir != "" {
		return os.RemoveAll(b.tempDir)
	}
	return nil
}
