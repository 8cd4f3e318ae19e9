package boards_test

import (
	"testing"
	"time"

	"github.com/headway-transit/headway/hub/internal/boards"
	"github.com/headway-transit/headway/hub/internal/testfeed"
	"github.com/headway-transit/headway/internal/wire"
)

var day = time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)

func TestBoardSchedule(t *testing.T) {
	b := boards.Builder{Feed: testfeed.Line(t), Horizon: 20 * time.Minute, MaxRows: 10}
	now := day.Add(8*time.Hour + 5*time.Minute) // 08:05
	board := b.Board("S2", now, nil)
	if board.Stop != "S2" || board.StopName != "Stop 2" || board.Type != wire.TypeBoard {
		t.Fatalf("header %+v", board)
	}
	// Eastbound trips reach S2 four minutes after leaving S0, westbound too
	// (S2 is the middle). In 08:04:30..08:25: E0810 (08:14), W0810 (08:14),
	// E0820, W0820 (08:24); E0800/W0800 at 08:04 fell off 30 s ago.
	var got []string
	for _, a := range board.Arrivals {
		got = append(got, a.Trip+"@"+a.Scheduled.Format("15:04"))
		if a.Source != wire.SourceSchedule || a.Predicted != nil {
			t.Errorf("%s: want a schedule-only row", a.Trip)
		}
		if a.RouteShortName != "1" || a.Headsign == "" {
			t.Errorf("%s: route %q headsign %q", a.Trip, a.RouteShortName, a.Headsign)
		}
	}
	want := []string{"E0810@08:14", "W0810@08:14", "E0820@08:24", "W0820@08:24"}
	if len(got) != len(want) {
		t.Fatalf("arrivals %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("arrivals %v, want %v", got, want)
		}
	}
}

func TestBoardRealtimeAndTerminus(t *testing.T) {
	b := boards.Builder{Feed: testfeed.Line(t), Horizon: 20 * time.Minute, MaxRows: 10}
	now := day.Add(8*time.Hour + 5*time.Minute)
	ds := day.Unix()
	pred := now.Add(90 * time.Second)
	p := boards.Predictions{
		{Trip: "E0800", DayStart: ds}: {3: {Vehicle: "bus-1", Predicted: pred}}, // S3; passed S2
		{Trip: "W0810", DayStart: ds}: {2: {Vehicle: "bus-2", Predicted: now.Add(11 * time.Minute)}},
	}
	board := b.Board("S3", now, p)
	if len(board.Arrivals) == 0 || board.Arrivals[0].Trip != "E0800" || board.Arrivals[0].Source != wire.SourceRealtime ||
		!board.Arrivals[0].Predicted.Equal(pred) || board.Arrivals[0].Vehicle != "bus-1" {
		t.Fatalf("first arrival %+v, want E0800 realtime at %v", board.Arrivals, pred)
	}
	s2 := b.Board("S2", now, p)
	for _, a := range s2.Arrivals {
		if a.Trip == "E0800" {
			t.Errorf("E0800 has passed S2 but is on its board")
		}
		if a.Trip == "W0810" && (a.Source != wire.SourceRealtime || a.Vehicle != "bus-2") {
			t.Errorf("W0810 at S2: %+v", a)
		}
	}
	// S4 ends every eastbound trip: nobody boards there, so only westbound.
	for _, a := range b.Board("S4", now, nil).Arrivals {
		if a.Trip[0] == 'E' {
			t.Errorf("terminating trip %s listed at S4", a.Trip)
		}
	}
}

func TestBoardMaxRows(t *testing.T) {
	b := boards.Builder{Feed: testfeed.Line(t), Horizon: 3 * time.Hour, MaxRows: 3}
	if n := len(b.Board("S1", day.Add(9*time.Hour), nil).Arrivals); n != 3 {
		t.Errorf("%d rows, want 3", n)
	}
}

func TestTimetable(t *testing.T) {
	b := boards.Builder{Feed: testfeed.Line(t), Horizon: time.Hour, MaxRows: 10}
	from := day.Add(21 * time.Hour)
	tt := b.Timetable("S0", from, 26*time.Hour)
	if !tt.Until.Equal(from.Add(26*time.Hour)) || tt.Type != wire.TypeTimetable {
		t.Fatalf("header %+v", tt)
	}
	if tt.Timezone != "UTC" {
		t.Errorf("timezone %q, want the feed's agency_timezone UTC", tt.Timezone)
	}
	// Eastbound departures from S0: 21:00..21:50 today (6), 06:00..21:50
	// tomorrow (96), and 06:00..22:50 is cut at 23:00 tomorrow: 96 in all
	// tomorrow. S0 ends westbound trips, so they are not listed.
	if n := len(tt.Departures); n != 6+96 {
		t.Errorf("%d departures, want %d", n, 6+96)
	}
	for i := 1; i < len(tt.Departures); i++ {
		if tt.Departures[i].Scheduled.Before(tt.Departures[i-1].Scheduled) {
			t.Fatalf("departures out of order at %d", i)
		}
	}
	if tt.Departures[0].Trip != "E2100" {
		t.Errorf("first departure %s, want E2100", tt.Departures[0].Trip)
	}
}
