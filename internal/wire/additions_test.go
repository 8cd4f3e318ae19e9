package wire

import (
	"strings"
	"testing"
)

// TestServerMessagesTakeAdditions: a sign reads boards and timetables from
// a newer hub, skipping fields it does not know, while what the hub reads
// from vehicles and signs stays strict.
func TestServerMessagesTakeAdditions(t *testing.T) {
	const row = `{"trip":"T1","route":"R","route_short_name":"1","headsign":"H","stop_sequence":3,"scheduled":"2026-12-06T08:00:00Z","source":"schedule"`
	tests := []struct {
		name, msg  string
		wantStatus string
		wantErr    string
	}{
		{name: "at terminal", msg: `{"type":"board","stop":"S","generated_at":"2026-12-06T07:50:00Z","arrivals":[` + row + `,"vehicle":"bus-1","status":"at_terminal"}]}`, wantStatus: StatusAtTerminal},
		{name: "a status this sign does not know", msg: `{"type":"board","stop":"S","generated_at":"2026-12-06T07:50:00Z","arrivals":[` + row + `,"status":"on_the_moon"}]}`},
		{name: "a field this sign does not know", msg: `{"type":"board","stop":"S","generated_at":"2026-12-06T07:50:00Z","later":{"x":1},"arrivals":[` + row + `,"crowding":"full"}]}`},
		{name: "still one JSON value", msg: `{"type":"board","stop":"S","generated_at":"2026-12-06T07:50:00Z","arrivals":[]} {}`, wantErr: "trailing data"},
		{name: "still validated", msg: `{"type":"board","stop":"S","generated_at":"2026-12-06T07:50:00Z","arrivals":[` + `{"trip":"T1","source":"guess","scheduled":"2026-12-06T08:00:00Z"}]}`, wantErr: `source "guess"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := DecodeBoard([]byte(tt.msg))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := b.Arrivals[0].Status; got != tt.wantStatus {
				t.Errorf("status %q, want %q", got, tt.wantStatus)
			}
		})
	}
	tt := `{"type":"timetable","stop":"S","from":"2026-12-06T00:00:00Z","until":"2026-12-07T02:00:00Z","departures":[],"timezone":"Europe/Rome","later":true}`
	if _, err := DecodeTimetable([]byte(tt)); err != nil {
		t.Errorf("timetable with a later field: %v", err)
	}
	if _, err := DecodeSubscribe([]byte(`{"type":"subscribe","display":"d","stops":["S"],"later":1}`)); err == nil || !strings.Contains(err.Error(), "unknown field") {
		t.Errorf("a sign's subscribe with an unknown field: %v, want it refused", err)
	}
}
