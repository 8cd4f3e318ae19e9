package scenario

import (
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Every scenario shipped in configs/ loads, validates and is ready to run.
func TestConfigsLoad(t *testing.T) {
	files, err := filepath.Glob("../../../configs/sim-*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 4 {
		t.Fatalf("found %d scenarios in configs/, want at least 4", len(files))
	}
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			s, err := Load(path)
			if err != nil {
				t.Fatal(err)
			}
			if len(s.Routes)+len(s.Trips)+len(s.Blocks) == 0 {
				s.Routes = []string{"1"} // the fleet command fills in every route
			}
			if err := s.Ready(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestLoadRejects(t *testing.T) {
	tests := []struct {
		file string
		want []string // each in the error
	}{
		{"typo.yaml", []string{"config testdata/typo.yaml: line 4: vehicle: unknown field, did you mean vehicles?"}},
		{"nested-typo.yaml", []string{
			"config testdata/nested-typo.yaml: line 6: receiver.faults.multipath.enabeld: unknown field, did you mean receiver.faults.multipath.enabled?\n" +
				`config testdata/nested-typo.yaml: line 6: receiver.faults.multipath.duration: "3" is not a duration (write it like 90s or 1m30s)`,
		}},
		{"bad-values.yaml", []string{"speedup", "skip: 1.5", "traffic.hourly", "rate_hz"}},
		{"missing.yaml", []string{"missing.yaml"}},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			_, err := Load(filepath.Join("testdata", tc.file))
			if err == nil {
				t.Fatal("want an error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestDefaultsAndValues(t *testing.T) {
	s, err := Load("../../../configs/sim-rush-hour.yaml")
	if err != nil {
		t.Fatal(err)
	}
	m := s.MotionConfig()
	if m.DwellMin != 20*time.Second || m.Traffic.Hourly[8] != 0.5 || m.Traffic.HaltsPerKm != 0.8 {
		t.Errorf("rush hour motion %+v", m)
	}
	if got := s.StartTime(time.Now()); got.Hour() != 7 || got.Minute() != 45 {
		t.Errorf("start %v", got)
	}
	d, city := Default(), Default()
	d.Traffic.Enabled = false
	if d.MotionConfig().Traffic == city.MotionConfig().Traffic {
		t.Error("traffic disabled still gives the city's traffic")
	}
	if d.Emulated() {
		t.Error("the default receiver is emulated; want the plain one")
	}
}
