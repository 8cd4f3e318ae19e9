package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/gorilla/websocket"

	"github.com/headway-transit/headway/agent/internal/station"
	"github.com/headway-transit/headway/agent/internal/vehicle"
	"github.com/headway-transit/headway/drivers/gps"
	"github.com/headway-transit/headway/drivers/nmea"
	"github.com/headway-transit/headway/internal/doctor"
	"github.com/headway-transit/headway/internal/mqttconn"
	"github.com/headway-transit/headway/internal/tlsfiles"
)

// doctorCmd: agent doctor vehicle|station -config FILE checks a device and
// prints what to fix; exit code 1 when a check failed.
func doctorCmd(ctx context.Context, args []string, out io.Writer) (int, error) {
	if len(args) == 0 || (args[0] != "vehicle" && args[0] != "station") {
		return 2, errors.New("doctor: which role? agent doctor vehicle -config FILE, or agent doctor station -config FILE")
	}
	role := args[0]
	fs := flag.NewFlagSet("doctor "+role, flag.ContinueOnError)
	cfgPath := fs.String("config", "/etc/headway/"+role+".yaml", "the role's config `file`")
	listen := fs.Duration("listen", 5*time.Second, "how long to listen to the GPS receiver (vehicle, when its agent is not running)")
	if err := fs.Parse(args[1:]); err != nil {
		return 2, err
	}
	var checks []doctor.Check
	if role == "vehicle" {
		checks = vehicleChecks(*cfgPath, *listen)
	} else {
		checks = stationChecks(*cfgPath)
	}
	return doctor.Run(ctx, out, checks), nil
}

// configCheck loads the config; the other checks run only when it loads.
func configCheck[C any](path string, load func(string) (C, error), describe func(C) string) (doctor.Check, *C) {
	cfg := new(C)
	var err error
	*cfg, err = load(path)
	return doctor.Check{Name: "config", Run: func(context.Context) []doctor.Result {
		if err != nil {
			return []doctor.Result{doctor.Failf("edit the file (configs/ in the source, or the commented copy the package installed) and run doctor again", "%v", err)}
		}
		return []doctor.Result{doctor.Okf("%s: %s", path, describe(*cfg))}
	}}, cfg
}

// running asks the role's agent on listen for its /healthz.
func running(listen string) (map[string]any, error) {
	c := &http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get("http://" + listen + "/healthz")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var h map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&h); err != nil {
		return nil, fmt.Errorf("%s/healthz: %w", listen, err)
	}
	return h, nil
}

func vehicleChecks(path string, listen time.Duration) []doctor.Check {
	cc, cfg := configCheck(path, vehicle.LoadConfig, func(c vehicle.Config) string {
		return fmt.Sprintf("vehicle %s, GPS %s, broker %s", c.Vehicle, c.GPS.Port, strings.Join(c.MQTT.URLs, ", "))
	})
	checks := []doctor.Check{cc}
	if _, err := vehicle.LoadConfig(path); err != nil {
		return checks
	}
	c := *cfg
	var agent map[string]any
	if c.Listen != "" {
		agent, _ = running(c.Listen)
	}
	checks = append(checks,
		doctor.Check{Name: "agent", Run: func(context.Context) []doctor.Result {
			switch {
			case c.Listen == "":
				return []doctor.Result{doctor.Warnf("set listen: (e.g. 127.0.0.1:9101) for /healthz and /metrics", "no listen: address, so its health cannot be asked")}
			case agent == nil:
				return []doctor.Result{doctor.Warnf("systemctl status headway-vehicle; journalctl -u headway-vehicle", "no agent answers on %s: not running", c.Listen)}
			case agent["ok"] == true:
				return []doctor.Result{doctor.Okf("running (version %v): broker connected, last fix %vs ago, outbox %v", agent["version"], agent["fix_age_s"], agent["outbox_depth"])}
			}
			return []doctor.Result{doctor.Failf("see the gps and broker lines below; journalctl -u headway-vehicle", "running (version %v) but not well: broker connected %v, last fix %vs ago, outbox %v", agent["version"], agent["mqtt_connected"], agent["fix_age_s"], agent["outbox_depth"])}
		}},
		doctor.Check{Name: "gps", Run: func(ctx context.Context) []doctor.Result {
			if agent != nil {
				// The running agent reads the port: another reader would take
				// its sentences. Its fix age says how the receiver does.
				if age, ok := agent["fix_age_s"].(float64); ok && age < 10 {
					return []doctor.Result{doctor.Okf("%s: the running agent has a fix %.1fs old", c.GPS.Port, age)}
				}
				return []doctor.Result{doctor.Failf("check the receiver's antenna and cable; agent gps -port "+c.GPS.Port+" (with the agent stopped) shows what it says", "%s: the running agent has no recent fix", c.GPS.Port)}
			}
			return gpsCheck(ctx, c.GPS.Port, int(c.GPS.Baud), listen)
		}},
		doctor.Check{Name: "clock", Run: func(context.Context) []doctor.Result { return doctor.Clock() }},
		doctor.Check{Name: "broker", Run: func(ctx context.Context) []doctor.Result { return brokerCheck(ctx, c) }},
		doctor.Check{Name: "disk", Run: func(context.Context) []doctor.Result { return doctor.Disk(filepath.Dir(c.Outbox.Path), 50<<20) }},
		doctor.Check{Name: "outbox", Run: func(context.Context) []doctor.Result { return doctor.Bolt(c.Outbox.Path, "outbox") }},
	)
	return checks
}

// gpsCheck listens to the receiver for d: sentences, checksums, a fix.
func gpsCheck(ctx context.Context, port string, baud int, d time.Duration) []doctor.Result {
	if _, err := os.Stat(port); err != nil {
		return []doctor.Result{doctor.Failf("plug the receiver in; ls -l /dev/serial/by-id/ names it; set gps.port", "%s: %v", port, err)}
	}
	f, err := os.OpenFile(port, os.O_RDWR, 0)
	if err != nil {
		fix := ""
		if errors.Is(err, os.ErrPermission) {
			fix = "the service's user must be in the port's group: usermod -a -G dialout headway"
		}
		return []doctor.Result{doctor.Failf(fix, "%s: %v", port, err)}
	}
	f.Close()
	rx := gps.New(gps.Config{Path: port, Baud: baud})
	lctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	fixes := make(chan nmea.Fix, 64)
	go func() {
		for range fixes {
		}
	}()
	_ = rx.Run(lctx, fixes)
	close(fixes)
	st := rx.Stats()
	var sentences, rejects uint64
	for _, n := range st.Sentences {
		sentences += n
	}
	for _, n := range st.Rejects {
		rejects += n
	}
	switch {
	case st.Bytes == 0:
		return []doctor.Result{doctor.Failf("check the cable and the receiver's power; is another program reading the port? (fuser "+port+")", "%s: nothing in %v (%s)", port, d, cmpOr(st.LastError, "no bytes"))}
	case sentences == 0:
		return []doctor.Result{doctor.Failf("set gps.baud: auto to find the rate, or the receiver's rate", "%s: %d bytes but no valid NMEA sentence at %d baud (%d rejected)", port, st.Bytes, st.Baud, rejects)}
	case st.LastFix.IsZero():
		return []doctor.Result{doctor.Warnf("give the antenna a view of the sky; a cold start takes minutes", "%s: %d sentences at %d baud, no position fix yet (%d satellites in view)", port, sentences, st.Baud, len(st.Sky))}
	}
	r := []doctor.Result{doctor.Okf("%s: %d sentences at %d baud, fix at %.5f,%.5f", port, sentences, st.Baud, st.Latest.Lat, st.Latest.Lon)}
	if skew := time.Since(st.LastFix); skew > 2*time.Second || skew < -2*time.Second {
		r = append(r, doctor.Warnf("check time sync (the clock line)", "the clock and the receiver's time differ by %v", skew.Round(time.Second)))
	}
	return r
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// brokerCheck logs in to each broker as the bus would, under another
// client id (so the running agent's session is not taken over).
func brokerCheck(ctx context.Context, c vehicle.Config) []doctor.Result {
	var out []doctor.Result
	for _, u := range c.MQTT.URLs {
		o, err := mqttconn.Config{
			URLs: []string{u}, ClientID: fmt.Sprintf("headway-doctor-%s-%d", c.Vehicle, os.Getpid()),
			Username: c.MQTT.Username, Password: c.MQTT.Password,
			CAFile: c.MQTT.CAFile, CertFile: c.MQTT.CertFile, KeyFile: c.MQTT.KeyFile,
			CleanSession: true,
		}.Options()
		if err != nil {
			out = append(out, doctor.Failf("", "%s: %v", u, err))
			continue
		}
		o.SetConnectRetry(false).SetAutoReconnect(false).SetConnectTimeout(5 * time.Second)
		cl := mqttconn.NewClient(o)
		err = mqttconn.Wait(ctx, cl.Connect())
		if err != nil {
			fix := "is the hub up, and the address reachable from here (firewall, mobile data)?"
			if strings.Contains(err.Error(), "not Authorized") || strings.Contains(err.Error(), "bad user name or password") {
				fix = "the bus's username and password: hub vehicles add " + c.Vehicle + " prints them"
			}
			out = append(out, doctor.Failf(fix, "%s: %v", u, err))
			continue
		}
		cl.Disconnect(100)
		out = append(out, doctor.Okf("%s: logged in as %s", u, cmpOr(c.MQTT.Username, "(no user)")))
	}
	return out
}

func stationChecks(path string) []doctor.Check {
	cc, cfg := configCheck(path, station.LoadConfig, func(c station.Config) string {
		return fmt.Sprintf("sign %s, stops %s, hubs %s", c.Display, strings.Join(c.Stops, ","), strings.Join(c.Hub, ", "))
	})
	checks := []doctor.Check{cc}
	if _, err := station.LoadConfig(path); err != nil {
		return checks
	}
	c := *cfg
	agent, _ := running(c.Listen)
	checks = append(checks,
		doctor.Check{Name: "agent", Run: func(context.Context) []doctor.Result {
			if agent == nil {
				return []doctor.Result{doctor.Warnf("systemctl status headway-station; journalctl -u headway-station", "no sign answers on %s: not running", c.Listen)}
			}
			if agent["online"] == true {
				return []doctor.Result{doctor.Okf("running: online, mode %v, cache %vs old", agent["mode"], agent["cache_age_s"])}
			}
			return []doctor.Result{doctor.Failf("see the hub lines below", "running but not connected to a hub: mode %v, cache %vs old", agent["mode"], agent["cache_age_s"])}
		}},
		doctor.Check{Name: "hub", Run: func(ctx context.Context) []doctor.Result { return hubCheck(ctx, c) }},
		doctor.Check{Name: "clock", Run: func(context.Context) []doctor.Result { return doctor.Clock() }},
		doctor.Check{Name: "disk", Run: func(context.Context) []doctor.Result { return doctor.Disk(filepath.Dir(c.Cache), 20<<20) }},
		doctor.Check{Name: "cache", Run: func(context.Context) []doctor.Result { return doctor.Bolt(c.Cache, "cache") }},
		doctor.Check{Name: "outputs", Run: func(context.Context) []doctor.Result { return outputsCheck(c) }},
	)
	return checks
}

// hubCheck opens the sign's WebSocket to each hub, as the sign would.
func hubCheck(ctx context.Context, c station.Config) []doctor.Result {
	d := &websocket.Dialer{HandshakeTimeout: 5 * time.Second, Proxy: http.ProxyFromEnvironment}
	if c.TLS != (station.TLSFiles{}) {
		tc, err := tlsfiles.Client(c.TLS.CA, c.TLS.Cert, c.TLS.Key)
		if err != nil {
			return []doctor.Result{doctor.Failf("", "tls: %v", err)}
		}
		d.TLSClientConfig = tc
	}
	var hdr http.Header
	if c.Token != "" {
		hdr = http.Header{"Authorization": []string{"Bearer " + c.Token}}
	}
	var out []doctor.Result
	for _, u := range c.Hub {
		conn, resp, err := d.DialContext(ctx, u, hdr)
		if err != nil {
			fix := "is the hub up, and reachable from here?"
			if resp != nil && resp.StatusCode == http.StatusUnauthorized {
				fix = "the sign's token: hub signs add " + c.Display + " prints it; set token:"
			}
			if resp != nil {
				err = fmt.Errorf("%w (HTTP %s)", err, resp.Status)
			}
			out = append(out, doctor.Failf(fix, "%s: %v", u, err))
			continue
		}
		conn.Close()
		out = append(out, doctor.Okf("%s: the sign's connection is accepted", u))
	}
	return out
}

// outputsCheck: each hardware output's device is there and writable.
func outputsCheck(c station.Config) []doctor.Result {
	var out []doctor.Result
	dev := func(name, path, fix string) {
		f, err := os.OpenFile(path, os.O_WRONLY|syscall.O_NOCTTY|syscall.O_NONBLOCK, 0)
		if err != nil {
			out = append(out, doctor.Failf(fix, "%s: %s: %v", name, path, err))
			return
		}
		f.Close()
		out = append(out, doctor.Okf("%s: %s writable", name, path))
	}
	for _, o := range c.Outputs {
		switch {
		case o.Type == "led":
			dev(o.OutputName(), o.Port, "plug the sign's serial adapter in; usermod -a -G dialout headway")
		case o.Type == "epaper" && o.SPI == station.SimSPI:
			out = append(out, doctor.Okf("%s: a simulated panel, frames to %s", o.OutputName(), o.Path))
		case o.Type == "epaper":
			var bus, cs int
			if _, err := fmt.Sscanf(o.SPI, "SPI%d.%d", &bus, &cs); err != nil {
				out = append(out, doctor.Warnf("", "%s: spi %q is not SPIb.c; periph.io resolves it at start", o.OutputName(), o.SPI))
				continue
			}
			dev(o.OutputName(), fmt.Sprintf("/dev/spidev%d.%d", bus, cs), "enable SPI (raspi-config nonint do_spi 0) and add headway to the spi group")
		case o.Type == "tui":
			dev(o.OutputName(), o.TTY, "add headway to the tty group, and keep getty off that console")
		case o.Type == "png":
			out = append(out, doctor.Disk(filepath.Dir(o.Path), 1<<20)...)
		}
	}
	if len(out) == 0 {
		out = append(out, doctor.Okf("none besides the page on %s", c.Listen))
	}
	return out
}
