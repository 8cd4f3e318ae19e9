package promorder

import (
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

func registry(t *testing.T, names ...string) *prometheus.Registry {
	t.Helper()
	r := prometheus.NewRegistry()
	for _, n := range names {
		r.MustRegister(prometheus.NewGauge(prometheus.GaugeOpts{Name: n, Help: n}))
	}
	return r
}

func TestGatherer(t *testing.T) {
	for _, c := range []struct {
		name      string
		first     []string
		then      []string
		want      []string
		wantError string
	}{
		{name: "first before then", first: []string{"headway_b", "headway_a"}, then: []string{"go_x", "process_y"},
			want: []string{"headway_a", "headway_b", "go_x", "process_y"}},
		{name: "empty first", then: []string{"go_x"}, want: []string{"go_x"}},
		{name: "a family in both", first: []string{"headway_a", "go_x"}, then: []string{"go_x", "go_y"},
			want: []string{"go_x", "headway_a", "go_y"}, wantError: "go_x gathered twice"},
	} {
		t.Run(c.name, func(t *testing.T) {
			fams, err := Gatherer(registry(t, c.first...), registry(t, c.then...)).Gather()
			var got []string
			for _, f := range fams {
				got = append(got, f.GetName())
			}
			if !slices.Equal(got, c.want) {
				t.Errorf("families %v, want %v", got, c.want)
			}
			if (err == nil) != (c.wantError == "") || err != nil && !strings.Contains(err.Error(), c.wantError) {
				t.Errorf("error %v, want %q", err, c.wantError)
			}
		})
	}
}
