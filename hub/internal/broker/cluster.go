package broker

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"

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
	so.Cluster = server.ClusterOpts{Name: c.Name, Host: h, Port: port}
	for i, r := range c.Routes {
		u, err := url.Parse(r)
		if err != nil || u.Scheme != "nats-route" || u.Port() == "" {
			return fmt.Errorf("cluster.routes[%d] %q: want nats-route://host:port", i, r)
		}
		so.Routes = append(so.Routes, u)
	}
	return nil
}

// ClusterAddr is the address the other hubs' routes connect to, with the
// port really bound; empty when the server is not clustered.
func (b *Broker) ClusterAddr() string {
	if b.srv.ClusterAddr() == nil {
		return ""
	}
	return b.srv.ClusterAddr().String()
}
