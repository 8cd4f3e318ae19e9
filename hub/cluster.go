package main

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/headway-transit/headway/hub/internal/boards"
	"github.com/headway-transit/headway/hub/internal/broker"
	"github.com/headway-transit/headway/hub/internal/config"
	"github.com/headway-transit/headway/hub/internal/engine"
	"github.com/headway-transit/headway/hub/internal/ingest"
	"github.com/headway-transit/headway/hub/internal/partition"
	"github.com/headway-transit/headway/hub/internal/share"
	"github.com/headway-transit/headway/internal/wire"
)

// partitioned reports whether the hubs share the vehicles out.
func partitioned(cfg config.Config) bool {
	return cfg.Cluster.Clustered() && cfg.Cluster.Partitions != -1
}

// clusterParts are what a hub of a partitioned cluster runs besides the
// rest: its share of the vehicles (partition) and the predictions shared
// with the other hubs (share). A nil *clusterParts runs nothing.
type clusterParts struct {
	nc      *nats.Conn
	js      jetstream.JetStream
	parts   *partition.Partitions
	share   *share.Share
	eng     *lateEngine
	members *partition.Members // on an external NATS cluster
	online  func() []string    // sorted by name
	roster  func() partition.Roster
	node    string
}

// newClusterParts sets them up over the JetStream of brk, the embedded
// broker, or with brk nil of the external NATS cluster cluster.nats lists:
// the vehicles' messages into in's queue, other hubs' predictions into the
// engine (setEngine, once it is built).
func newClusterParts(cfg config.Config, brk *broker.Broker, in *ingest.Ingest, logger *slog.Logger) (*clusterParts, error) {
	name := "headway-hub-" + cfg.Cluster.Node
	var nc *nats.Conn
	var js jetstream.JetStream
	var err error
	if brk != nil {
		nc, js, err = brk.JetStream(name)
	} else {
		nc, err = nats.Connect(strings.Join(cfg.Cluster.NATS, ","), nats.Name(name), nats.UserInfo(cfg.MQTT.Username, cfg.MQTT.Password),
			nats.MaxReconnects(-1), nats.ReconnectWait(500*time.Millisecond), nats.RetryOnFailedConnect(true))
		if err == nil {
			if js, err = jetstream.New(nc); err != nil {
				nc.Close()
			}
		}
	}
	if err != nil {
		return nil, fmt.Errorf("cluster: %w", err)
	}
	c := &clusterParts{nc: nc, js: js, eng: &lateEngine{}, node: cfg.Cluster.Node}
	replicas := min(3, len(cfg.Cluster.Routes))
	if brk != nil {
		// Hubs with embedded brokers know each other by their routes.
		// Every hub JetStream has had as a peer is known.
		c.roster = func() partition.Roster {
			var r partition.Roster
			for _, n := range brk.ClusterState().Nodes {
				r.Known = append(r.Known, n.Name)
				if n.Online {
					r.Online = append(r.Online, n.Name)
				}
			}
			return r
		}
		c.online = func() []string { return c.roster().Online }
	} else {
		replicas = min(3, len(cfg.Cluster.NATS))
		c.members = partition.NewMembers(js, cfg.Cluster.Node, replicas)
		c.online = c.members.Online
		c.roster = c.members.Roster
	}
	online := c.online
	c.parts, err = partition.New(partition.Options{
		JS: js, Topics: wire.Topics{Prefix: cfg.MQTT.Prefix}, Partitions: cfg.Cluster.Partitions,
		Replicas: replicas, Node: cfg.Cluster.Node, Roster: c.roster, Deliver: in.EnqueueAcked, Logger: logger,
	})
	if err != nil {
		nc.Close()
		return nil, err
	}
	c.share, err = share.New(share.Options{NC: nc, JS: js, Node: cfg.Cluster.Node, Replicas: replicas, Engine: c.eng,
		Online: online, MaxAge: cfg.Tracking.Stale.D(), Logger: logger})
	if err != nil {
		nc.Close()
		return nil, err
	}
	return c, nil
}

// lateEngine is the engine share hands runs to, set (setEngine) once it
// is built and before run starts.
type lateEngine struct{ eng *engine.Engine }

func (l *lateEngine) Remote(r engine.SharedRun) { l.eng.Remote(r) }
func (l *lateEngine) DropNode(n string)         { l.eng.DropNode(n) }
func (l *lateEngine) RemoteObservation(o engine.Observation) {
	l.eng.RemoteObservation(o)
}

// shareFunc is engine.Options.Share: nil when the hub is not partitioned.
func (c *clusterParts) shareFunc() func(boards.TripKey, map[int]boards.Realtime) {
	if c == nil {
		return nil
	}
	return c.share.Put
}

// observeFunc is engine.Options.ShareObservation: nil when the hub is not
// partitioned.
func (c *clusterParts) observeFunc() func(engine.Observation) {
	if c == nil {
		return nil
	}
	return c.share.Observe
}

// setEngine gives share the engine to hand other hubs' runs to.
func (c *clusterParts) setEngine(e *engine.Engine) {
	if c != nil {
		c.eng.eng = e
	}
}

// run pulls this hub's partitions and shares predictions until ctx is done.
func (c *clusterParts) run(ctx context.Context) error {
	if c == nil {
		return nil
	}
	defer c.nc.Close()
	errs := make(chan error, 3)
	n := 2
	go func() { errs <- c.parts.Run(ctx) }()
	go func() { errs <- c.share.Run(ctx) }()
	if c.members != nil {
		n++
		go func() { errs <- c.members.Run(ctx) }()
	}
	var err error
	for range n {
		if e := <-errs; err == nil {
			err = e
		}
	}
	return err
}

// state is /api/cluster: the hubs as the embedded broker brk sees them
// (nil: as their heartbeats on the external cluster tell), each online one
// with its partitions, this hub's as it pulls them, the others' as they
// should.
func (c *clusterParts) state(brk *broker.Broker) broker.ClusterState {
	var st broker.ClusterState
	if brk != nil {
		st = brk.ClusterState()
	} else {
		st = broker.ClusterState{Clustered: true, Node: c.node}
		for _, n := range c.online() {
			st.Nodes = append(st.Nodes, broker.NodeState{Name: n, Self: n == c.node, Online: true, Current: true})
		}
	}
	st.Tracking = "partitions"
	roster := c.roster()
	for i, nd := range st.Nodes {
		switch {
		case nd.Self:
			st.Nodes[i].Partitions = c.parts.Owned()
		case nd.Online:
			for p := range c.parts.Count() {
				if roster.Owner(p) == nd.Name {
					st.Nodes[i].Partitions = append(st.Nodes[i].Partitions, p)
				}
			}
		}
	}
	return st
}

// ready reports whether both are set up (for /healthz).
func (c *clusterParts) ready() bool { return c == nil || (c.parts.Ready() && c.share.Ready()) }
