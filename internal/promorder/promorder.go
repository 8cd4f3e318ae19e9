// Package promorder serves several Prometheus registries as one, in the
// order given. prometheus.Gatherers sorts every family by name, which puts
// the Go runtime's go_* and process_* ahead of Headway's own headway_*,
// the ones an operator opens /metrics for. Scrapers do not mind the order.
package promorder

import (
	"errors"
	"fmt"
	"strings"

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

// CheckText reads the families of a /metrics page (Prometheus text format)
// and says whether those named with prefix all come before the Go
// runtime's and the process's. It returns the family names in order.
func CheckText(body, prefix string) ([]string, error) {
	var names []string
	for line := range strings.SplitSeq(body, "\n") {
		if name, ok := strings.CutPrefix(line, "# TYPE "); ok {
			if f := strings.Fields(name); len(f) > 0 {
				names = append(names, f[0])
			}
		}
	}
	if len(names) == 0 || !strings.HasPrefix(names[0], prefix) {
		return names, fmt.Errorf("first metric family %v, want a %s one", names[:min(len(names), 1)], prefix)
	}
	runtime := false
	for _, n := range names {
		switch {
		case strings.HasPrefix(n, "go_") || strings.HasPrefix(n, "process_"):
			runtime = true
		case runtime:
			return names, fmt.Errorf("%s comes after the runtime's metrics: %v", n, names)
		}
	}
	if !runtime {
		return names, fmt.Errorf("no runtime metrics in %v", names)
	}
	return names, nil
}
