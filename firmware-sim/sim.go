package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"slices"
	"strconv"
	"time"

	"github.com/headway-transit/headway/firmware-sim/internal/feedout"
	"github.com/headway-transit/headway/firmware-sim/internal/fleet"
	"github.com/headway-transit/headway/firmware-sim/internal/mqttout"
	"github.com/headway-transit/headway/firmware-sim/internal/profile"
	"github.com/headway-transit/headway/firmware-sim/internal/ptyport"
	"github.com/headway-transit/headway/firmware-sim/internal/scenario"
	"github.com/headway-transit/headway/firmware-sim/internal/serialport"
	"github.com/headway-transit/headway/internal/gtfs"
)

// version is reported in the MQTT status messages.
const version = "firmware-sim/1"

// simulate runs scenario s: the run command, or with isFleet the fleet
// command (every route by default, a status line, a summary rather than a
// line per bus when publishing to MQTT).
func simulate(ctx context.Context, s scenario.Scenario, isFleet bool, stdout, stderr io.Writer) error {
	var feed *gtfs.Feed
	if isFleet && s.Feed != "" && len(s.Trips)+len(s.Routes)+len(s.Blocks) == 0 {
		var err error
		if feed, err = gtfs.Load(s.Feed); err != nil {
			return err
		}
		for id := range feed.Routes {
			s.Routes = append(s.Routes, id)
		}
		slices.Sort(s.Routes)
	}
	if err := s.Ready(); err != nil {
		return usageError{err}
	}
	if feed == nil {
		var err error
		if feed, err = gtfs.Load(s.Feed); err != nil {
			return err
		}
	}
	level := slog.LevelInfo
	if isFleet {
		level = slog.LevelWarn // a trip change a second for a big fleet is noise
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level})).With("component", "firmware-sim")
	opts := fleet.Options{
		Feed: feed, Trips: s.Trips, Routes: s.Routes, Blocks: s.Blocks, Vehicles: s.Vehicles, Toward: s.Toward,
		Start: s.StartTime(time.Now()), Speedup: s.Speedup, Duration: s.Duration.D(), Seed: s.Seed,
		Motion: s.MotionConfig(), Layover: s.Layover.D(), Skip: s.Skip, SkipTrips: s.SkipTrips, Logger: log,
	}
	if s.Emulated() {
		rx := s.Receiver
		opts.Receiver = &rx
	}
	if s.Truth != "" {
		f, err := os.Create(s.Truth)
		if err != nil {
			return fmt.Errorf("truth file: %w", err)
		}
		defer f.Close()
		opts.Truth = f
	}
	single := ""
	var avl *feedout.Server
	switch out := s.Output; {
	case out.Stdout:
		single = "-stdout"
		opts.Open = func(int) (fleet.Port, error) { return stdoutPort{stdout}, nil }
	case out.Port != "":
		single = "-port"
		baud := serialBaud(s)
		opts.Open = func(int) (fleet.Port, error) { return serialport.Open(out.Port, baud) }
	case out.MQTT != "":
		// The publisher needs the names before the fleet exists; the
		// fleet's size is known only once it has dispatched, so name
		// the buses here and build the publisher for the fleet's count.
		opts.Name = func(i int) string { return out.Name + strconv.Itoa(i) }
		opts.Publisher = &lazyPublisher{}
	case out.AVL != "":
		opts.Name = func(i int) string { return out.Name + strconv.Itoa(i) }
		avl = feedout.New(opts.Name, out.SendTrip, nil)
		opts.Publisher = avl
	default:
		opts.Open = func(i int) (fleet.Port, error) { return ptyport.Open(out.Link + strconv.Itoa(i)) }
	}
	fl, err := fleet.New(opts)
	if err != nil {
		return err
	}
	defer fl.Close()
	if n := len(fl.Vehicles()); single != "" && n != 1 {
		return usageError{fmt.Errorf("%s takes one receiver, not %d", single, n)}
	}
	var pub *mqttout.Publisher
	if lp, ok := opts.Publisher.(*lazyPublisher); ok {
		var names []string
		for _, v := range fl.Vehicles() {
			names = append(names, v.Name)
		}
		pub, err = mqttout.New(mqttout.Options{
			URL: s.Output.MQTT, Prefix: s.Output.Prefix, Clients: s.Output.Clients, ClientID: s.Output.ClientID,
			Version: version, SendTrip: s.Output.SendTrip, Logger: log,
		}, names)
		if err != nil {
			return err
		}
		lp.Publisher = pub
		cctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
		err = pub.Connect(cctx)
		cancel()
		defer func() {
			cctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			if err := pub.Close(cctx); err != nil {
				log.Warn("mqtt close", "err", err)
			}
		}()
		if err != nil {
			return err
		}
	}
	if avl != nil {
		ln, err := net.Listen("tcp", s.Output.AVL)
		if err != nil {
			return fmt.Errorf("-avl %s: %w", s.Output.AVL, err)
		}
		srv := &http.Server{Handler: avl.Handler(), ReadHeaderTimeout: 10 * time.Second}
		go func() { _ = srv.Serve(ln) }()
		defer srv.Close()
		fmt.Fprintf(stdout, "AVL feed: http://%s/vehicle-positions.pb (GTFS-Realtime), http://%s/vehicle-monitoring.xml (SIRI VM)\n", ln.Addr(), ln.Addr())
	}
	announce(fl, s, single != "" && s.Output.Stdout, stdout, stderr)
	var st *statusLine
	if isFleet {
		st = startStatus(ctx, stderr, fl, pub)
	}
	err = fl.Run(ctx)
	if st != nil {
		st.stop()
	}
	if err != nil {
		return err
	}
	return fl.Close()
}

// announce tells the technician where each bus is (stdout, or stderr when
// stdout carries NMEA), or for MQTT a summary.
func announce(fl *fleet.Fleet, s scenario.Scenario, nmeaOnStdout bool, stdout, stderr io.Writer) {
	w := stdout
	if nmeaOnStdout {
		w = stderr
	}
	vs := fl.Vehicles()
	if s.Output.MQTT != "" && len(vs) > 10 {
		fmt.Fprintf(w, "%d buses publishing to %s as %s .. %s (prefix %s, %s)\n", len(vs), s.Output.MQTT,
			vs[0].Name, vs[len(vs)-1].Name, s.Output.Prefix, clientsText(s.Output.Clients, len(vs)))
	} else {
		for _, v := range vs {
			fmt.Fprintln(w, v.Describe())
		}
	}
	if f, ok := w.(interface{ Sync() error }); ok {
		f.Sync() // a script waiting for these lines gets them now
	}
}

func clientsText(k, n int) string {
	if k == 0 || k >= n {
		return "one MQTT connection per bus"
	}
	return fmt.Sprintf("%d shared MQTT connections", k)
}

// serialBaud is the rate to open a real serial port at: the receiver's
// baud, else its profile's, else 9600 like the plain receiver.
func serialBaud(s scenario.Scenario) int {
	if s.Receiver.Baud > 0 {
		return s.Receiver.Baud
	}
	if s.Emulated() {
		if p, err := profile.Lookup(s.Receiver.Profile); err == nil && p.Baud > 0 {
			return p.Baud
		}
	}
	return 9600
}

// lazyPublisher lets the fleet be built before the publisher, which needs
// the fleet's vehicle names.
type lazyPublisher struct{ *mqttout.Publisher }

// stdoutPort is the -stdout receiver's port; closing it leaves stdout open.
type stdoutPort struct{ io.Writer }

func (stdoutPort) Close() error   { return nil }
func (stdoutPort) String() string { return "stdout" }
