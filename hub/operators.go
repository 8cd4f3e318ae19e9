package main

import (
	"fmt"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/headway-transit/headway/hub/internal/config"
	"github.com/headway-transit/headway/hub/internal/operators"
	"github.com/headway-transit/headway/hub/internal/ratelimit"
	"github.com/headway-transit/headway/hub/internal/server"
)

// httpGuards are the operators' sign-in and the per-client limit on the
// public endpoints, as hub.yaml's http: section sets them.
func httpGuards(cfg config.Config, logger *slog.Logger, reg prometheus.Registerer) (*operators.Gate, *server.Limit, error) {
	trusted, err := config.Prefixes("http.trusted_proxies", cfg.HTTP.TrustedProxies)
	if err != nil {
		return nil, nil, err
	}
	gate, err := operators.New(operators.Options{
		Users: operatorUsers(cfg), Open: cfg.OperatorsOpen(), Trusted: trusted, Logger: logger, Registerer: reg,
	})
	if err != nil {
		return nil, nil, err
	}
	switch {
	case gate.Open():
		logger.Info("dashboard and API open with no sign-in: the hub listens on loopback only and http.operators is empty")
	case len(cfg.HTTP.Operators) == 0:
		logger.Warn("dashboard and fleet API closed: the hub listens beyond loopback and http.operators is empty (add one; hub passwd prints its password_hash)")
	}
	limited := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "headway_http_rate_limited_total",
		Help: "Requests to the public endpoints refused (429) because their client was over http.rate_limit, by endpoint.",
	}, []string{"endpoint"})
	if err := reg.Register(limited); err != nil {
		return nil, nil, err
	}
	rl := cfg.HTTP.RateLimit
	if rl.PerSecond == 0 {
		return gate, nil, nil
	}
	exempt, err := config.Prefixes("http.rate_limit.exempt", rl.Exempt)
	if err != nil {
		return nil, nil, err
	}
	return gate, &server.Limit{PerClient: ratelimit.New(rl.PerSecond, rl.Burst), Trusted: trusted, Exempt: exempt, Limited: limited}, nil
}

func operatorUsers(cfg config.Config) []operators.User {
	out := make([]operators.User, len(cfg.HTTP.Operators))
	for i, o := range cfg.HTTP.Operators {
		out[i] = operators.User{Username: o.Username, PasswordHash: o.PasswordHash}
	}
	return out
}

// reloadOperators reads http.operators again from hub.yaml (SIGHUP): new
// operators may sign in, removed ones are signed out. A file that does not
// load leaves the operators as they were.
func reloadOperators(path string, gate *operators.Gate, logger *slog.Logger) {
	cfg, err := config.Load(path)
	if err == nil {
		err = gate.SetUsers(operatorUsers(cfg))
	}
	if err != nil {
		logger.Error("SIGHUP: operators not reloaded, the previous ones stay", "err", fmt.Errorf("%s: %w", path, err))
		return
	}
	logger.Info("SIGHUP: operators reloaded", "operators", len(cfg.HTTP.Operators))
}
