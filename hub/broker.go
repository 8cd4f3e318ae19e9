package main

import (
	"crypto/tls"
	"log/slog"
	"path/filepath"

	"github.com/headway-transit/headway/hub/internal/broker"
	"github.com/headway-transit/headway/hub/internal/config"
	"github.com/headway-transit/headway/internal/wire"
)

// startBroker starts the embedded broker (nats-server) cfg.MQTT sets up.
func startBroker(cfg config.Config, tlsCfg, routeTLS *tls.Config, vehicles broker.Vehicles, logger *slog.Logger) (*broker.Broker, error) {
	c := cfg.MQTT
	users := make([]broker.User, len(c.Users))
	for i, u := range c.Users {
		users[i] = u.BrokerUser()
	}
	var cluster *broker.Cluster
	if cl := cfg.Cluster; cl.Clustered() {
		cluster = &broker.Cluster{Name: cl.Name, Node: cl.Node, Listen: cl.Listen, Routes: cl.Routes, Secret: cl.Secret, TLS: routeTLS}
	}
	return broker.Start(broker.Options{Addr: c.Listen, Users: users, Vehicles: vehicles, Topics: wire.Topics{Prefix: c.Prefix},
		StoreDir: storeDir(cfg), Cluster: cluster, TLS: tlsCfg, Logger: logger})
}

// clientID is the hub's MQTT client id: in a cluster each hub's own (the
// broker is one, and a second client with an id takes the first's
// session over).
func clientID(cfg config.Config) string {
	if cfg.Cluster.Clustered() && cfg.MQTT.ClientID == config.Default().MQTT.ClientID {
		return cfg.MQTT.ClientID + "-" + cfg.Cluster.Node
	}
	return cfg.MQTT.ClientID
}

// storeDir is where the embedded broker keeps its files: mqtt.store, else
// "broker" beside the state file, else nowhere lasting (a temporary folder).
func storeDir(cfg config.Config) string {
	if cfg.MQTT.Store != "" || cfg.State == "" {
		return cfg.MQTT.Store
	}
	return filepath.Join(filepath.Dir(cfg.State), "broker")
}

// clusterState reports the cluster for /api/cluster: with partitions, the
// hubs with theirs (clusterParts.state); else the embedded broker's view, or
// with an external broker this hub alone.
func clusterState(brk *broker.Broker, name string, cl *clusterParts) func() broker.ClusterState {
	switch {
	case cl != nil:
		return func() broker.ClusterState { return cl.state(brk) }
	case brk != nil:
		return brk.ClusterState
	}
	return func() broker.ClusterState {
		return broker.ClusterState{Node: name, Tracking: "all", Nodes: []broker.NodeState{{Name: name, Self: true, Online: true, Current: true}}}
	}
}
