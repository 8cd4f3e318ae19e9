package broker

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// clusterOptions sets so up to join c.
func clusterOptions(so *server.Options, c *Cluster) error {
	if c.Name == "" {
		return errors.New("cluster.name: is required (the same on every hub)")
	}
	if c.Node == "" {
		return errors.New("cluster.node: is required (a name different on every hub)")
	}
	if len(c.Secret) < minSecret {
		return fmt.Errorf("cluster.secret: shorter than %d characters (the same long random string on every hub)", minSecret)
	}
	h, p, err := net.SplitHostPort(c.Listen)
	if err != nil {
		return fmt.Errorf("cluster.listen %q: want host:port: %w", c.Listen, err)
	}
	port, err := strconv.Atoi(p)
	if err != nil || port < 0 || port > 65535 {
		return fmt.Errorf("cluster.listen %q: port %q is not a number from 0 to 65535", c.Listen, p)
	}
	if port == 0 {
		port = -1 // nats-server: a free port
	}
	if h == "" {
		h = "0.0.0.0"
	}
	so.ServerName = c.Node
	// nats-server starts its routes only once its client listener is up:
	// one on loopback, on a free port, reachable from this machine only.
	so.DontListen, so.Host, so.Port = false, "127.0.0.1", -1
	// A hub that hangs or whose machine vanishes closes no connection: its
	// routes are dropped when RoutePingInterval*RouteMaxPingsOut pass
	// unanswered (6-8 s), and then the others take its partitions. (The
	// default, 30 s pings and 2 out, would leave its buses for a minute.)
	so.Cluster = server.ClusterOpts{Name: c.Name, Host: h, Port: port, Username: routeUser, Password: c.Secret,
		PingInterval: RoutePingInterval, MaxPingsOut: RouteMaxPingsOut}
	if c.TLS != nil {
		so.Cluster.TLSConfig, so.Cluster.TLSTimeout = c.TLS, 5
	}
	// The MQTT listener asks JetStream for a bus's session when it
	// connects and stores each QoS 1 fix. While the streams a dead hub led
	// elect new leaders (4-9 s, nats-server's raft) those requests go
	// unanswered, and the listener waits JSAPITimeout for each before it
	// refuses the bus, which then connects and asks again: with the
	// default 5 s a bus that asked just before the election waited most of
	// it out and then 5 s more.
	so.MQTT.JSAPITimeout = ClusterJSAPITimeout
	for i, r := range c.Routes {
		u, err := url.Parse(r)
		if err != nil || u.Scheme != "nats-route" || u.Port() == "" {
			return fmt.Errorf("cluster.routes[%d] %q: want nats-route://host:port", i, r)
		}
		u.User = url.UserPassword(routeUser, c.Secret)
		so.Routes = append(so.Routes, u)
	}
	return nil
}

// How often a hub's server pings the others' over their routes, and how
// many pings may go unanswered before it drops a route.
const (
	RoutePingInterval = 2 * time.Second
	RouteMaxPingsOut  = 3
)

// ClusterJSAPITimeout is how long a clustered hub's MQTT listener waits
// for JetStream to answer a session lookup or a fix's store.
const ClusterJSAPITimeout = 2 * time.Second

// ClusterAddr is the address the other hubs' routes connect to, with the
// port really bound; empty when the server is not clustered.
func (b *Broker) ClusterAddr() string {
	if b.srv.ClusterAddr() == nil {
		return ""
	}
	return b.srv.ClusterAddr().String()
}

// ClusterState is the cluster as this hub's broker sees it (/api/cluster).
type ClusterState struct {
	Clustered bool   `json:"clustered"`
	Cluster   string `json:"cluster,omitempty"`
	Node      string `json:"node"`
	// Leader is the node leading JetStream's meta group; empty while the
	// cluster has no quorum (then no stream can change).
	Leader string      `json:"leader,omitempty"`
	Nodes  []NodeState `json:"nodes"`
	// Streams names the node leading each JetStream stream ("" while it
	// elects one: then nothing is stored in it), the MQTT listener's
	// ($MQTT_msgs holds the vehicles' messages) and the hubs' own.
	Streams map[string]string `json:"streams,omitempty"`
	// Tracking says which vehicles each hub tracks: "all" (every hub the
	// whole fleet) or "partitions" (each its share, Nodes' Partitions).
	Tracking string `json:"tracking"`
}

// NodeState is one hub's broker in the cluster.
type NodeState struct {
	Name string `json:"name"`
	Self bool   `json:"self,omitempty"`
	// Online: heard from recently. Current: caught up with the leader.
	Online  bool    `json:"online"`
	Current bool    `json:"current"`
	SeenAgo float64 `json:"seen_ago_s"` // seconds since last heard from
	Lag     uint64  `json:"lag"`        // operations behind the leader
	// Partitions are the vehicle partitions the hub tracks (package
	// partition); none when every hub tracks every vehicle.
	Partitions []int `json:"partitions,omitempty"`
}

// ClusterState reports the cluster's nodes: online while a route to them is
// up (a route breaks at once when a server dies), caught up or lagging as
// JetStream's meta group knows them.
func (b *Broker) ClusterState() ClusterState {
	node := b.srv.Name()
	st := ClusterState{Node: node, Tracking: "all",
		Nodes: []NodeState{{Name: node, Self: true, Online: true, Current: true}}}
	if b.srv.ClusterAddr() == nil {
		return st
	}
	st.Clustered = true
	st.Cluster = b.srv.ClusterName()
	routed := map[string]bool{}
	if rz, err := b.srv.Routez(&server.RoutezOptions{}); err == nil {
		for _, r := range rz.Routes {
			routed[r.RemoteName] = true
		}
	}
	if jsz, err := b.srv.Jsz(&server.JSzOptions{Accounts: true, Streams: true}); err == nil && jsz.Meta != nil {
		for _, a := range jsz.AccountDetails {
			for _, sd := range a.Streams {
				if st.Streams == nil {
					st.Streams = map[string]string{}
				}
				if sd.Cluster != nil {
					st.Streams[sd.Name] = sd.Cluster.Leader
				}
			}
		}
		st.Leader = jsz.Meta.Leader
		st.Nodes[0].Current = st.Leader != ""
		for _, p := range jsz.Meta.Replicas {
			st.Nodes = append(st.Nodes, NodeState{Name: p.Name, Online: routed[p.Name], Current: p.Current && routed[p.Name],
				SeenAgo: p.Active.Seconds(), Lag: p.Lag})
			delete(routed, p.Name)
		}
	}
	for name := range routed {
		// Routed but not (yet) in JetStream's group: a server starting.
		st.Nodes = append(st.Nodes, NodeState{Name: name, Online: true})
	}
	slices.SortFunc(st.Nodes, func(a, b NodeState) int { return strings.Compare(a.Name, b.Name) })
	return st
}
