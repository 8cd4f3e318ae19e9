package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"text/tabwriter"
	"time"

	"github.com/headway-transit/headway/hub/internal/broker"
	"github.com/headway-transit/headway/hub/internal/config"
	"github.com/headway-transit/headway/hub/internal/vehicles"
)

// vehiclesCmd is `hub vehicles add|list|revoke`: the register of buses and
// their passwords on the embedded broker (mqtt.vehicles in hub.yaml). A
// running hub reads it again within a few seconds, or at once on SIGHUP.
func vehiclesCmd(args []string, out io.Writer) error {
	if len(args) == 0 {
		return errors.New("vehicles: want add, list or revoke (hub vehicles add -config hub.yaml -vehicle bus-17)")
	}
	fs := flag.NewFlagSet("vehicles "+args[0], flag.ContinueOnError)
	cfgPath := fs.String("config", "configs/hub.yaml", "the hub's config `file` (its mqtt.vehicles names the register)")
	vehicle := fs.String("vehicle", "", "the bus's `id`, as in its vehicle.yaml (vehicle:)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	cfg, err := config.Load(*cfgPath)
	if err != nil {
		return err
	}
	path := cfg.MQTT.Vehicles
	if path == "" {
		return fmt.Errorf("vehicles: %s has no mqtt.vehicles (the register's file): set it, then add the buses", *cfgPath)
	}
	now := time.Now()
	switch args[0] {
	case "add":
		if *vehicle == "" {
			return errors.New("vehicles add: -vehicle is required")
		}
		pw, err := vehicles.Add(path, *vehicle, now)
		if err != nil {
			return fmt.Errorf("vehicles add: %w", err)
		}
		fmt.Fprintf(out, "vehicle %s registered in %s. Its password, shown this once (in the bus's vehicle.yaml: mqtt: {username: %s, password: ...}, file mode 0600):\n%s\n",
			*vehicle, path, *vehicle, pw)
	case "revoke":
		if *vehicle == "" {
			return errors.New("vehicles revoke: -vehicle is required")
		}
		if err := vehicles.Revoke(path, *vehicle, now); err != nil {
			return fmt.Errorf("vehicles revoke: %w", err)
		}
		fmt.Fprintf(out, "vehicle %s's password revoked; a running hub closes its connection within seconds (at once on SIGHUP)\n", *vehicle)
	case "list":
		all, err := vehicles.Load(path)
		if err != nil {
			return err
		}
		w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "VEHICLE\tCREATED\tREVOKED")
		for _, v := range all {
			rev := "-"
			if !v.Revoked.IsZero() {
				rev = v.Revoked.Format(time.RFC3339)
			}
			fmt.Fprintf(w, "%s\t%s\t%s\n", v.Vehicle, v.Created.Format(time.RFC3339), rev)
		}
		return w.Flush()
	default:
		return fmt.Errorf("vehicles: unknown command %q, want add, list or revoke", args[0])
	}
	return nil
}

// vehicleRegister is the running hub's register of buses, nil when the
// config has none.
type vehicleRegister struct {
	reg *vehicles.Register
	log *slog.Logger
}

func openVehicles(cfg config.Config, logger *slog.Logger) (*vehicleRegister, error) {
	if cfg.MQTT.Vehicles == "" {
		return nil, nil
	}
	r, err := vehicles.Open(cfg.MQTT.Vehicles)
	if err != nil {
		return nil, fmt.Errorf("mqtt.vehicles: %w", err)
	}
	return &vehicleRegister{reg: r, log: logger.With("component", "vehicles")}, nil
}

// checker is what the broker asks at each connect; nil with no register.
func (v *vehicleRegister) checker() broker.Vehicles {
	if v == nil {
		return nil
	}
	return v.reg
}

// reload reads the register again and cuts off the buses whose passwords
// went.
func (v *vehicleRegister) reload(b *broker.Broker) {
	gone, err := v.reg.Reload()
	if err != nil {
		v.log.Error("vehicle register not reloaded: the one in use stays", "err", err)
		return
	}
	if len(gone) > 0 {
		n := b.Disconnect(gone)
		v.log.Info("vehicle passwords revoked or replaced: their connections closed", "vehicles", gone, "connections", n)
	}
}

// watchFile calls changed when the file at path changes (its time or
// size), checking every period, until ctx is done.
func watchFile(ctx context.Context, path string, every time.Duration, changed func()) {
	var last time.Time
	var size int64
	if st, err := os.Stat(path); err == nil {
		last, size = st.ModTime(), st.Size()
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			st, err := os.Stat(path)
			if err != nil || (st.ModTime().Equal(last) && st.Size() == size) {
				continue
			}
			last, size = st.ModTime(), st.Size()
			changed()
		}
	}
}
