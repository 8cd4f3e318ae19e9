// Package broker runs the MQTT broker embedded in the hub (mochi-mqtt), so
// a small deployment or the demo needs no separate Mosquitto.
package broker

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"sync/atomic"
	"syscall"
	"time"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/hooks/auth"
	"github.com/mochi-mqtt/server/v2/listeners"
	"github.com/mochi-mqtt/server/v2/packets"

	"github.com/headway-transit/headway/internal/wire"
)

// Broker is a running embedded MQTT broker.
type Broker struct {
	srv      *mqtt.Server
	tcp      *tracked
	done     chan error
	internal User
	closing  *atomic.Bool
	log      *slog.Logger
}

// Credentials are the username and password the hub's own client connects
// with: empty when the broker lets anyone in.
func (b *Broker) Credentials() (username, password string) {
	return b.internal.Username, b.internal.Password
}

// Options configures the embedded broker.
type Options struct {
	// Addr is host:port; port 0 picks a free one.
	Addr string
	// Users are the clients let in, each kept to its role's topics under
	// Topics. With none, any client may connect and publish anything: put
	// the hub behind a firewall.
	Users  []User
	Topics wire.Topics
	Logger *slog.Logger
}

// Start serves MQTT 3.1.1 and 5 on opts.Addr until Close.
func Start(opts Options) (*Broker, error) {
	addr, logger := opts.Addr, opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	closing := new(atomic.Bool)
	srv := mqtt.New(&mqtt.Options{
		// A client retrying a refused login every second must not fill
		// the hub's log: each warning once a minute, with a count. Ended
		// connections are worded and levelled by what ended them.
		Logger: slog.New(&connLog{
			next:    newQuiet(logger.Handler(), time.Minute, time.Now),
			closing: closing,
		}).With("component", "broker"),
		InlineClient:             false,
		Capabilities:             caps(),
		ClientNetWriteBufferSize: 4096,
		ClientNetReadBufferSize:  4096,
	})
	var internal User
	if len(opts.Users) == 0 {
		if err := srv.AddHook(new(auth.AllowHook), nil); err != nil {
			return nil, fmt.Errorf("broker: %w", err)
		}
	} else {
		var err error
		if internal, err = InternalUser(); err != nil {
			return nil, fmt.Errorf("broker: %w", err)
		}
		h, err := newAuthHook(append(slices.Clone(opts.Users), internal), opts.Topics)
		if err != nil {
			return nil, fmt.Errorf("mqtt.users: %w", err)
		}
		if err := srv.AddHook(h, nil); err != nil {
			return nil, fmt.Errorf("broker: %w", err)
		}
	}
	tcp := newTracked(listeners.NewTCP(listeners.Config{ID: "tcp", Address: addr}))
	if err := srv.AddListener(tcp); err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			return nil, fmt.Errorf("mqtt.listen %s is in use (another MQTT broker, such as a system Mosquitto?): "+
				"set mqtt.listen to a free port, or set mqtt.url to use that broker: %w", addr, err)
		}
		return nil, fmt.Errorf("broker listen %s: %w", addr, err)
	}
	b := &Broker{srv: srv, tcp: tcp, done: make(chan error, 1), internal: internal, closing: closing, log: logger.With("component", "broker")}
	if len(opts.Users) == 0 && !loopback(b.Addr()) {
		logger.Warn("embedded broker accepts any client on "+shownAddr(addr, b.Addr())+
			": set mqtt.users (hash passwords with hub passwd) or listen on 127.0.0.1", "component", "broker")
	}
	go func() { b.done <- srv.Serve() }()
	return b, nil
}

// shownAddr is the address as configured, with the port really bound:
// 0.0.0.0 binds every interface, IPv6 too, and the listener then calls
// itself [::], which is not what the operator wrote.
func shownAddr(configured, bound string) string {
	host, _, err1 := net.SplitHostPort(configured)
	_, port, err2 := net.SplitHostPort(bound)
	if err1 != nil || err2 != nil {
		return bound
	}
	return net.JoinHostPort(host, port)
}

// loopback reports whether the listener's bound address (an IP, not a
// name) is reachable from this machine only.
func loopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func caps() *mqtt.Capabilities {
	c := mqtt.NewDefaultServerCapabilities()
	// Bound what one client can make the broker hold.
	c.MaximumMessageExpiryInterval = 24 * 60 * 60
	c.MaximumPacketSize = 256 << 10
	return c
}

// Addr is the address the broker listens on (with the real port).
func (b *Broker) Addr() string { return b.tcp.Address() }

// URL is the tcp:// URL clients use to reach the broker.
func (b *Broker) URL() string { return "tcp://" + b.Addr() }

// Clients returns how many clients are connected.
func (b *Broker) Clients() int64 { return atomic.LoadInt64(&b.srv.Info.ClientsConnected) }

// Close stops the broker and disconnects every client.
func (b *Broker) Close() error {
	b.closing.Store(true)
	// The listener first, listing its clients under one lock (see tracked),
	// then the server once no connection is being served.
	if !b.tcp.shutdown(func(id string) {
		for _, cl := range b.srv.Clients.GetAll() {
			if cl.Net.Listener == id && !cl.Closed() {
				_ = b.srv.DisconnectClient(cl, packets.ErrServerShuttingDown)
			}
		}
	}, 10*time.Second) {
		b.log.Warn("client connections still open 10 s after closing; stopping anyway")
	}
	return b.srv.Close()
}
