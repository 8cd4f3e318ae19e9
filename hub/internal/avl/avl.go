// Package avl reads recorded vehicle positions: GTFS-Realtime
// VehiclePosition records flattened to CSV (as in ../shared/testdata/avl/),
// the input of `hub replay` and the ground truth it is scored against.
package avl

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Ping is one recorded position report.
type Ping struct {
	Line      int // CSV line, for errors
	Vehicle   string
	Trip      string
	Route     string
	StartDate string // YYYYMMDD
	Time      time.Time
	Lat, Lon  float64
	Bearing   float64 // NaN when absent
	Speed     float64 // m/s, NaN when absent
	StopSeq   int     // current_stop_sequence, -1 when absent
	Status    string  // current_status as recorded ("1" STOPPED_AT, "2" IN_TRANSIT_TO)
}

// columns maps each field to the header names it may have (flattened
// protobuf names first, then plain ones).
var columns = map[string][]string{
	"trip":    {"vehicle.trip.trip_id", "trip_id"},
	"route":   {"vehicle.trip.route_id", "route_id"},
	"date":    {"vehicle.trip.start_date", "start_date"},
	"lat":     {"vehicle.position.latitude", "lat", "latitude"},
	"lon":     {"vehicle.position.longitude", "lon", "longitude"},
	"bearing": {"vehicle.position.bearing", "bearing"},
	"speed":   {"vehicle.position.speed", "speed"},
	"seq":     {"vehicle.current_stop_sequence", "current_stop_sequence"},
	"status":  {"vehicle.current_status", "current_status"},
	"time":    {"vehicle.timestamp", "timestamp"},
	"vehicle": {"vehicle.vehicle.id", "vehicle_id", "id"},
}

// Read parses an AVL CSV. Rows without a trip, time or position are
// skipped (they cannot be replayed or scored); a malformed number is an
// error naming the line and column.
func Read(r io.Reader) ([]Ping, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	head, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("avl: header: %w", err)
	}
	idx := map[string]int{}
	for field, names := range columns {
		idx[field] = -1
		for _, n := range names {
			for i, h := range head {
				if strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")) == n && idx[field] < 0 {
					idx[field] = i
				}
			}
		}
	}
	for _, need := range []string{"trip", "lat", "lon", "time", "vehicle"} {
		if idx[need] < 0 {
			return nil, fmt.Errorf("avl: no %s column (want one of %v)", need, columns[need])
		}
	}
	var out []Ping
	line := 1
	for {
		rec, err := cr.Read()
		line++
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("avl: %w", err)
		}
		get := func(f string) string {
			if i := idx[f]; i >= 0 && i < len(rec) {
				return strings.TrimSpace(rec[i])
			}
			return ""
		}
		if get("trip") == "" || get("time") == "" || get("lat") == "" || get("lon") == "" {
			continue
		}
		num := func(f string, def float64) (float64, error) {
			s := get(f)
			if s == "" {
				return def, nil
			}
			v, err := strconv.ParseFloat(s, 64)
			if err != nil || math.IsInf(v, 0) {
				return 0, fmt.Errorf("avl: line %d: %s %q is not a number", line, f, s)
			}
			return v, nil
		}
		var p Ping
		var ts, seq float64
		if ts, err = num("time", 0); err != nil {
			return nil, err
		}
		if p.Lat, err = num("lat", 0); err != nil {
			return nil, err
		}
		if p.Lon, err = num("lon", 0); err != nil {
			return nil, err
		}
		if p.Bearing, err = num("bearing", math.NaN()); err != nil {
			return nil, err
		}
		if p.Speed, err = num("speed", math.NaN()); err != nil {
			return nil, err
		}
		if seq, err = num("seq", -1); err != nil {
			return nil, err
		}
		p.Line, p.Vehicle, p.Trip, p.Route = line, get("vehicle"), get("trip"), get("route")
		p.StartDate, p.Status = get("date"), strings.TrimSuffix(get("status"), ".0")
		p.Time, p.StopSeq = time.Unix(int64(ts), 0).UTC(), int(seq)
		if p.Trip, err = cleanID(p.Trip); err != nil {
			return nil, fmt.Errorf("avl: line %d: trip: %w", line, err)
		}
		if p.Vehicle, err = cleanID(p.Vehicle); err != nil {
			return nil, fmt.Errorf("avl: line %d: vehicle: %w", line, err)
		}
		out = append(out, p)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Time.Before(out[j].Time) })
	return out, nil
}

// cleanID turns "698100.0" (a float written by a CSV exporter) into "698100".
func cleanID(s string) (string, error) {
	if strings.HasSuffix(s, ".0") {
		if _, err := strconv.ParseInt(strings.TrimSuffix(s, ".0"), 10, 64); err == nil {
			return strings.TrimSuffix(s, ".0"), nil
		}
	}
	if s == "" {
		return "", errors.New("empty")
	}
	return s, nil
}

// ReadFile reads the AVL CSV at path.
func ReadFile(path string) ([]Ping, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	ps, err := Read(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return ps, nil
}
