// Command hub is Headway's hub: it ingests vehicle positions over MQTT,
// tracks vehicles on their GTFS trips, predicts arrivals and pushes boards
// to station signs over WebSocket.
//
//	hub serve -config configs/hub.yaml
package main

import (
	"bufio"
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/headway-transit/headway/hub/internal/broker"
	"github.com/headway-transit/headway/hub/internal/config"
	"github.com/headway-transit/headway/hub/internal/engine"
	"github.com/headway-transit/headway/hub/internal/gtfscheck"
	"github.com/headway-transit/headway/hub/internal/ingest"
	"github.com/headway-transit/headway/hub/internal/predict"
	"github.com/headway-transit/headway/hub/internal/push"
	"github.com/headway-transit/headway/hub/internal/server"
	"github.com/headway-transit/headway/hub/internal/tracker"
	"github.com/headway-transit/headway/internal/gtfs"
	"github.com/headway-transit/headway/internal/mqttconn"
	"github.com/headway-transit/headway/internal/tlsfiles"
	"github.com/headway-transit/headway/internal/watchdog"
	"github.com/headway-transit/headway/internal/wire"
	"github.com/headway-transit/headway/internal/yamlconf"
)

// version is stamped by the Makefile with -ldflags "-X main.version=...".
var version = "dev"

const usage = `usage: hub <command> [flags]

commands:
  serve -config FILE   run the hub (see configs/hub.yaml)
  replay -gtfs FEED (-avl FILE.csv | -rt DIR) [-out PRED.jsonl] [-infer-trips]
                       replay recorded positions through the prediction engine and score it
  gtfs check [-progress] FEED
                       load a GTFS feed (zip or folder): summary, then every error and warning
  passwd               read a password on stdin, print its bcrypt hash for
                       mqtt.users[].password_hash (e.g. echo "$PW" | hub passwd)
  signs add|list|revoke -config FILE [-display ID] [-stops A,B]
                       the register of signs (http.signs): add prints a sign's new token once
  vehicles add|list|revoke -config FILE [-vehicle ID]
                       the register of buses (mqtt.vehicles): add prints a bus's new password once
  doctor [-config FILE]
                       check the hub's machine: config, GTFS (service today), clock, ports or
                       brokers, disk, agency feeds; prints what to fix; exit code 1 on a failure
  version              print the version
`

func main() {
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	switch os.Args[1] {
	case "serve":
		err = serveCmd(ctx, os.Args[2:])
	case "replay":
		err = replayCmd(os.Args[2:], os.Stdout)
	case "gtfs":
		err = gtfscheck.Command(ctx, os.Args[2:], os.Stdout, os.Stderr)
	case "passwd":
		err = passwdCmd(os.Stdin, os.Stdout)
	case "signs":
		err = signsCmd(os.Args[2:], os.Stdout)
	case "vehicles":
		err = vehiclesCmd(os.Args[2:], os.Stdout)
	case "doctor":
		code, derr := doctorCmd(ctx, os.Args[2:], os.Stdout)
		if derr != nil {
			fmt.Fprintf(os.Stderr, "hub: %v\n", derr)
		}
		os.Exit(code)
	case "version":
		fmt.Println(version)
	case "-h", "-help", "--help", "help":
		fmt.Print(usage)
	default:
		fmt.Fprintf(os.Stderr, "hub: unknown command %q\n\n%s", os.Args[1], usage)
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "hub: %v\n", err)
		os.Exit(1)
	}
}

func serveCmd(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("serve", flag.ExitOnError)
	cfgPath := fs.String("config", "configs/hub.yaml", "config `file`")
	verbose := fs.Bool("v", false, "debug logging")
	clockAt := fs.String("clock", "", "run the hub on a simulated clock starting at this RFC 3339 `time` (with firmware-sim -start, for simulator runs; default: the real clock)")
	clockRate := fs.Float64("clock-rate", 1, "with -clock: simulated seconds per real second (firmware-sim -speedup)")
	_ = fs.Parse(args)
	now, err := hubClock(*clockAt, *clockRate)
	if err != nil {
		return err
	}

	cfg, err := config.Load(*cfgPath)
	if err != nil {
		return err
	}
	if l, err := cfg.LogLevel.Parse(); err == nil {
		logLevel.Set(l)
	}
	if *verbose {
		logLevel.Set(slog.LevelDebug)
		verboseFlag = true
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: logLevel}))
	if err := yamlconf.CheckPrivate(*cfgPath, cfg.Secrets()); err != nil {
		return err
	}
	start := time.Now()
	feed, err := gtfs.Load(cfg.GTFS)
	if err != nil {
		return err
	}
	logger.Info("gtfs loaded", "feed", cfg.GTFS, "stops", len(feed.Stops), "trips", len(feed.Trips), "took", time.Since(start).Round(time.Millisecond))
	if *clockAt != "" {
		logger.Warn("simulated clock: fixes are judged by it, and boards and GTFS-Realtime carry its times", "start", *clockAt, "rate", *clockRate)
	}
	return serve(ctx, *cfgPath, cfg, feed, logger, now)
}

// logLevel is the hub's log level: log_level, or debug with -v (then
// SIGHUP leaves it).
var (
	logLevel    = new(slog.LevelVar)
	verboseFlag bool
)

// reloadRest is SIGHUP's last step: log_level from the file, and a warning
// naming what else changed but is only read at start. (tls:, http.signs,
// http.operators and mqtt.vehicles were reloaded by the steps before.)
func reloadRest(path string, running config.Config, logger *slog.Logger) {
	next, err := config.Load(path)
	if err != nil {
		logger.Error("SIGHUP: config not reloaded; the running one stays", "err", err)
		return
	}
	if l, err := next.LogLevel.Parse(); err == nil && !verboseFlag && l != logLevel.Level() {
		logger.Info("SIGHUP: log level changed", "log_level", l) // before: a higher level would hide it
		logLevel.Set(l)
	}
	// What the steps before took from the files, and the level.
	next.LogLevel, next.HTTP.Operators, next.Fleet = running.LogLevel, running.HTTP.Operators, running.Fleet
	if changed := yamlconf.Changed(running, next); len(changed) > 0 {
		logger.Warn("SIGHUP: these changes need a restart (systemctl restart headway-hub); the running values stay", "changed", changed)
	}
}

// ownBrokerTLS is how the hub's client reaches its embedded broker when it
// speaks TLS: pinned to the hub's own certificate (the broker's address,
// loopback or any, need not be among the certificate's names).
func ownBrokerTLS(brk *broker.Broker, s *tlsfiles.Server) *tls.Config {
	if brk == nil || s == nil {
		return nil
	}
	return s.Pinned()
}

// serve runs the hub on clock now (time.Now but for simulator runs).
func serve(ctx context.Context, cfgPath string, cfg config.Config, feed *gtfs.Feed, logger *slog.Logger, now func() time.Time) error {
	// The hub's own metrics, and on their own registry the runtime's, so
	// that /metrics lists headway_* first.
	reg, runtimeReg := prometheus.NewRegistry(), prometheus.NewRegistry()
	runtimeReg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	// TLS on every listener when tls: is set, the certificate read again
	// when its files change or on SIGHUP.
	var tlsSrv *tlsfiles.Server
	var serverTLS *tls.Config
	// What SIGHUP reloads.
	var onHUP []func()
	if cfg.TLS.On() {
		var err error
		if tlsSrv, err = tlsfiles.NewServer(cfg.TLS.Cert, cfg.TLS.Key, cfg.TLS.ClientCA); err != nil {
			return err
		}
		serverTLS = tlsSrv.Config()
		go tlsSrv.Watch(ctx, 10*time.Second, func(err error) { logger.Error("tls certificate not reloaded: the one in use stays", "err", err) })
		onHUP = append(onHUP, func() {
			if err := tlsSrv.Reload(); err != nil {
				logger.Error("tls certificate not reloaded on SIGHUP: the one in use stays", "err", err)
			} else {
				logger.Info("tls certificate reloaded on SIGHUP", "not_after", tlsSrv.NotAfter())
			}
		})
		reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "headway_tls_reloads_total", Help: "Times the hub's TLS certificate was loaded again (files changed, or SIGHUP).",
		}, func() float64 { return float64(tlsSrv.Reloads()) }))
	}

	mqttURLs := cfg.MQTT.External()
	var brk *broker.Broker
	if len(mqttURLs) == 0 {
		vehReg, err := openVehicles(cfg, logger)
		if err != nil {
			return err
		}
		var routeTLS *tls.Config
		if cfg.Cluster.CA != "" {
			if routeTLS, err = tlsSrv.Mutual(cfg.Cluster.CA); err != nil {
				return fmt.Errorf("cluster.ca: %w", err)
			}
		}
		if brk, err = startBroker(cfg, serverTLS, routeTLS, vehReg.checker(), logger); err != nil {
			return err
		}
		defer func() {
			// Bounded too: its JetStream store is on disk, whatever it did
			// not get to write is still the clients' to send again.
			done := make(chan struct{})
			go func() { brk.Close(); close(done) }()
			select {
			case <-done:
			case <-time.After(5 * time.Second):
				logger.Warn("embedded broker still stopping after 5s; leaving it")
			}
		}()
		if vehReg != nil {
			go watchFile(ctx, vehReg.reg.Path(), 2*time.Second, func() { vehReg.reload(brk) })
			onHUP = append(onHUP, func() { vehReg.reload(brk) })
		}
		mqttURLs = []string{brk.URL()}
		logger.Info("embedded mqtt broker listening", "addr", brk.Addr(), "store", cmp.Or(storeDir(cfg), "temporary"))
		if cfg.Cluster.Clustered() {
			logger.Info("in cluster", "cluster", cfg.Cluster.Name, "node", cfg.Cluster.Node, "routes", brk.ClusterAddr())
		}
	}

	topics := wire.Topics{Prefix: cfg.MQTT.Prefix}
	user, pass := cfg.MQTT.Username, cfg.MQTT.Password
	if brk != nil {
		if u, p := brk.Credentials(); u != "" {
			user, pass = u, p
		}
	}
	in, err := ingest.New(ingest.Options{
		Conn: mqttconn.Config{
			URLs: mqttURLs, ClientID: clientID(cfg),
			Username: user, Password: pass,
			// A persistent session: while the hub restarts, the broker keeps
			// the vehicles' QoS 1 fixes for it.
			CleanSession: false,
			// Back soon after the broker: the live view waits on this.
			ReconnectMax: time.Second,
			TLS:          ownBrokerTLS(brk, tlsSrv),
		},
		Topics:      topics,
		Partitioned: partitioned(cfg),
		Queue:       cfg.MQTT.Queue,
		Logger:      logger,
		Now:         now,
	})
	if err != nil {
		return err
	}
	var cl *clusterParts
	if partitioned(cfg) {
		if cl, err = newClusterParts(cfg, brk, in, logger); err != nil {
			return err
		}
	}
	feeds, err := vehicleFeeds(cfg, in, cl, reg, now, logger)
	if err != nil {
		return err
	}
	alertSet, err := newAlertParts(cfg, feed, now, logger)
	if err != nil {
		return err
	}
	if err := alertSet.shareOperators(cfg, brk, cl, logger); err != nil {
		return err
	}
	assigned, blocks := map[string]string{}, map[string]string{}
	for v, a := range cfg.Vehicles {
		if a.Trip != "" {
			assigned[v] = a.Trip
		} else {
			blocks[v] = a.Block
		}
	}
	// The learned model: segment running times from the buses that just
	// drove them (see BENCHMARKS.md for how it compares), kept in
	// cfg.State between runs.
	model := predict.NewLearned(feed, predict.LearnedConfig{})
	keep := &keeper{path: cfg.State, model: model, log: logger.With("component", "state", "file", cfg.State), partitioned: partitioned(cfg)}
	var checkpoint func(time.Time)
	if cfg.State != "" {
		checkpoint = keep.save
	}
	var pushSrv *push.Server
	eng := engine.New(engine.Options{
		Feed:             feed,
		Tracker:          tracker.Config{MaxOffRoute: cfg.Tracking.MaxOffRoute, MaxFuture: cfg.Tracking.MaxFuture.D(), Assigned: assigned, Blocks: blocks, Shared: partitioned(cfg)},
		Topics:           topics,
		Horizon:          cfg.Boards.Horizon.D(),
		MaxRows:          cfg.Boards.MaxRows,
		Refresh:          cfg.Boards.Refresh.D(),
		Stale:            cfg.Tracking.Stale.D(),
		MaxStand:         cfg.Tracking.MaxStand.D(),
		TerminalLead:     cfg.Tracking.TerminalLead.D(),
		Settle:           cfg.Tracking.Settle.D(),
		MissedAfter:      cfg.Tracking.MissedAfter.D(),
		Skip:             alertSet.store.Skip,
		Predictor:        model,
		Checkpoint:       checkpoint,
		CheckpointEvery:  cfg.StateEvery.D(),
		Share:            cl.shareFunc(),
		ShareObservation: cl.observeFunc(),
		Publish: []engine.Publisher{
			func(stop string, msg []byte) { pushSrv.Publish(stop, msg) },
			in.PublishBoard,
		},
		Logger:     logger,
		Registerer: reg,
		Now:        now,
	})
	keep.eng = eng
	alertSet.store.OnChange(eng.Changed)
	if err := alertSet.startTripUpdates(cfg, feed, eng, now, logger); err != nil {
		return err
	}
	cl.setEngine(eng)
	if cfg.State != "" {
		keep.load()
	}
	signReg, err := openSigns(cfg, logger)
	if err != nil {
		return err
	}
	fl := &fleet{}
	fl.set(cfg.Fleet, now())
	in.PublishRetained(topics.Fleet(), fl.mqtt())
	pushSrv = push.New(push.Options{Source: eng, Alerts: func(st string) []byte { return alertSet.store.Message(st, now()) }, Fleet: fl.ws, AllowedOrigins: cfg.HTTP.AllowedOrigins, MaxConns: cfg.HTTP.MaxSigns, Auth: signReg.auth(), Logger: logger, Registerer: reg})
	if signReg != nil {
		go watchFile(ctx, signReg.reg.Path(), 2*time.Second, func() { signReg.reload(pushSrv) })
		onHUP = append(onHUP, func() { signReg.reload(pushSrv) })
	}
	gate, limit, err := httpGuards(cfg, logger, reg)
	if err != nil {
		return err
	}
	if !gate.Open() {
		onHUP = append(onHUP, func() { reloadOperators(cfgPath, gate, logger) })
	}
	// Last: the log level, and what else changed that needs a restart.
	onHUP = append(onHUP, func() {
		// The fleet's wanted versions: told at once to every bus and sign.
		next, err := config.Load(cfgPath)
		if err != nil {
			return // reloadRest says why
		}
		if fl.set(next.Fleet, now()) {
			in.PublishRetained(topics.Fleet(), fl.mqtt())
			pushSrv.PublishFleet(fl.ws())
			logger.Info("SIGHUP: fleet versions told to the agents", "vehicle_version", next.Fleet.VehicleVersion, "station_version", next.Fleet.StationVersion)
		}
	})
	onHUP = append(onHUP, func() { reloadRest(cfgPath, cfg, logger) })
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
				for _, f := range onHUP {
					f()
				}
			}
		}
	}()
	reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "headway_mqtt_dropped_total", Help: "MQTT messages dropped because the engine's queue was full.",
	}, func() float64 { return float64(in.Dropped()) }))
	if brk != nil {
		reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "headway_mqtt_logins_refused_total", Help: "MQTT logins the embedded broker refused (wrong username or password); logged at most once a minute per address.",
		}, func() float64 { n, _ := brk.Refused(); return float64(n) }))
		reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "headway_mqtt_permission_violations_total", Help: "MQTT publishes and subscriptions the embedded broker refused as outside the client's role (a bus publishing as another).",
		}, func() float64 { _, n := brk.Refused(); return float64(n) }))
	}
	if cl != nil {
		reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "headway_hub_stalls_total", Help: "Times the hub's process stalled long enough that what it had been handed from its partitions was left for the stream to hand again.",
		}, func() float64 { return float64(cl.parts.Stalls()) }))
	}
	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "headway_mqtt_connected", Help: "1 when the hub's MQTT client is connected.",
	}, func() float64 {
		if in.Connected() {
			return 1
		}
		return 0
	}))

	reg.MustRegister(feedCollector{func() []any { return feedHealth(feeds, alertSet) }})

	ln, err := net.Listen("tcp", cfg.HTTP.Listen)
	if err != nil {
		return fmt.Errorf("http.listen %s: %w (is another hub running? set http.listen to a free port)", cfg.HTTP.Listen, err)
	}
	httpURL := "http://" + ln.Addr().String()
	if serverTLS != nil {
		ln = tls.NewListener(ln, serverTLS)
		httpURL = "https://" + ln.Addr().String()
	}
	srvOpts := server.Options{
		Engine: eng, Push: pushSrv, Gatherer: reg, Runtime: runtimeReg, Version: version, Now: now,
		Cluster: clusterState(brk, clientID(cfg), cl),
		Feeds:   func() []any { return feedHealth(feeds, alertSet) },
		Alerts:  alertSet.store, Operators: alertSet.ops,
		Fleet: func() any { return fl.report(eng.Vehicles(), pushSrv.Displays()) },
		Gate:  gate, Limit: limit,
		Health: func() (bool, map[string]any) {
			// Healthy once the broker has acknowledged the vehicle
			// subscriptions: connected alone may still miss fixes.
			d := map[string]any{"mqtt_connected": in.Connected(), "mqtt_subscribed": in.Subscribed(), "vehicles": len(eng.Vehicles()), "displays": len(pushSrv.Displays())}
			if t := eng.LastFixAt(); !t.IsZero() {
				d["last_fix_age_s"] = now().Sub(t).Seconds()
			}
			if cl != nil {
				d["partitions"] = cl.parts.Owned()
				return in.Subscribed() && cl.ready(), d
			}
			return in.Subscribed(), d
		},
	}
	reg.MustRegister(server.TroubleCollector(srvOpts), fl.collector(eng.Vehicles, pushSrv.Displays))
	httpSrv := &http.Server{
		Handler:           server.Handler(srvOpts),
		ReadHeaderTimeout: 10 * time.Second,
	}
	logger.Info("hub listening", "http", httpURL, "mqtt", strings.Join(mqttURLs, ","), "version", version)

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	var running sync.Map // name -> true while the part runs
	run := func(name string, f func() error) {
		wg.Add(1)
		running.Store(name, true)
		go func() {
			defer wg.Done()
			defer running.Delete(name)
			if err := f(); err != nil {
				errs <- fmt.Errorf("%s: %w", name, err)
				cancel()
			}
		}()
	}
	run("mqtt", func() error { return in.Run(ctx) })
	run("cluster", func() error { return cl.run(ctx) })
	run("engine", func() error { return eng.Run(ctx, in.Messages()) })
	run("push", func() error { return pushSrv.Run(ctx) })
	for _, f := range feeds {
		run("feed "+f.Name(), func() error { return f.Run(ctx) })
	}
	for _, p := range alertSet.pollers {
		run("alerts feed", func() error { return p.Run(ctx) })
	}
	for _, p := range alertSet.trips {
		run("trip updates feed", func() error { return p.Run(ctx) })
	}
	run("alerts", func() error { return alertSet.publish(ctx, pushSrv, now) })
	run("operators' alerts", func() error { return alertSet.ops.Run(ctx) })
	run("http", func() error {
		if err := httpSrv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	})
	// systemd: ready once serving; the watchdog fed while the engine's
	// loop answers (a unit with WatchdogSec= restarts a stuck hub).
	watchdog.Ready("serving " + httpURL)
	wg.Go(func() {
		watchdog.Run(ctx, watchdog.Options{Probes: map[string]watchdog.Probe{"engine": eng.Probe}, Logger: logger})
	})
	<-ctx.Done()
	watchdog.Stopping()
	logger.Info("hub shutting down")
	shutdownCtx, done := context.WithTimeout(context.Background(), 5*time.Second)
	defer done()
	pushSrv.Close()
	_ = httpSrv.Shutdown(shutdownCtx)
	// Bounded: a part waiting on a broker with no quorum (the last hub of
	// a cluster stopping) must not hold the process past systemd's stop
	// timeout. What it did not finish, the broker's store still holds.
	stopped := make(chan struct{})
	go func() { wg.Wait(); close(stopped) }()
	select {
	case <-stopped:
	case <-time.After(stopGrace):
		var names []string
		running.Range(func(k, _ any) bool { names = append(names, k.(string)); return true })
		sort.Strings(names)
		logger.Warn("hub: parts still stopping; leaving them", "after", stopGrace, "parts", names)
		return nil
	}
	close(errs)
	return <-errs
}

// stopGrace bounds how long the hub's parts get to stop after SIGTERM.
const stopGrace = 6 * time.Second

// passwdCmd prints the bcrypt hash of the password on the first line of in.
func passwdCmd(in io.Reader, out io.Writer) error {
	line, err := bufio.NewReader(in).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("passwd: %w", err)
	}
	h, err := broker.HashPassword(strings.TrimRight(line, "\r\n"))
	if err != nil {
		return fmt.Errorf("passwd: %w", err)
	}
	_, err = fmt.Fprintln(out, h)
	return err
}
