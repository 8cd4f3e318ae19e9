package main

import (
	"log/slog"

	"github.com/headway-transit/headway/hub/internal/broker"
	"github.com/headway-transit/headway/hub/internal/config"
	"github.com/headway-transit/headway/hub/internal/natsbroker"
	"github.com/headway-transit/headway/internal/wire"
)

// embeddedBroker is the MQTT broker the hub runs when mqtt.url is empty.
type embeddedBroker interface {
	Addr() string
	URL() string
	Credentials() (username, password string)
	Close() error
}

// startBroker starts the embedded broker mqtt.broker names.
func startBroker(c config.MQTT, logger *slog.Logger) (embeddedBroker, error) {
	users := make([]broker.User, len(c.Users))
	for i, u := range c.Users {
		users[i] = u.BrokerUser()
	}
	topics := wire.Topics{Prefix: c.Prefix}
	if c.Broker == config.BrokerNATS {
		return natsbroker.Start(natsbroker.Options{Addr: c.Listen, Users: users, Topics: topics, StoreDir: c.Store, Logger: logger})
	}
	return broker.Start(broker.Options{Addr: c.Listen, Users: users, Topics: topics, Logger: logger})
}
