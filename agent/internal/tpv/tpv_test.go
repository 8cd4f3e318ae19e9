package tpv

import (
	"encoding/json"
	"math"
	"testing"
	"time"

	"github.com/headway-transit/headway/drivers/nmea"
)

func TestAppend(t *testing.T) {
	nan := math.NaN()
	ts := time.Date(2009, 12, 9, 15, 25, 5, 0, time.UTC)
	tests := []struct {
		name string
		fix  nmea.Fix
		want string
	}{
		{"3D", nmea.Fix{Time: ts, Mode: nmea.Mode3D, Lat: 44.405, Lon: -8.9, AltMSL: 20, AltHAE: 68.5, Speed: 1.5, Track: 271.25, HDOP: 0.9, Sats: 9},
			`{"class":"TPV","mode":3,"time":"2009-12-09T15:25:05.000Z","lat":44.405000000,"lon":-8.900000000,"altHAE":68.500,"altMSL":20.000,"speed":1.500,"track":271.2500}`},
		{"2D without speed", nmea.Fix{Time: ts, Mode: nmea.Mode2D, Lat: 1, Lon: 2, AltMSL: nan, AltHAE: nan, Speed: nan, Track: nan, HDOP: nan, Sats: -1},
			`{"class":"TPV","mode":2,"time":"2009-12-09T15:25:05.000Z","lat":1.000000000,"lon":2.000000000}`},
		{"no fix carries no position", nmea.Fix{Time: ts, Mode: nmea.ModeNoFix, Lat: 1, Lon: 2, Speed: 0, Track: 0},
			`{"class":"TPV","mode":1,"time":"2009-12-09T15:25:05.000Z"}`},
		{"no time", nmea.Fix{Mode: nmea.ModeNoFix, Lat: nan, Lon: nan}, `{"class":"TPV","mode":1}`},
		{"DGPS has a status", nmea.Fix{Time: ts, Mode: nmea.Mode2D, Status: nmea.StatusDGPS, Lat: 1, Lon: 2, Speed: nan, Track: nan},
			`{"class":"TPV","status":2,"mode":2,"time":"2009-12-09T15:25:05.000Z","lat":1.000000000,"lon":2.000000000}`},
		{"plain GPS has none", nmea.Fix{Time: ts, Mode: nmea.Mode2D, Status: nmea.StatusGPS, Lat: 1, Lon: 2, Speed: nan, Track: nan},
			`{"class":"TPV","mode":2,"time":"2009-12-09T15:25:05.000Z","lat":1.000000000,"lon":2.000000000}`},
		{"dead reckoning is marked", nmea.Fix{Time: ts, Mode: nmea.Mode2D, Status: nmea.StatusDR, Lat: 1, Lon: 2, Speed: nan, Track: nan},
			`{"class":"TPV","status":5,"mode":2,"time":"2009-12-09T15:25:05.000Z","lat":1.000000000,"lon":2.000000000}`},
		{"simulated is marked and has no time", nmea.Fix{Time: ts, Mode: nmea.Mode3D, Status: nmea.StatusSimulated, Lat: 1, Lon: 2, AltMSL: 3, AltHAE: nan, Speed: nan, Track: nan},
			`{"class":"TPV","status":8,"mode":3,"lat":1.000000000,"lon":2.000000000,"altMSL":3.000}`},
		{"no status without a fix", nmea.Fix{Time: ts, Mode: nmea.ModeNoFix, Status: nmea.StatusDGPS},
			`{"class":"TPV","mode":1,"time":"2009-12-09T15:25:05.000Z"}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := string(Append(nil, tc.fix))
			if got != tc.want+"\n" {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
			var v map[string]any
			if err := json.Unmarshal([]byte(got), &v); err != nil {
				t.Errorf("not JSON: %v", err)
			}
		})
	}
}
