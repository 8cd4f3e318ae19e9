package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/headway-transit/headway/hub/internal/config"
	"github.com/headway-transit/headway/hub/internal/push"
	"github.com/headway-transit/headway/hub/internal/signs"
)

// signsCmd is `hub signs add|list|revoke`: the register of signs and their
// tokens (http.signs in hub.yaml). A running hub reads it again within
// a few seconds, or at once on SIGHUP.
func signsCmd(args []string, out io.Writer) error {
	if len(args) == 0 {
		return errors.New("signs: want add, list or revoke (hub signs add -config hub.yaml -display sign-42 -stops CEN,S1)")
	}
	fs := flag.NewFlagSet("signs "+args[0], flag.ContinueOnError)
	cfgPath := fs.String("config", "configs/hub.yaml", "the hub's config `file` (its http.signs names the register)")
	display := fs.String("display", "", "the sign's `id`, as in its station.yaml")
	stops := fs.String("stops", "", "the stop `ids` the sign may show, comma-separated")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	cfg, err := config.Load(*cfgPath)
	if err != nil {
		return err
	}
	path := cfg.HTTP.Signs
	if path == "" {
		return fmt.Errorf("signs: %s has no http.signs (the register's file): set it, then add the signs", *cfgPath)
	}
	now := time.Now()
	switch args[0] {
	case "add":
		if *display == "" || *stops == "" {
			return errors.New("signs add: -display and -stops are required")
		}
		tok, err := signs.Add(path, *display, strings.Split(*stops, ","), now)
		if err != nil {
			return fmt.Errorf("signs add: %w", err)
		}
		fmt.Fprintf(out, "sign %s registered for %s in %s. Its token, shown this once (put it in the sign's station.yaml, token:):\n%s\n", *display, *stops, path, tok)
	case "revoke":
		if *display == "" {
			return errors.New("signs revoke: -display is required")
		}
		if err := signs.Revoke(path, *display, now); err != nil {
			return fmt.Errorf("signs revoke: %w", err)
		}
		fmt.Fprintf(out, "sign %s's token revoked; a running hub closes its connection within seconds (at once on SIGHUP)\n", *display)
	case "list":
		all, err := signs.Load(path)
		if err != nil {
			return err
		}
		w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "DISPLAY\tSTOPS\tCREATED\tREVOKED")
		for _, s := range all {
			rev := "-"
			if !s.Revoked.IsZero() {
				rev = s.Revoked.Format(time.RFC3339)
			}
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", s.Display, strings.Join(s.Stops, ","), s.Created.Format(time.RFC3339), rev)
		}
		return w.Flush()
	default:
		return fmt.Errorf("signs: unknown command %q, want add, list or revoke", args[0])
	}
	return nil
}

// signRegister is the running hub's register, nil when it registers no
// signs (any sign may connect).
type signRegister struct {
	reg *signs.Register
	log *slog.Logger
}

func openSigns(cfg config.Config, logger *slog.Logger) (*signRegister, error) {
	if cfg.HTTP.Signs == "" {
		return nil, nil
	}
	r, err := signs.Open(cfg.HTTP.Signs)
	if err != nil {
		return nil, fmt.Errorf("http.signs: %w", err)
	}
	return &signRegister{reg: r, log: logger.With("component", "signs")}, nil
}

// auth is push.Options.Auth.
func (s *signRegister) auth() func(string) (string, []string, error) {
	if s == nil {
		return nil
	}
	return func(token string) (string, []string, error) {
		g, err := s.reg.Check(token)
		return g.Display, g.Stops, err
	}
}

// reload reads the register again and cuts off the signs whose tokens went.
func (s *signRegister) reload(p *push.Server) {
	if s == nil {
		return
	}
	gone, err := s.reg.Reload()
	if err != nil {
		s.log.Error("sign register not reloaded: the one in use stays", "err", err)
		return
	}
	if len(gone) > 0 {
		s.log.Info("sign tokens revoked or replaced: their connections closed", "displays", gone)
		p.Revoked(gone)
	}
}
