package push_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/headway-transit/headway/hub/internal/boards"
	"github.com/headway-transit/headway/hub/internal/push"
	"github.com/headway-transit/headway/internal/gtfs"
	"github.com/headway-transit/headway/internal/wire"
)

// feedSource serves what the hub builds from a GTFS feed.
type feedSource struct{ b *boards.Builder }

func (s feedSource) KnownStop(stop string) bool { return s.b.Feed.Stops[stop] != nil }

func (s feedSource) Board(stop string) []byte {
	b, _ := json.Marshal(s.b.Board(stop, time.Now(), nil))
	return b
}

func (s feedSource) Timetable(stop string) []byte {
	b, _ := json.Marshal(s.b.Timetable(stop, time.Now(), 25*time.Hour))
	return b
}

// TestTimetableTimezone: the timetable a sign receives names the agency's
// time zone (docs/contracts.md: timetable.timezone), so that the sign shows
// the agency's time and not its machine's.
func TestTimetableTimezone(t *testing.T) {
	feed, err := gtfs.Load("../../../configs/demo-feed")
	if err != nil {
		t.Fatal(err)
	}
	_, url := start(t, push.Options{Source: feedSource{&boards.Builder{Feed: feed, Horizon: time.Hour, MaxRows: 8}}})
	c := dial(t, url, nil)
	subscribe(t, c, "sign-tz", "CEN")
	for {
		typ, msg := read(t, c)
		if typ != wire.TypeTimetable {
			continue
		}
		var raw map[string]any
		if err := json.Unmarshal(msg, &raw); err != nil {
			t.Fatal(err)
		}
		if raw["timezone"] != "Europe/Rome" {
			t.Errorf("timetable timezone = %v, want the demo feed's agency_timezone Europe/Rome", raw["timezone"])
		}
		tt, err := wire.DecodeTimetable(msg)
		if err != nil {
			t.Fatalf("the timetable does not decode: %v", err)
		}
		if tt.Stop != "CEN" || tt.Timezone != "Europe/Rome" {
			t.Errorf("decoded stop %q timezone %q", tt.Stop, tt.Timezone)
		}
		return
	}
}
