// Command agent is Headway's edge agent. On a bus it reads the GPS receiver
// and publishes positions to the hub (vehicle role); at a stop it keeps a
// sign's arrivals from the hub and serves the sign page (station role). It
// also carries the technicians' tools for receivers and NMEA logs.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"sync"
	"syscall"
	"time"

	"periph.io/x/conn/v3/gpio"

	"github.com/headway-transit/headway/agent/internal/gpsview"
	"github.com/headway-transit/headway/agent/internal/signframe"
	"github.com/headway-transit/headway/agent/internal/signout"
	"github.com/headway-transit/headway/agent/internal/signtui"
	"github.com/headway-transit/headway/agent/internal/station"
	"github.com/headway-transit/headway/agent/internal/tpv"
	"github.com/headway-transit/headway/agent/internal/vehicle"
	"github.com/headway-transit/headway/drivers/display"
	"github.com/headway-transit/headway/drivers/gps"
	"github.com/headway-transit/headway/drivers/nmea"
	"github.com/headway-transit/headway/internal/loglevel"
	"github.com/headway-transit/headway/internal/watchdog"
	"github.com/headway-transit/headway/internal/yamlconf"
)

// version is stamped by the Makefile with -ldflags "-X main.version=...".
var version = "dev"

const usage = `usage: agent <command> [flags]

roles:
  vehicle -config FILE   read the GPS receiver, publish positions over MQTT (configs/vehicle.yaml)
  station -config FILE [-tui]
                         keep a sign's arrivals from the hub, serve the sign page (configs/station.yaml);
                         -tui also shows the sign in the terminal

technician tools:
  doctor vehicle|station [-config FILE]
                         check a device: config, GPS or outputs, clock, broker or hubs, disk,
                         outbox or cache; prints what to fix; exit code 1 when a check failed
  gps -port DEV [-baud N|auto] [-once]
                         live view of a GPS receiver: fix, satellites, sentence rates, rejects
  nmea [FILE|-]          decode an NMEA 0183 log into gpsd-style TPV JSON lines
  version                print the version
`

func main() {
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	switch cmd, args := os.Args[1], os.Args[2:]; cmd {
	case "vehicle":
		err = vehicleCmd(ctx, args)
	case "station":
		err = stationCmd(ctx, args)
	case "nmea":
		err = nmeaCmd(args, os.Stdin, os.Stdout)
	case "gps":
		err = gpsCmd(ctx, args)
	case "doctor":
		code, derr := doctorCmd(ctx, args, os.Stdout)
		if derr != nil {
			fmt.Fprintf(os.Stderr, "agent: %v\n", derr)
		}
		os.Exit(code)
	case "version":
		fmt.Println(version)
	case "-h", "-help", "--help", "help":
		fmt.Print(usage)
	default:
		fmt.Fprintf(os.Stderr, "agent: unknown command %q\n\n%s", cmd, usage)
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "agent: %v\n", err)
		os.Exit(1)
	}
}

func logger(verbose bool) *slog.Logger {
	level := slog.LevelInfo
	if verbose {
		level = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
}

// roleLogger logs at the config's log_level (-v: debug, whatever it says),
// a level SIGHUP can change.
func roleLogger(verbose bool, configured loglevel.Level) (*slog.Logger, *slog.LevelVar) {
	lv := new(slog.LevelVar)
	if l, err := configured.Parse(); err == nil {
		lv.Set(l)
	}
	if verbose {
		lv.Set(slog.LevelDebug)
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: lv})), lv
}

// onHUP calls reload on every SIGHUP until ctx is done.
func onHUP(ctx context.Context, wg *sync.WaitGroup, reload func()) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	wg.Go(func() {
		defer signal.Stop(hup)
		for {
			select {
			case <-hup:
				reload()
			case <-ctx.Done():
				return
			}
		}
	})
}

// reloadLevel sets lv from a reloaded config (unless -v holds it at debug).
func reloadLevel(log *slog.Logger, lv *slog.LevelVar, verbose bool, configured loglevel.Level) {
	l, err := configured.Parse()
	if err != nil || verbose || l == lv.Level() {
		return
	}
	log.Info("SIGHUP: log level changed", "log_level", l) // before: a higher level would hide it
	lv.Set(l)
}

func vehicleCmd(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("vehicle", flag.ExitOnError)
	cfgPath := fs.String("config", "configs/vehicle.yaml", "config `file`")
	verbose := fs.Bool("v", false, "debug logging")
	_ = fs.Parse(args)
	cfg, err := vehicle.LoadConfig(*cfgPath)
	if err != nil {
		return err
	}
	if cfg.MQTT.Password != "" {
		if err := yamlconf.CheckPrivate(*cfgPath, []string{"mqtt.password"}); err != nil {
			return err
		}
	}
	log, level := roleLogger(*verbose, cfg.LogLevel)
	rx := gps.New(gps.Config{Path: cfg.GPS.Port, Baud: int(cfg.GPS.Baud), Logger: log})
	a, err := vehicle.New(cfg, vehicle.Options{GPS: rx, Logger: log, Version: version})
	if err != nil {
		return err
	}
	log.Info("vehicle agent starting", "vehicle", cfg.Vehicle, "gps", cfg.GPS.Port, "mqtt", cfg.MQTT.URLs, "version", version)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	defer wg.Wait()
	// SIGHUP: the log level; anything else changed needs a restart.
	onHUP(ctx, &wg, func() {
		next, err := vehicle.LoadConfig(*cfgPath)
		if err != nil {
			log.Error("SIGHUP: config not reloaded; the running one stays", "err", err)
			return
		}
		reloadLevel(log, level, *verbose, next.LogLevel)
		if changed := slices.DeleteFunc(yamlconf.Changed(cfg, next), func(k string) bool { return k == "log_level" }); len(changed) > 0 {
			log.Warn("SIGHUP: these changes need a restart (systemctl restart headway-vehicle); the running values stay", "changed", changed)
		}
		cfg.LogLevel = next.LogLevel
	})
	wg.Go(func() {
		select {
		case <-a.Ready():
		case <-ctx.Done():
			return
		}
		// systemd: ready; the watchdog fed while the event loop answers.
		watchdog.Ready("vehicle " + cfg.Vehicle + " reading " + cfg.GPS.Port)
		watchdog.Run(ctx, watchdog.Options{Probes: map[string]watchdog.Probe{"vehicle loop": a.Probe}, Logger: log})
	})
	err = a.Run(ctx)
	watchdog.Stopping()
	cancel()
	return err
}

func stationCmd(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("station", flag.ExitOnError)
	cfgPath := fs.String("config", "configs/station.yaml", "config `file`")
	verbose := fs.Bool("v", false, "debug logging")
	tui := fs.Bool("tui", false, "also show the sign in this terminal (redrawn in place; plain frames when not a terminal); logs are then off unless -v")
	render := fs.String("render", "", "write the frame an e-paper or LED sign would show now to this PNG `file` and exit: the running agent's view (from its listen address), else its cache's")
	size := fs.String("size", "250x122", "with -render: the panel's `WxH` in pixels (250x122 is a 2.13\" e-paper, 800x480 a 7.5\")")
	depth := fs.Int("depth", 1, "with -render: 1 (black and white), 3 (black, white and red) or 4 (greys)")
	_ = fs.Parse(args)
	cfg, err := station.LoadConfig(*cfgPath)
	if err != nil {
		return err
	}
	if *render != "" {
		return renderCmd(cfg, *render, *size, display.Depth(*depth), os.Stdout)
	}
	log, level := roleLogger(*verbose, cfg.LogLevel)
	if *tui && !*verbose {
		log = slog.New(slog.DiscardHandler) // the board shows the hub's state
	}
	s, err := station.New(cfg, station.Options{Logger: log, Version: version})
	if err != nil {
		return err
	}
	outs, err := signout.New(s, cfg.Outputs, log)
	if err != nil {
		return err
	}
	defer outs.Close()
	if err := s.Register(outs.Collectors()...); err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	defer wg.Wait()
	var pin gpio.PinIn
	var active gpio.Level
	if cfg.PowerFail.Pin != "" {
		if pin, active, err = signout.OpenPowerPin(cfg.PowerFail); err != nil {
			return err
		}
	}
	// SIGHUP: stops, rows, hubs, token, TLS, clock and the offline
	// thresholds at once; the log level; the rest needs a restart.
	onHUP(ctx, &wg, func() {
		next, err := station.LoadConfig(*cfgPath)
		if err != nil {
			log.Error("SIGHUP: config not reloaded; the running one stays", "err", err)
			return
		}
		reloadLevel(log, level, *verbose, next.LogLevel)
		applied, restart := s.Reload(next)
		log.Info("SIGHUP: config reloaded", "applied", applied)
		if len(restart) > 0 {
			log.Warn("SIGHUP: these changes need a restart (systemctl restart headway-station); the running values stay", "changed", restart)
		}
	})
	outCtx, stopOuts := context.WithCancel(context.Background())
	// A power cut: SIGPWR (a UPS daemon's command, e.g. systemctl kill
	// -s PWR headway-station) or the power_fail pin has the outputs draw
	// their honest last frame while there is power to draw it.
	pwr := make(chan os.Signal, 1)
	signal.Notify(pwr, syscall.SIGPWR)
	defer signal.Stop(pwr)
	wg.Go(func() {
		for {
			select {
			case <-pwr:
				log.Warn("SIGPWR: the power is failing")
				outs.PowerFail(true)
			case <-ctx.Done():
				return
			}
		}
	})
	if pin != nil {
		wg.Go(func() {
			if err := signout.WatchPower(ctx, pin, active, outs); err != nil {
				log.Error("power-fail pin not watched", "err", err)
			}
		})
	}
	outsDone := make(chan struct{})
	go func() {
		defer close(outsDone)
		select {
		case <-s.Ready(): // the cache is loaded: its view is the sign's
		case <-ctx.Done():
			return
		}
		_ = outs.Run(outCtx)
	}()
	defer func() {
		// After the station stops: the outputs' final, honest frame.
		stopOuts()
		<-outsDone
	}()
	wg.Go(func() {
		select {
		case <-s.Ready():
		case <-ctx.Done():
			return
		}
		log.Info("sign page ready", "url", "http://"+s.Addr().String()+"/")
		// systemd: ready; the watchdog fed while the sign's state and
		// cache answer.
		watchdog.Ready("sign " + cfg.Display + " on http://" + s.Addr().String() + "/")
		wg.Go(func() {
			watchdog.Run(ctx, watchdog.Options{Probes: map[string]watchdog.Probe{"station": s.Probe}, Logger: log})
		})
		if *tui {
			if err := signtui.Run(ctx, s, os.Stdout, signtui.Options{Terminal: signtui.IsTerminal(os.Stdout)}); err != nil {
				fmt.Fprintf(os.Stderr, "agent: terminal board: %v\n", err)
			}
		}
	})
	err = s.Run(ctx)
	watchdog.Stopping()
	cancel()
	return err
}

// renderCmd writes the frame a hardware sign of size would show to path:
// the running agent's view if it answers on cfg.Listen, else what the cache
// holds (a sign with no hub).
func renderCmd(cfg station.Config, path, size string, d display.Depth, out io.Writer) error {
	var w, h int
	if _, err := fmt.Sscanf(size, "%dx%d", &w, &h); err != nil {
		return fmt.Errorf("render: -size %q: want WxH, e.g. 250x122", size)
	}
	var v station.View
	from := "the running agent at " + cfg.Listen
	client := &http.Client{Timeout: 2 * time.Second}
	resp, err := client.Get("http://" + cfg.Listen + "/board.json")
	if err == nil {
		err = json.NewDecoder(resp.Body).Decode(&v)
		resp.Body.Close()
	}
	if err != nil {
		s, err := station.New(cfg, station.Options{Logger: slog.New(slog.DiscardHandler), Version: version})
		if err != nil {
			return err
		}
		if v, err = s.Snapshot(); err != nil {
			return fmt.Errorf("render: no agent answers on %s, and its cache: %w", cfg.Listen, err)
		}
		from = "the cache " + cfg.Cache
	}
	loc := time.UTC
	if v.Timezone != "" {
		if l, err := time.LoadLocation(v.Timezone); err == nil {
			loc = l
		}
	}
	f, _, err := display.Render(signframe.Board(v, loc, 0), w, h, d)
	if err != nil {
		return fmt.Errorf("render: %w", err)
	}
	file, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("render: %w", err)
	}
	if err := f.WritePNG(file); err != nil {
		file.Close()
		return fmt.Errorf("render: %w", err)
	}
	if err := file.Close(); err != nil {
		return fmt.Errorf("render: %w", err)
	}
	fmt.Fprintf(out, "rendered %s at %dx%d (depth %d) from %s\n", path, w, h, d, from)
	return nil
}

// nmeaCmd decodes a log (a file, or - / nothing for stdin) into TPV lines.
func nmeaCmd(args []string, stdin io.Reader, stdout io.Writer) error {
	fs := flag.NewFlagSet("nmea", flag.ExitOnError)
	pivot := fs.Int("pivot", nmea.DefaultPivotYear, "GPS week rollover: dates before January 1 of this `year` move forward by 1024 weeks (use the log's year for old logs)")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: agent nmea [-pivot YEAR] [FILE|-]\n\nDecodes NMEA 0183 (gpsd .log files too: # lines are skipped) into one gpsd-style TPV JSON line per epoch.")
		fs.PrintDefaults()
	}
	_ = fs.Parse(args)
	in := stdin
	if p := fs.Arg(0); p != "" && p != "-" {
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		in = f
	}
	w := bufio.NewWriter(stdout)
	defer w.Flush()
	dec := nmea.NewDecoder(in, nmea.RolloverPivot(time.Date(*pivot, 1, 1, 0, 0, 0, 0, time.UTC)))
	var buf []byte
	for {
		f, err := dec.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		buf = tpv.Append(buf[:0], f)
		if _, err := w.Write(buf); err != nil {
			return err
		}
	}
	st := dec.Stats()
	var rejects uint64
	for _, n := range st.Rejects {
		rejects += n
	}
	if rejects > 0 {
		fmt.Fprintf(os.Stderr, "agent nmea: %d sentences rejected: %v\n", rejects, st.Rejects)
	}
	return nil
}

// gpsCmd shows a receiver live for a technician: on a terminal the view
// redraws in place each second; into a file or pipe, or with -once, it
// prints plain snapshots.
func gpsCmd(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("gps", flag.ExitOnError)
	port := fs.String("port", "", "serial `device` of the receiver, e.g. /dev/ttyUSB0")
	baudFlag := fs.String("baud", "auto", "`rate`: auto, or 4800, 9600, 19200, 38400, 57600, 115200")
	once := fs.Bool("once", false, "print one snapshot, after the first fix or 10 s, and exit (non-zero without a fix)")
	verbose := fs.Bool("v", false, "debug logging to stderr (redirect it, or it mixes with the view)")
	_ = fs.Parse(args)
	if *port == "" {
		return errors.New("gps: -port is required, e.g. agent gps -port /dev/ttyUSB0")
	}
	baud, err := gps.ParseBaud(*baudFlag)
	if err != nil {
		return fmt.Errorf("gps: -baud: %w", err)
	}
	log := slog.New(slog.DiscardHandler) // the view shows errors and reconnects
	if *verbose {
		log = logger(true)
	}
	rx := gps.New(gps.Config{Path: *port, Baud: baud, Logger: log})
	return gpsview.Run(ctx, rx, os.Stdout, gpsview.Options{
		Port:     *port,
		Terminal: !*once && gpsview.IsTerminal(os.Stdout),
		Once:     *once,
	})
}
