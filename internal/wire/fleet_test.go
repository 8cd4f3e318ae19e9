package wire

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestFleetRoundTripAndRefusals(t *testing.T) {
	now := time.Date(2026, 12, 7, 8, 0, 0, 0, time.UTC)
	for _, f := range []Fleet{
		{V: Version, VehicleVersion: "1.4.2", StationVersion: "1.4.2", Time: now},
		{Type: TypeFleet, StationVersion: "0.0.0+git20261207.abc", Time: now},
	} {
		b, _ := json.Marshal(f)
		got, err := DecodeFleet(b)
		if err != nil || got != f {
			t.Errorf("%s: %+v, %v", b, got, err)
		}
	}
	for _, c := range []struct{ in, want string }{
		{`{"type":"board","time":"2026-12-07T08:00:00Z"}`, `type "board"`},
		{`{"v":2,"time":"2026-12-07T08:00:00Z"}`, "version 2"},
		{`{"v":1}`, "time is missing"},
		{`{"v":1,"vehicle_version":"1.0 beta","time":"2026-12-07T08:00:00Z"}`, "vehicle_version \"1.0 beta\": character ' ' at 3"},
		{`{"v":1,"time":"2026-12-07T08:00:00Z"`, "unexpected EOF"},
		{`{"v":1,"station_version":"` + strings.Repeat("9", 2000) + `","time":"2026-12-07T08:00:00Z"}`, "more than"},
	} {
		if _, err := DecodeFleet([]byte(c.in)); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.in, err, c.want)
		}
	}
}

func FuzzDecodeFleet(f *testing.F) {
	f.Add([]byte(`{"v":1,"vehicle_version":"1.4.2","time":"2026-12-07T08:00:00Z"}`))
	f.Add([]byte(`{"type":"fleet","station_version":"1.4.2","time":"2026-12-07T08:00:00Z"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := DecodeFleet(b)
		if err != nil {
			return
		}
		if m.Time.IsZero() || len(m.VehicleVersion) > MaxIDLen || len(m.StationVersion) > MaxIDLen {
			t.Fatalf("accepted %q as %+v", b, m)
		}
	})
}
