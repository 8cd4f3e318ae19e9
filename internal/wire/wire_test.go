package wire

import (
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"
	"time"
)

func goodPosition() Position {
	return Position{
		V: 1, Vehicle: "bus-17", Seq: 1234, Time: time.Date(2026, 11, 27, 7, 0, 1, 0, time.UTC),
		Lat: 44.4, Lon: 8.9, Speed: Float(8.5), Track: Float(271), Mode: 3, HDOP: Float(0.9), Sats: Int(9),
	}
}

func TestPositionRoundTrip(t *testing.T) {
	p := goodPosition()
	b, err := p.Encode()
	if err != nil {
		t.Fatal(err)
	}
	got, err := DecodePosition(b)
	if err != nil {
		t.Fatal(err)
	}
	if got.Vehicle != p.Vehicle || got.Seq != p.Seq || !got.Time.Equal(p.Time) || got.Lat != p.Lat || *got.Speed != *p.Speed {
		t.Errorf("round trip: got %+v, want %+v", got, p)
	}
	if !strings.Contains(string(b), `"backfill":false`) {
		t.Errorf("backfill must always be present: %s", b)
	}
}

func TestDecodePositionRejects(t *testing.T) {
	tests := []struct {
		name    string
		payload string
		want    string
	}{
		{"not json", `hello`, "invalid character"},
		{"wrong type", `{"v":1,"vehicle":17}`, "cannot unmarshal"},
		{"unknown field", `{"v":1,"vehicle":"a","lat_":1}`, "unknown field"},
		{"version", `{"v":2,"vehicle":"a","time":"2026-11-27T07:00:01Z","lat":1,"lon":1,"mode":3}`, "version 2"},
		{"no time", `{"v":1,"vehicle":"a","lat":1,"lon":1,"mode":3}`, "time is missing"},
		{"lat range", `{"v":1,"vehicle":"a","time":"2026-11-27T07:00:01Z","lat":91,"lon":1,"mode":3}`, "lat 91"},
		{"mode", `{"v":1,"vehicle":"a","time":"2026-11-27T07:00:01Z","lat":1,"lon":1,"mode":1}`, "mode 1"},
		{"speed", `{"v":1,"vehicle":"a","time":"2026-11-27T07:00:01Z","lat":1,"lon":1,"mode":3,"speed":-1}`, "speed"},
		{"vehicle slash", `{"v":1,"vehicle":"a/b","time":"2026-11-27T07:00:01Z","lat":1,"lon":1,"mode":3}`, "not allowed"},
		{"trailing", `{"v":1,"vehicle":"a","time":"2026-11-27T07:00:01Z","lat":1,"lon":1,"mode":3} {}`, "trailing"},
		{"huge", `{"v":1,"vehicle":"` + strings.Repeat("a", MaxPayload) + `"}`, "more than"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := DecodePosition([]byte(tc.payload))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestValidateNaN(t *testing.T) {
	p := goodPosition()
	p.Lat = math.NaN()
	if err := p.Validate(); err == nil {
		t.Fatal("NaN latitude accepted")
	}
	p = goodPosition()
	p.Track = Float(math.Inf(1))
	if err := p.Validate(); err == nil {
		t.Fatal("infinite track accepted")
	}
}

func TestTopics(t *testing.T) {
	tp := Topics{}
	if got := tp.Position("bus-1"); got != "headway/v1/vehicles/bus-1/position" {
		t.Errorf("Position = %q", got)
	}
	tests := []struct {
		topic, vehicle, kind string
		ok                   bool
	}{
		{"headway/v1/vehicles/bus-1/position", "bus-1", KindPosition, true},
		{"headway/v1/vehicles/bus-1/status", "bus-1", KindStatus, true},
		{"headway/v1/vehicles/bus-1/other", "", "", false},
		{"headway/v1/vehicles/bus-1/position/x", "", "", false},
		{"other/v1/vehicles/bus-1/position", "", "", false},
		{"headway/v1/vehicles//position", "", "", false},
	}
	for _, tc := range tests {
		t.Run(tc.topic, func(t *testing.T) {
			v, k, err := tp.ParseVehicleTopic(tc.topic)
			if (err == nil) != tc.ok || v != tc.vehicle || k != tc.kind {
				t.Errorf("got %q %q %v, want %q %q ok=%v", v, k, err, tc.vehicle, tc.kind, tc.ok)
			}
		})
	}
	custom := Topics{Prefix: "city/bus/"}
	if got := custom.Board("CEN"); got != "city/bus/stops/CEN/board" {
		t.Errorf("custom Board = %q", got)
	}
}

func TestSubscribe(t *testing.T) {
	tests := []struct {
		name    string
		msg     string
		wantErr error
		want    string
	}{
		{name: "good", msg: `{"type":"subscribe","display":"sign-42","stops":["1234","1235"]}`},
		{name: "no stops", msg: `{"type":"subscribe","display":"sign-42","stops":[]}`, want: "no stops"},
		{name: "bad stop", msg: `{"type":"subscribe","display":"sign-42","stops":["a b"]}`, want: "stops[0]"},
		{name: "too many", msg: `{"type":"subscribe","display":"s","stops":[` + strings.Repeat(`"a",`, MaxStopsPerSubscribe) + `"b"]}`, wantErr: ErrTooManyStops},
		{name: "no display", msg: `{"type":"subscribe","stops":["1"]}`, want: "display id is empty"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := DecodeSubscribe([]byte(tc.msg))
			switch {
			case tc.wantErr != nil:
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("err = %v, want %v", err, tc.wantErr)
				}
			case tc.want != "":
				if err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("err = %v, want %q", err, tc.want)
				}
			case err != nil:
				t.Fatal(err)
			}
		})
	}
}

func TestBoardRoundTrip(t *testing.T) {
	now := time.Date(2026, 11, 27, 7, 0, 0, 0, time.UTC)
	pred := now.Add(3 * time.Minute)
	b := Board{Type: TypeBoard, Stop: "CEN", StopName: "Central", GeneratedAt: now, Arrivals: []Arrival{
		{Trip: "t1", Route: "1", RouteShortName: "1", Headsign: "Harbour", StopSequence: 4, Scheduled: now.Add(2 * time.Minute), Predicted: &pred, Source: SourceRealtime},
		{Trip: "t2", Route: "2", Scheduled: now.Add(9 * time.Minute), Source: SourceSchedule},
	}}
	raw, err := json.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	got, err := DecodeBoard(raw)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Arrivals) != 2 || !got.Arrivals[0].When().Equal(pred) || !got.Arrivals[1].When().Equal(now.Add(9*time.Minute)) {
		t.Errorf("got %+v", got)
	}
	if strings.Contains(string(raw[strings.Index(string(raw), `"t2"`):]), "predicted") {
		t.Errorf("schedule row carries a predicted time: %s", raw)
	}
}

func TestMessageType(t *testing.T) {
	for _, tc := range []struct{ msg, typ string }{
		{`{"type":"heartbeat"}`, TypeHeartbeat},
		{`{"type":""}`, ""},
		{`[]`, ""},
	} {
		got, err := MessageType([]byte(tc.msg))
		if got != tc.typ || (tc.typ == "") != (err != nil) {
			t.Errorf("MessageType(%s) = %q, %v", tc.msg, got, err)
		}
	}
}

func FuzzDecodePosition(f *testing.F) {
	p := goodPosition()
	b, _ := p.Encode()
	f.Add(b)
	f.Add([]byte(`{"v":1,"vehicle":"a","time":"2026-11-27T07:00:01Z","lat":1e308,"lon":-1e308,"mode":3}`))
	f.Add([]byte(`{"v":1,"speed":NaN}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := DecodePosition(b)
		if err != nil {
			return
		}
		// Whatever decodes must be valid and survive a round trip.
		if err := p.Validate(); err != nil {
			t.Fatalf("decoded but invalid: %v", err)
		}
		if _, err := p.Encode(); err != nil {
			t.Fatalf("decoded but not encodable: %v", err)
		}
	})
}

func FuzzClientMessages(f *testing.F) {
	f.Add([]byte(`{"type":"subscribe","display":"sign-42","stops":["1234"]}`))
	f.Add([]byte(`{"type":"heartbeat","display":"sign-42","cache_age_s":3.5,"version":"x"}`))
	f.Add([]byte(`{"type":"board","stop":"1","generated_at":"2026-11-27T07:00:00Z","arrivals":[]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		typ, err := MessageType(b)
		if err != nil {
			return
		}
		switch typ {
		case TypeSubscribe:
			if s, err := DecodeSubscribe(b); err == nil && (len(s.Stops) == 0 || len(s.Stops) > MaxStopsPerSubscribe) {
				t.Fatalf("accepted %d stops", len(s.Stops))
			}
		case TypeHeartbeat:
			_, _ = DecodeHeartbeat(b)
		case TypeBoard:
			_, _ = DecodeBoard(b)
		case TypeTimetable:
			_, _ = DecodeTimetable(b)
		}
	})
}

func TestValidPrefix(t *testing.T) {
	for _, tc := range []struct {
		prefix string
		ok     bool
	}{{"", true}, {"headway/v1", true}, {"city/bus/", true}, {"a//b", false}, {"a/+", false}, {"#", false}} {
		if err := ValidPrefix(tc.prefix); (err == nil) != tc.ok {
			t.Errorf("ValidPrefix(%q) = %v, want ok=%v", tc.prefix, err, tc.ok)
		}
	}
}
