// Package promorder serves several Prometheus registries as one, in the
// order given. prometheus.Gatherers sorts every family by name, which puts
// the Go runtime's go_* and process_* ahead of Headway's own headway_*,
// the ones an operator opens /metrics for. Scrapers do not mind the order.
package promorder

import (
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// Gatherer lists each gatherer's metric families in turn. A family
// gathered twice is an error, as it is for prometheus.Gatherers.
func Gatherer(gs ...prometheus.Gatherer) prometheus.Gatherer {
	return prometheus.GathererFunc(func() ([]*dto.MetricFamily, error) {
		var out []*dto.MetricFamily
		var errs []error
		seen := map[string]bool{}
		for _, g := range gs {
			fams, err := g.Gather()
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
	})
}
