package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/headway-transit/headway/hub/internal/config"
	"github.com/headway-transit/headway/internal/doctor"
	"github.com/headway-transit/headway/internal/gtfs"
	"github.com/headway-transit/headway/internal/mqttconn"
)

// doctorCmd: hub doctor -config FILE checks the hub's machine and config
// and prints what to fix; exit code 1 when a check failed.
func doctorCmd(ctx context.Context, args []string, out io.Writer) (int, error) {
	fs := flag.NewFlagSet("doctor", flag.ContinueOnError)
	cfgPath := fs.String("config", "/etc/headway/hub.yaml", "config `file`")
	if err := fs.Parse(args); err != nil {
		return 2, err
	}
	cfg, err := config.Load(*cfgPath)
	checks := []doctor.Check{{Name: "config", Run: func(context.Context) []doctor.Result {
		if err != nil {
			return []doctor.Result{doctor.Failf("edit the file (the package installs a commented one) and run doctor again", "%v", err)}
		}
		return []doctor.Result{doctor.Okf("%s: feed %s, http %s", *cfgPath, cfg.GTFS, cfg.HTTP.Listen)}
	}}}
	if err == nil {
		checks = append(checks, hubChecks(cfg)...)
	}
	return doctor.Run(ctx, out, checks), nil
}

func hubChecks(cfg config.Config) []doctor.Check {
	// The running hub, if any, holds the listeners.
	var health map[string]any
	c := &http.Client{Timeout: 2 * time.Second}
	if resp, err := c.Get("http://" + cfg.HTTP.Listen + "/healthz"); err == nil {
		_ = json.NewDecoder(resp.Body).Decode(&health)
		resp.Body.Close()
	}
	checks := []doctor.Check{
		{Name: "hub", Run: func(context.Context) []doctor.Result {
			if health == nil {
				if err := bindable(cfg.HTTP.Listen); err != nil {
					return []doctor.Result{doctor.Failf("another program holds the port: ss -ltnp | grep "+cfg.HTTP.Listen+"; or set http.listen", "http %s: %v, and no hub answers there", cfg.HTTP.Listen, err)}
				}
				return []doctor.Result{doctor.Warnf("systemctl status headway-hub; journalctl -u headway-hub", "no hub answers on %s: not running (the port is free)", cfg.HTTP.Listen)}
			}
			b, _ := json.Marshal(health)
			return []doctor.Result{doctor.Okf("running on %s: %s", cfg.HTTP.Listen, b)}
		}},
		{Name: "gtfs", Run: func(context.Context) []doctor.Result { return feedCheck(cfg.GTFS) }},
		{Name: "clock", Run: func(context.Context) []doctor.Result { return doctor.Clock() }},
		{Name: "broker", Run: func(ctx context.Context) []doctor.Result { return hubBrokerCheck(ctx, cfg, health != nil) }},
	}
	if cfg.State != "" {
		checks = append(checks, doctor.Check{Name: "disk", Run: func(context.Context) []doctor.Result {
			return doctor.Disk(filepath.Dir(cfg.State), 200<<20)
		}})
	}
	checks = append(checks, doctor.Check{Name: "feeds", Run: func(ctx context.Context) []doctor.Result { return feedsCheck(ctx, cfg) }})
	return checks
}

func bindable(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	return ln.Close()
}

// feedCheck loads the GTFS feed as the hub does and looks for service today.
func feedCheck(path string) []doctor.Result {
	feed, err := gtfs.Load(path)
	if err != nil {
		return []doctor.Result{doctor.Failf("hub gtfs check "+path+" lists every problem; get a fixed feed from the agency", "%v", err)}
	}
	today := gtfs.DateOf(time.Now(), feed.Location)
	running := 0
	for _, t := range feed.Trips {
		if feed.ServiceRunsOn(t.ServiceID, today) {
			running++
		}
	}
	r := []doctor.Result{doctor.Okf("%s: %d stops, %d trips, %d of them today (%s)", path, len(feed.Stops), len(feed.Trips), running, today)}
	if running == 0 {
		r = append(r, doctor.Warnf("the feed's calendar may have ended: get the agency's current GTFS", "no trip runs today (%s): signs will show no times", today))
	}
	return r
}

// hubBrokerCheck: the embedded broker's port and store, or the external
// brokers' login.
func hubBrokerCheck(ctx context.Context, cfg config.Config, hubRunning bool) []doctor.Result {
	if ext := cfg.MQTT.External(); len(ext) > 0 {
		var out []doctor.Result
		for _, u := range ext {
			o, err := mqttconn.Config{URLs: []string{u}, ClientID: fmt.Sprintf("headway-hub-doctor-%d", os.Getpid()),
				Username: cfg.MQTT.Username, Password: cfg.MQTT.Password, CleanSession: true}.Options()
			if err != nil {
				out = append(out, doctor.Failf("", "%s: %v", u, err))
				continue
			}
			o.SetConnectRetry(false).SetAutoReconnect(false).SetConnectTimeout(5 * time.Second)
			cl := mqttconn.NewClient(o)
			if err := mqttconn.Wait(ctx, cl.Connect()); err != nil {
				out = append(out, doctor.Failf("is the broker up and reachable, and mqtt.username/password right?", "%s: %v", u, err))
				continue
			}
			cl.Disconnect(100)
			out = append(out, doctor.Okf("%s: logged in", u))
		}
		return out
	}
	var out []doctor.Result
	if hubRunning {
		if err := doctor.Dial(ctx, cfg.MQTT.Listen); err != nil {
			out = append(out, doctor.Failf("journalctl -u headway-hub", "embedded broker %s: %v", cfg.MQTT.Listen, err))
		} else {
			out = append(out, doctor.Okf("embedded broker on %s takes connections", cfg.MQTT.Listen))
		}
	} else if err := bindable(cfg.MQTT.Listen); err != nil {
		out = append(out, doctor.Failf("a system Mosquitto may hold it: stop it, or set mqtt.listen to a free port", "embedded broker %s: %v", cfg.MQTT.Listen, err))
	} else {
		out = append(out, doctor.Okf("embedded broker port %s is free", cfg.MQTT.Listen))
	}
	if cfg.MQTT.Store != "" {
		out = append(out, doctor.Disk(cfg.MQTT.Store, 200<<20)...)
	}
	return out
}

// feedsCheck fetches each agency feed once, as the hub polls it.
func feedsCheck(ctx context.Context, cfg config.Config) []doctor.Result {
	type src struct {
		field, url, file string
		headers          map[string]string
	}
	var srcs []src
	for i, f := range cfg.Feeds.Vehicles {
		srcs = append(srcs, src{fmt.Sprintf("feeds.vehicles[%d]", i), f.URL, f.File, f.Headers})
	}
	for i, f := range cfg.Feeds.TripUpdates {
		srcs = append(srcs, src{fmt.Sprintf("feeds.trip_updates[%d]", i), f.URL, f.File, f.Headers})
	}
	for i, f := range cfg.Feeds.Alerts {
		srcs = append(srcs, src{fmt.Sprintf("feeds.alerts[%d]", i), f.URL, f.File, f.Headers})
	}
	if len(srcs) == 0 {
		return []doctor.Result{doctor.Okf("none configured (buses report through the broker)")}
	}
	var out []doctor.Result
	client := &http.Client{Timeout: 8 * time.Second}
	for _, s := range srcs {
		if s.file != "" {
			if st, err := os.Stat(s.file); err != nil {
				out = append(out, doctor.Failf("", "%s: %v", s.field, err))
			} else {
				out = append(out, doctor.Okf("%s: %s, %d bytes, %s old", s.field, s.file, st.Size(), time.Since(st.ModTime()).Round(time.Second)))
			}
			continue
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.url, nil)
		if err != nil {
			out = append(out, doctor.Failf("", "%s: %v", s.field, err))
			continue
		}
		for k, v := range s.headers {
			req.Header.Set(k, v)
		}
		resp, err := client.Do(req)
		if err != nil {
			out = append(out, doctor.Failf("is the agency's feed reachable from the hub (proxy, firewall)?", "%s: %v", s.field, err))
			continue
		}
		n, _ := io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<20))
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			fix := ""
			if resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden {
				fix = "the feed's API key (headers:) is missing or wrong"
			}
			out = append(out, doctor.Failf(fix, "%s: %s answered %s", s.field, s.url, resp.Status))
			continue
		}
		out = append(out, doctor.Okf("%s: %s answered %d bytes", s.field, s.url, n))
	}
	return out
}
