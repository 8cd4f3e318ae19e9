package mqttout

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/headway-transit/headway/drivers/nmea"
	"github.com/headway-transit/headway/internal/mqttconn"
	"github.com/headway-transit/headway/internal/wire"
)

// Options configure a Publisher.
type Options struct {
	URL    string // tcp://127.0.0.1:1883; several, comma-separated, are tried in turn (a cluster of hubs)
	Prefix string // topic prefix; "" means wire.DefaultPrefix
	// Clients is the number of shared connections; 0 means one per vehicle.
	Clients int
	// ClientID prefixes the client IDs: "ID-VEHICLE" per vehicle, "ID-pool-K"
	// in a pool. Two simulators on one broker need different ones.
	ClientID           string
	Username, Password string
	Version            string // reported in the status messages
	// SendTrip puts the trip being driven in each position, as an agent
	// with its trip set would; otherwise the hub infers it.
	SendTrip bool
	// Queue bounds the acknowledgements awaited per connection; a full
	// queue makes Publish wait. 0 means 10000.
	Queue   int
	Factory mqttconn.Factory // nil means mqttconn.NewClient
	Now     func() time.Time // for status times; nil means time.Now
	Logger  *slog.Logger
}

// Publisher publishes for a fleet of named vehicles.
type Publisher struct {
	opts     Options
	topics   wire.Topics
	vehicles []vehicle
	conns    []*conn
	log      *slog.Logger

	published, failed, skipped atomic.Uint64
}

type vehicle struct {
	name     string
	position string // topic
	status   string // topic
	seq      uint64
	conn     *conn
}

type conn struct {
	client mqttconn.Client
	acks   chan sent
	done   chan struct{}
	quit   chan struct{} // closed by Close when it stops waiting: no more resends
}

// sent is a message published and not yet acknowledged, kept to be sent
// again if it is not.
type sent struct {
	tok      mqtt.Token
	topic    string
	retained bool
	payload  []byte
}

// publish sends a QoS 1 message and queues it for awaitAcks.
func (c *conn) publish(topic string, retained bool, payload []byte) {
	c.acks <- sent{c.client.Publish(topic, 1, retained, payload), topic, retained, payload}
}

// New prepares a publisher for vehicles; Connect connects it.
func New(opts Options, vehicles []string) (*Publisher, error) {
	if opts.URL == "" {
		return nil, errors.New("mqtt: no broker URL")
	}
	if err := wire.ValidPrefix(opts.Prefix); err != nil {
		return nil, err
	}
	if opts.Clients < 0 {
		return nil, fmt.Errorf("mqtt clients %d must not be negative", opts.Clients)
	}
	if opts.ClientID == "" {
		opts.ClientID = "firmware-sim"
	}
	if opts.Queue == 0 {
		opts.Queue = 10000
	}
	if opts.Factory == nil {
		opts.Factory = mqttconn.NewClient
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	p := &Publisher{opts: opts, topics: wire.Topics{Prefix: opts.Prefix}, log: opts.Logger}
	n := opts.Clients
	perVehicle := n == 0
	if perVehicle {
		n = len(vehicles)
	}
	n = min(n, len(vehicles))
	for k := range n {
		id := fmt.Sprintf("%s-pool-%d", opts.ClientID, k)
		if perVehicle {
			id = opts.ClientID + "-" + vehicles[k]
		}
		o, err := mqttconn.Config{
			URLs: strings.Split(opts.URL, ","), ClientID: id, Username: opts.Username, Password: opts.Password,
			CleanSession: true,
			// As the vehicle agent's default (mqtt.reconnect_max): back
			// within a second of a broker or hub returning, or on the next
			// of several.
			ReconnectMax: time.Second,
		}.Options()
		if err != nil {
			return nil, err
		}
		if perVehicle {
			o.SetBinaryWill(p.topics.Status(vehicles[k]), p.status(wire.StateOffline), 1, true)
		}
		// A broker that is not there is a mistake to report now, not to
		// retry forever; once connected, paho reconnects as agents do.
		o.SetConnectRetry(false)
		// Ordered delivery is for subscribers; this client subscribes to
		// nothing.
		o.SetOrderMatters(false)
		p.conns = append(p.conns, &conn{client: opts.Factory(o), acks: make(chan sent, opts.Queue), done: make(chan struct{}), quit: make(chan struct{})})
	}
	for i, name := range vehicles {
		if err := wire.ValidID("vehicle", name); err != nil {
			return nil, err
		}
		p.vehicles = append(p.vehicles, vehicle{
			name: name, position: p.topics.Position(name), status: p.topics.Status(name), conn: p.conns[i%len(p.conns)],
		})
	}
	return p, nil
}

func (p *Publisher) status(state string) []byte {
	b, _ := json.Marshal(wire.Status{V: wire.Version, State: state, Time: p.opts.Now().UTC(), Version: p.opts.Version})
	return b
}

// Connect connects every client, a few dozen at a time, and announces every
// vehicle online. It starts a goroutine per connection that Close stops:
// call Close even when Connect fails.
func (p *Publisher) Connect(ctx context.Context) error {
	sem := make(chan struct{}, 32)
	errs := make([]error, len(p.conns))
	var wg sync.WaitGroup
	for k, c := range p.conns {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			if err := mqttconn.Wait(ctx, c.client.Connect()); err != nil {
				errs[k] = fmt.Errorf("mqtt connect to %s: %w (is the broker running? see -mqtt)", p.opts.URL, err)
			}
		})
	}
	wg.Wait()
	for _, c := range p.conns {
		go c.awaitAcks(&p.failed)
	}
	failed := 0
	var first error
	for _, err := range errs {
		if err != nil {
			failed++
			first = cmp.Or(first, err)
		}
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d connections failed; the first: %w", failed, len(p.conns), first)
	}
	online := p.status(wire.StateOnline)
	for _, v := range p.vehicles {
		v.conn.publish(v.status, true, online)
	}
	return nil
}

// awaitAcks waits for each message's acknowledgement in publishing order and
// sends again, after a moment, one that failed (the broker closed the
// connection first: paho's clean session drops what was in flight), as a
// vehicle agent's outbox does, until it is acknowledged or Close gives up;
// failed counts the failures.
func (c *conn) awaitAcks(failed *atomic.Uint64) {
	defer close(c.done)
	for m := range c.acks {
		for t := m.tok; ; {
			<-t.Done()
			if t.Error() == nil {
				break
			}
			failed.Add(1)
			select {
			case <-c.quit:
				return
			case <-time.After(200 * time.Millisecond):
			}
			t = c.client.Publish(m.topic, 1, m.retained, m.payload)
		}
	}
}

// Publish sends vehicle i's fix, if it has a position: an agent publishes
// only fixes. Errors are counted, not returned: a bus does not stop over a
// lost message.
func (p *Publisher) Publish(i int, f nmea.Fix, trip string) {
	if !f.HasPosition() {
		p.skipped.Add(1)
		return
	}
	v := &p.vehicles[i]
	pos := wire.Position{
		V: wire.Version, Vehicle: v.name, Seq: v.seq + 1, Time: f.Time.UTC(),
		Lat: f.Lat, Lon: f.Lon, Mode: int(f.Mode),
	}
	if p.opts.SendTrip {
		pos.Trip = trip
	}
	if !math.IsNaN(f.Speed) {
		pos.Speed = wire.Float(f.Speed)
	}
	if !math.IsNaN(f.Track) {
		pos.Track = wire.Float(math.Mod(math.Mod(f.Track, 360)+360, 360))
	}
	if !math.IsNaN(f.HDOP) && f.HDOP > 0 {
		pos.HDOP = wire.Float(f.HDOP)
	}
	if f.Sats >= 0 {
		pos.Sats = wire.Int(f.Sats)
	}
	b, err := pos.Encode()
	if err != nil {
		// The receiver said something the contract forbids (a fault): an
		// agent would reject the fix too.
		p.skipped.Add(1)
		return
	}
	v.seq++
	v.conn.publish(v.position, false, b)
	p.published.Add(1)
}

// Counts are the publisher's totals since Connect.
type Counts struct {
	Published uint64 // positions handed to paho
	Failed    uint64 // sends (positions or statuses) not acknowledged, each sent again
	Skipped   uint64 // epochs without a publishable fix
}

// Counts reports the totals; safe from any goroutine.
func (p *Publisher) Counts() Counts {
	return Counts{Published: p.published.Load(), Failed: p.failed.Load(), Skipped: p.skipped.Load()}
}

// Seq is the last seq published for vehicle i.
func (p *Publisher) Seq(i int) uint64 { return p.vehicles[i].seq }

// Close announces every vehicle offline, waits (until ctx is done) for the
// broker to acknowledge what is in flight, and disconnects. Call it after
// the last Publish, from the same goroutine.
func (p *Publisher) Close(ctx context.Context) error {
	offline := p.status(wire.StateOffline)
	for _, v := range p.vehicles {
		if v.conn.client.IsConnectionOpen() {
			v.conn.publish(v.status, true, offline)
		}
	}
	for _, c := range p.conns {
		close(c.acks)
	}
	var err error
	for _, c := range p.conns {
		select {
		case <-c.done:
		case <-ctx.Done():
			close(c.quit)
			<-c.done
			err = fmt.Errorf("mqtt: acknowledgements still awaited: %w", ctx.Err())
		}
	}
	var wg sync.WaitGroup
	for _, c := range p.conns {
		wg.Go(func() { c.client.Disconnect(250) })
	}
	wg.Wait()
	return err
}
