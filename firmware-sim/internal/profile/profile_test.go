package profile

import (
	"strings"
	"testing"

	"github.com/headway-transit/headway/drivers/nmea"
)

func TestProfiles(t *testing.T) {
	seen := map[string]bool{}
	for _, p := range All() {
		t.Run(p.Name, func(t *testing.T) {
			if seen[p.Name] {
				t.Fatal("duplicate name")
			}
			seen[p.Name] = true
			if len(p.Epoch) == 0 || p.Baud <= 0 || len(p.Systems) == 0 {
				t.Errorf("incomplete: %+v", p)
			}
			for _, s := range p.Epoch {
				switch s.Type {
				case nmea.TypeRMC, nmea.TypeGGA, nmea.TypeGNS, nmea.TypeGLL, nmea.TypeVTG, nmea.TypeGSA, nmea.TypeGSV, nmea.TypeZDA:
				default:
					t.Errorf("sentence type %q cannot be emitted", s.Type)
				}
				if s.System != "" && !p.Tracks(s.System) {
					t.Errorf("%s%s for %s, which the profile does not track", s.Talker, s.Type, s.System)
				}
			}
			for _, b := range p.Boot {
				if _, err := nmea.ParseSentence(nmea.AppendChecksum(nil, []byte(b))); err != nil {
					t.Errorf("boot line %q: %v", b, err)
				}
			}
		})
	}
	if _, err := Lookup("garmin-18"); err == nil || !strings.Contains(err.Error(), "ublox-m8") {
		t.Errorf("Lookup of an unknown profile = %v, want the list of names", err)
	}
	if p, err := Lookup(""); err != nil || p.Name != Generic {
		t.Errorf(`Lookup("") = %v, %v`, p.Name, err)
	}
}
