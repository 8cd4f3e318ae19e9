package station

import (
	"bytes"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/headway-transit/headway/internal/wire"
)

// waitView waits for the station's view to satisfy cond, waking on each
// change of the sign's data rather than polling.
func waitView(tb testing.TB, st *Station, what string, cond func(View) bool) View {
	tb.Helper()
	deadline := time.After(10 * time.Second)
	for {
		changed := st.Changed()
		if v := st.View(); cond(v) {
			return v
		}
		select {
		case <-changed:
		case <-deadline:
			tb.Fatalf("timed out waiting for %s; the view: %+v", what, st.View())
		}
	}
}

// logBuffer collects a station's log lines for a test to wait on.
type logBuffer struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	changed chan struct{}
}

func newLogBuffer() *logBuffer { return &logBuffer{changed: make(chan struct{})} }

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	close(b.changed)
	b.changed = make(chan struct{})
	return b.buf.Write(p)
}

// waitFor waits until a logged line contains all of parts.
func (b *logBuffer) waitFor(tb testing.TB, parts ...string) {
	tb.Helper()
	deadline := time.After(10 * time.Second)
	for {
		b.mu.Lock()
		text, changed := b.buf.String(), b.changed
		b.mu.Unlock()
		for _, line := range strings.Split(text, "\n") {
			found := true
			for _, p := range parts {
				found = found && strings.Contains(line, p)
			}
			if found {
				return
			}
		}
		select {
		case <-changed:
		case <-deadline:
			tb.Fatalf("timed out waiting for a log line with %q; the log:\n%s", parts, text)
		}
	}
}

// zoneTimetable is a timetable for HBR naming tz as the agency's zone.
func zoneTimetable(tb testing.TB, tz string) []byte {
	return mustJSON(tb, wire.Timetable{
		Type: wire.TypeTimetable, Stop: "HBR", From: t0.Add(-time.Hour), Until: t0.Add(23 * time.Hour),
		Departures: []wire.Departure{{Trip: "soon", Route: "r3", RouteShortName: "3", Headsign: "Old Town", Scheduled: t0.Add(10 * time.Minute)}},
		Timezone:   tz,
	})
}

// hasRow reports whether the view shows trip at stop.
func hasRow(v View, stop, trip string) bool {
	for _, sv := range v.Stops {
		if sv.Stop == stop && strings.Contains(","+strings.Join(trips(sv), ",")+",", ","+trip+",") {
			return true
		}
	}
	return false
}

var utcZone = zone{name: "UTC", loc: time.UTC}

// TestZoneFromHub: with no timezone: in the config, the agency's zone in
// the hub's timetable is the zone the sign shows (t0 is in November: Rome
// is UTC+1), and it is kept in the cache, so after a restart with no hub
// the sign still shows the agency's time.
func TestZoneFromHub(t *testing.T) {
	clock := &testClock{t: t0}
	hub := newFakeHub(t, zoneTimetable(t, "Europe/Rome"))
	cfg := testConfig(t, []string{hub.URL()})
	st, err := New(cfg, Options{Logger: testLogger(t), Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	st.zones.machine = utcZone // whatever zone the test machine is in
	if v := st.View(); v.Timezone != "UTC" || v.UTCOffsetS != 0 {
		t.Fatalf("before the hub: zone %q offset %d, want the machine's, UTC", v.Timezone, v.UTCOffsetS)
	}
	_, stop := startStation(t, st)
	waitView(t, st, "the agency's zone", func(v View) bool { return v.Timezone == "Europe/Rome" })
	if v := st.View(); v.UTCOffsetS != 3600 || st.Location().String() != "Europe/Rome" {
		t.Errorf("offset %d, location %v; want 3600 and Europe/Rome", v.UTCOffsetS, st.Location())
	}
	stop()

	cfg.Hub = []string{deadURL(t)}
	st2, err := New(cfg, Options{Logger: testLogger(t), Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	st2.zones.machine = utcZone
	startStation(t, st2) // the cache is read before Ready
	if v := st2.View(); v.Timezone != "Europe/Rome" || v.UTCOffsetS != 3600 || v.Online {
		t.Errorf("restarted with no hub: zone %q offset %d online %v; want Europe/Rome +3600 from the cache, offline",
			v.Timezone, v.UTCOffsetS, v.Online)
	}
}

// TestZoneConfigWins: timezone: in the config is what the sign shows,
// whatever the hub says; a differing hub is worth a warning.
func TestZoneConfigWins(t *testing.T) {
	logs := newLogBuffer()
	hub := newFakeHub(t, zoneTimetable(t, "Europe/Rome"))
	cfg := testConfig(t, []string{hub.URL()})
	cfg.Timezone = "America/New_York"
	st, err := New(cfg, Options{Logger: slog.New(slog.NewTextHandler(logs, nil)), Now: (&testClock{t: t0}).Now})
	if err != nil {
		t.Fatal(err)
	}
	st.zones.machine = utcZone
	startStation(t, st)
	v := waitView(t, st, "the timetable", func(v View) bool { return hasRow(v, "HBR", "soon") })
	if v.Timezone != "America/New_York" || v.UTCOffsetS != -5*3600 || st.Location().String() != "America/New_York" {
		t.Errorf("zone %q offset %d location %v; want the config's America/New_York, -5 h", v.Timezone, v.UTCOffsetS, st.Location())
	}
	logs.waitFor(t, "level=WARN", "config=America/New_York", "hub=Europe/Rome")
}

// TestZoneRefused: a zone name the sign cannot use is refused with an error
// in the log, and the sign keeps its zone and the timetable's rows.
func TestZoneRefused(t *testing.T) {
	for _, tz := range []string{"../../../../etc/passwd", "/etc/localtime", "Local", "Europe/Nowhere", "Europe/Rome\x00", strings.Repeat("A/", 100)} {
		t.Run(tz[:min(len(tz), 20)], func(t *testing.T) {
			logs := newLogBuffer()
			hub := newFakeHub(t, zoneTimetable(t, tz))
			cfg := testConfig(t, []string{hub.URL()})
			st, err := New(cfg, Options{Logger: slog.New(slog.NewTextHandler(logs, nil)), Now: (&testClock{t: t0}).Now})
			if err != nil {
				t.Fatal(err)
			}
			st.zones.machine = utcZone
			startStation(t, st)
			v := waitView(t, st, "the timetable", func(v View) bool { return hasRow(v, "HBR", "soon") })
			logs.waitFor(t, "level=ERROR", "time zone the sign cannot use")
			if v.Timezone != "UTC" {
				t.Errorf("zone %q after the hub sent %q, want the machine's UTC", v.Timezone, tz)
			}
		})
	}
}

func TestAgencyZoneNames(t *testing.T) {
	for _, tc := range []struct {
		name string
		ok   bool
	}{
		{"Europe/Rome", true},
		{"America/Argentina/Buenos_Aires", true},
		{"Etc/GMT+5", true},
		{"America/Port-au-Prince", true},
		{"UTC", true},
		{"", false},
		{"Local", false},
		{"Europe/Nowhere", false},
		{"/usr/share/zoneinfo/Europe/Rome", false},
		{"Europe/../Europe/Rome", false},
		{"Europe//Rome", false},
		{"Europe/Rome ", false},
		{"Europe\\Rome", false},
		{strings.Repeat("x", maxZoneName+1), false},
	} {
		z, err := agencyZone(tc.name)
		if ok := err == nil; ok != tc.ok {
			t.Errorf("agencyZone(%q): %v; want ok %v", tc.name, err, tc.ok)
			continue
		}
		if tc.ok && (z.name != tc.name || z.loc == nil || z.loc.String() != tc.name) {
			t.Errorf("agencyZone(%q) = %+v", tc.name, z)
		}
	}
}
