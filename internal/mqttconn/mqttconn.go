// Package mqttconn is the small layer over paho that the hub and the vehicle
// agent share: it declares the few client methods they call (so unit tests
// can pass a fake), builds client options from a typed config, and waits on
// paho tokens without ever blocking past a context.
package mqttconn

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"sync"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/headway-transit/headway/internal/tlsfiles"
)

// Client is the part of paho's mqtt.Client that Headway uses.
type Client interface {
	Connect() mqtt.Token
	Disconnect(quiesce uint)
	Publish(topic string, qos byte, retained bool, payload any) mqtt.Token
	Subscribe(topic string, qos byte, callback mqtt.MessageHandler) mqtt.Token
	IsConnectionOpen() bool
}

// Factory makes a client; production passes NewClient, tests a fake.
type Factory func(*mqtt.ClientOptions) Client

// NewClient is the production Factory.
func NewClient(o *mqtt.ClientOptions) Client { return mqtt.NewClient(o) }

// Config says how to reach a broker.
type Config struct {
	URLs     []string // tried in order; paho fails over between them
	ClientID string
	Username string
	Password string
	// TLS files; all optional. CA verifies the broker; Cert and Key
	// authenticate this client.
	CAFile, CertFile, KeyFile string
	// TLS, when set, is used instead of the files (the hub's own client
	// of its embedded broker pins the hub's certificate).
	TLS *tls.Config
	// CleanSession false keeps subscriptions and QoS 1 messages queued at
	// the broker while this client is away.
	CleanSession bool
	KeepAlive    time.Duration
	// WriteTimeout bounds how long a publish or subscribe call may wait to
	// be handed to the connection (0: 10 s). paho waits that long when the
	// connection broke a moment before the call; a caller that must not
	// stall (a vehicle agent reading its receiver) sets it short.
	WriteTimeout time.Duration
	// ReconnectMax caps the reconnect backoff; 0 means MaxReconnect.
	ReconnectMax time.Duration
	// Logger, when set, is told why connecting fails (a refused password,
	// an unreachable broker): once when it starts failing or the reason
	// changes, then at most every FailLogEvery while it goes on.
	Logger *slog.Logger
}

// DefaultKeepAlive is Config.KeepAlive when unset.
const DefaultKeepAlive = 5 * time.Second

// FailLogEvery is how often an unchanged connection failure is logged again.
const FailLogEvery = time.Minute

// Options builds paho client options from c. Reconnection is automatic with
// backoff up to MaxReconnect; the caller adds handlers and a will.
func (c Config) Options() (*mqtt.ClientOptions, error) {
	if len(c.URLs) == 0 {
		return nil, errors.New("mqtt: no broker URL")
	}
	o := mqtt.NewClientOptions()
	for _, u := range c.URLs {
		o.AddBroker(u)
	}
	// MQTT 3.1.1, the v1 contract's protocol. Left to choose, paho retries
	// a refused login with MQTT 3.1, which nats-server closes without an
	// answer: the broker's "not authorized" would be lost from the log.
	o.SetProtocolVersion(4)
	o.SetClientID(c.ClientID)
	o.SetUsername(c.Username)
	o.SetPassword(c.Password)
	o.SetCleanSession(c.CleanSession)
	// A broker hung or cut off without closing the connection (a machine
	// gone) is left, for the next URL, within KeepAlive plus PingTimeout
	// of its last word: 10 s by default. paho pings only when nothing came
	// for KeepAlive, so a bus publishing every second adds no pings.
	ka := c.KeepAlive
	if ka == 0 {
		ka = DefaultKeepAlive
	}
	o.SetKeepAlive(ka)
	o.SetPingTimeout(min(ka, 10*time.Second))
	o.SetConnectTimeout(10 * time.Second)
	wt := c.WriteTimeout
	if wt <= 0 {
		wt = 10 * time.Second
	}
	o.SetWriteTimeout(wt)
	o.SetAutoReconnect(true)
	o.SetConnectRetry(true)
	rm := c.ReconnectMax
	if rm <= 0 {
		rm = MaxReconnect
	}
	o.SetMaxReconnectInterval(rm)
	o.SetConnectRetryInterval(min(time.Second, rm))
	// After a connection is lost, try the broker it was on last: one hung
	// or cut off (the reason most connections are lost without a close)
	// still accepts TCP connections in its kernel, and paho would wait
	// ConnectTimeout on it before each try of the next URL.
	var mu sync.Mutex
	var tried *url.URL
	o.SetConnectionAttemptHandler(func(broker *url.URL, tc *tls.Config) *tls.Config {
		mu.Lock()
		tried = broker
		mu.Unlock()
		return tc
	})
	o.SetReconnectingHandler(func(_ mqtt.Client, co *mqtt.ClientOptions) {
		mu.Lock()
		defer mu.Unlock()
		co.Servers = lastTried(co.Servers, tried)
	})
	if c.Logger != nil {
		o.SetConnectionNotificationHandler(failureLogger(c.Logger))
	}
	// In order: a vehicle's fixes must reach the hub's queue in the order
	// they arrived. Handlers therefore must never block (they only copy
	// into bounded queues).
	o.SetOrderMatters(true)
	if c.TLS != nil {
		o.SetTLSConfig(c.TLS)
	} else if c.CAFile != "" || c.CertFile != "" || c.KeyFile != "" {
		t, err := c.tlsConfig()
		if err != nil {
			return nil, err
		}
		o.SetTLSConfig(t)
	}
	return o, nil
}

// lastTried moves last to the end of servers.
func lastTried(servers []*url.URL, last *url.URL) []*url.URL {
	if last == nil {
		return servers
	}
	i := slices.IndexFunc(servers, func(u *url.URL) bool { return u.String() == last.String() })
	if i < 0 || i == len(servers)-1 {
		return servers
	}
	out := append(slices.Clone(servers[:i]), servers[i+1:]...)
	return append(out, servers[i])
}

// failureLogger logs failed connection attempts without flooding the log:
// paho retries every second or so.
func failureLogger(log *slog.Logger) mqtt.ConnectionNotificationHandler {
	var mu sync.Mutex
	var last string
	var at time.Time
	var n int
	return func(_ mqtt.Client, note mqtt.ConnectionNotification) {
		mu.Lock()
		defer mu.Unlock()
		switch note := note.(type) {
		case mqtt.ConnectionNotificationFailed:
			n++
			reason := note.Reason.Error()
			if reason != last || time.Since(at) >= FailLogEvery {
				log.Warn("mqtt connect failed", "err", reason, "attempts", n)
				last, at = reason, time.Now()
			}
		case mqtt.ConnectionNotificationConnected:
			last, n = "", 0
		}
	}
}

// MaxReconnect is the default cap of the reconnect backoff.
const MaxReconnect = 10 * time.Second

func (c Config) tlsConfig() (*tls.Config, error) {
	t, err := tlsfiles.Client(c.CAFile, c.CertFile, c.KeyFile)
	if err != nil {
		return nil, fmt.Errorf("mqtt %w", err)
	}
	return t, nil
}

// Wait blocks until the token completes or ctx is done.
func Wait(ctx context.Context, t mqtt.Token) error {
	select {
	case <-t.Done():
		return t.Error()
	case <-ctx.Done():
		return ctx.Err()
	}
}
