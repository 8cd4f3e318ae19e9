package avl

import (
	"math"
	"strings"
	"testing"
)

func TestRead(t *testing.T) {
	in := `,id,vehicle.trip.trip_id,vehicle.trip.start_date,vehicle.trip.route_id,vehicle.position.latitude,vehicle.position.longitude,vehicle.position.bearing,vehicle.position.speed,vehicle.current_stop_sequence,vehicle.current_status,vehicle.timestamp,vehicle.vehicle.id
2,5463,698100.0,20260216,C53,38.9,-77.0,119.0,7.9,19.0,1.0,1771257503,5463
1,5461,18632100,20260216,C53,38.92,-77.05,,0.0,63.0,2.0,1771257489,5461
3,5461,,20260216,C53,38.92,-77.05,,0.0,63.0,2.0,1771257499,5461
`
	ps, err := Read(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != 2 {
		t.Fatalf("%d pings, want 2 (the row without a trip skipped)", len(ps))
	}
	p := ps[0] // sorted by time
	if p.Trip != "18632100" || p.Vehicle != "5461" || p.StopSeq != 63 || p.Status != "2" || !math.IsNaN(p.Bearing) || p.Time.Unix() != 1771257489 {
		t.Errorf("first ping %+v", p)
	}
	if ps[1].Trip != "698100" || ps[1].Bearing != 119 {
		t.Errorf("second ping %+v", ps[1])
	}
}

func TestReadErrors(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"no trip column", "a,b\n1,2\n", "no trip column"},
		{"bad number", "trip_id,lat,lon,timestamp,vehicle_id\nT,north,1,5,V\n", `line 2: lat "north"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Read(strings.NewReader(tc.in))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err %v, want %q", err, tc.want)
			}
		})
	}
}
