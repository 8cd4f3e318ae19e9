package server

import (
	"errors"
	"fmt"
)

// inOrder joins gatherers' Gather methods into one that lists each one's
// metric families in turn. prometheus.Gatherers would sort them all by
// name, which puts the Go runtime's go_* and process_* ahead of the hub's
// own headway_*, the ones an operator opens /metrics for. Scrapers do not
// mind the order. A family gathered twice is an error, as it is for
// prometheus.Gatherers. (Generic over the family type only so that this
// package need not import client_model for its name.)
func inOrder[F interface{ GetName() string }](gathers ...func() ([]F, error)) func() ([]F, error) {
	return func() ([]F, error) {
		var out []F
		var errs []error
		seen := map[string]bool{}
		for _, gather := range gathers {
			fams, err := gather()
			if err != nil {
				errs = append(errs, err)
			}
			for _, f := range fams {
				if seen[f.GetName()] {
					errs = append(errs, fmt.Errorf("metric family %s gathered twice", f.GetName()))
					continue
				}
				seen[f.GetName()] = true
				out = append(out, f)
			}
		}
		return out, errors.Join(errs...)
	}
}
