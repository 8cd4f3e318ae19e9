package station

import (
	"fmt"
	"strings"
	"time"

	// A sign's system image may have no zone database: the zone the hub
	// names must load all the same.
	_ "time/tzdata"
)

// zone is a time zone the sign can show times in.
type zone struct {
	name string // IANA name, for the page's Intl clock; "" when unknown
	loc  *time.Location
}

// zones decides the sign's time zone: timezone: from the config when it is
// set, else the agency's zone as the hub reports it (timetable.timezone,
// remembered in the cache), else the machine's.
type zones struct {
	config  zone // loc nil when timezone: is not set
	machine zone
}

func (z zones) pick(agency zone) zone {
	switch {
	case z.config.loc != nil:
		return z.config
	case agency.loc != nil:
		return agency
	case z.machine.loc != nil:
		return z.machine
	}
	return zone{name: "UTC", loc: time.UTC}
}

// machineZone is the zone of the machine the agent runs on.
func machineZone() zone { return zone{name: localZoneName(), loc: time.Local} }

// maxZoneName bounds a zone name from the wire; the longest IANA names
// are about 30 bytes.
const maxZoneName = 64

// agencyZone checks a zone name that came from outside (the hub or the
// cache file) before it is used: only IANA-style names (letters, digits,
// "_", "-", "+", "/" between parts) that the zone database knows. Never
// "Local", which would silently mean this machine again, and never a
// path, which time.LoadLocation would read from the disk.
func agencyZone(name string) (zone, error) {
	if name == "" || len(name) > maxZoneName {
		return zone{}, fmt.Errorf("time zone name of %d bytes, want 1 to %d", len(name), maxZoneName)
	}
	for _, part := range strings.Split(name, "/") {
		if part == "" || part == "." || part == ".." {
			return zone{}, fmt.Errorf("time zone %q: not an IANA zone name", name)
		}
		for _, r := range part {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-' || r == '+') {
				return zone{}, fmt.Errorf("time zone %q: not an IANA zone name", name)
			}
		}
	}
	if name == "Local" {
		return zone{}, fmt.Errorf("time zone %q: not an IANA zone name", name)
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return zone{}, fmt.Errorf("time zone %q is not in this machine's zone database: %w", name, err)
	}
	return zone{name: name, loc: loc}, nil
}
