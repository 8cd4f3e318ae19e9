// Package feedout lets a simulated fleet stand in for an agency's AVL
// system: instead of NMEA on serial ports or MQTT, its buses' latest
// positions are served over HTTP as a GTFS-Realtime VehiclePositions feed
// (/vehicle-positions.pb, ?format=json for people) and as a SIRI Vehicle
// Monitoring document (/vehicle-monitoring.xml), the two formats the hub's
// feeds.vehicles reads. Field technicians and tests point a hub at it.
package feedout

import (
	"crypto/sha256"
	"encoding/xml"
	"fmt"
	"math"
	"net/http"
	"slices"
	"sync"
	"time"

	rtpb "github.com/MobilityData/gtfs-realtime-bindings/golang/gtfs"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/headway-transit/headway/drivers/nmea"
)

// Server holds each bus's latest fix and serves them as feeds.
type Server struct {
	name func(int) string
	// SendTrip puts the trip driven in each vehicle, as most AVL feeds
	// do; without it the hub infers the trips.
	sendTrip bool
	now      func() time.Time

	mu      sync.Mutex
	latest  map[int]entry
	version uint64 // counts the fixes kept
	served  uint64
}

type entry struct {
	fix  nmea.Fix
	trip string
}

// New serves the fleet whose bus i is named name(i).
func New(name func(int) string, sendTrip bool, now func() time.Time) *Server {
	if now == nil {
		now = time.Now
	}
	return &Server{name: name, sendTrip: sendTrip, now: now, latest: map[int]entry{}}
}

// Publish keeps bus i's fix (fleet.Publisher); fixes without a position
// are not what an AVL system reports.
func (s *Server) Publish(i int, f nmea.Fix, trip string) {
	if !f.HasPosition() {
		return
	}
	s.mu.Lock()
	s.latest[i] = entry{fix: f, trip: trip}
	s.version++
	s.mu.Unlock()
}

// String names the output in the simulator's lines ("sim-0: avl route 1 ...").
func (s *Server) String() string { return "avl" }

// Served counts the documents served (200s, not 304s).
func (s *Server) Served() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.served
}

func (s *Server) snapshot() (time.Time, uint64, []int, map[int]entry) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ids := make([]int, 0, len(s.latest))
	cp := make(map[int]entry, len(s.latest))
	for i, e := range s.latest {
		ids = append(ids, i)
		cp[i] = e
	}
	// In bus order, so a document's bytes (and its ETag) depend on the
	// fixes only.
	slices.Sort(ids)
	return s.now().UTC().Truncate(time.Second), s.version, ids, cp
}

// VehiclePositions is the GTFS-Realtime feed of the latest fixes.
func (s *Server) VehiclePositions() *rtpb.FeedMessage {
	msg, _ := s.vehiclePositions()
	return msg
}

func (s *Server) vehiclePositions() (*rtpb.FeedMessage, uint64) {
	at, version, ids, latest := s.snapshot()
	msg := &rtpb.FeedMessage{Header: &rtpb.FeedHeader{
		GtfsRealtimeVersion: proto.String("2.0"),
		Incrementality:      rtpb.FeedHeader_FULL_DATASET.Enum(),
		Timestamp:           proto.Uint64(uint64(at.Unix())),
	}}
	for _, i := range ids {
		e := latest[i]
		name := s.name(i)
		vp := &rtpb.VehiclePosition{
			Vehicle:   &rtpb.VehicleDescriptor{Id: proto.String(name), Label: proto.String(name)},
			Position:  &rtpb.Position{Latitude: proto.Float32(float32(e.fix.Lat)), Longitude: proto.Float32(float32(e.fix.Lon))},
			Timestamp: proto.Uint64(uint64(e.fix.Time.Unix())),
		}
		if !math.IsNaN(e.fix.Speed) {
			vp.Position.Speed = proto.Float32(float32(e.fix.Speed))
		}
		if !math.IsNaN(e.fix.Track) {
			vp.Position.Bearing = proto.Float32(float32(math.Mod(math.Mod(e.fix.Track, 360)+360, 360)))
		}
		if s.sendTrip && e.trip != "" {
			vp.Trip = &rtpb.TripDescriptor{TripId: proto.String(e.trip)}
		}
		msg.Entity = append(msg.Entity, &rtpb.FeedEntity{Id: proto.String(name), Vehicle: vp})
	}
	return msg, version
}

// siri is the SIRI 2.0 Vehicle Monitoring document written.
type siri struct {
	XMLName xml.Name `xml:"http://www.siri.org.uk/siri Siri"`
	Version string   `xml:"version,attr"`
	Service struct {
		ResponseTimestamp string `xml:"ResponseTimestamp"`
		ProducerRef       string `xml:"ProducerRef"`
		Delivery          struct {
			Version           string         `xml:"version,attr"`
			ResponseTimestamp string         `xml:"ResponseTimestamp"`
			Activities        []siriActivity `xml:"VehicleActivity"`
		} `xml:"VehicleMonitoringDelivery"`
	} `xml:"ServiceDelivery"`
}

type siriActivity struct {
	RecordedAtTime string `xml:"RecordedAtTime"`
	Journey        struct {
		Framed *struct {
			DataFrameRef           string `xml:"DataFrameRef"`
			DatedVehicleJourneyRef string `xml:"DatedVehicleJourneyRef"`
		} `xml:"FramedVehicleJourneyRef,omitempty"`
		Location struct {
			Longitude string `xml:"Longitude"`
			Latitude  string `xml:"Latitude"`
		} `xml:"VehicleLocation"`
		Bearing    string `xml:"Bearing,omitempty"`
		VehicleRef string `xml:"VehicleRef"`
	} `xml:"MonitoredVehicleJourney"`
}

// VehicleMonitoring is the SIRI VM document of the latest fixes.
func (s *Server) VehicleMonitoring() ([]byte, error) {
	b, _, err := s.vehicleMonitoring()
	return b, err
}

func (s *Server) vehicleMonitoring() ([]byte, uint64, error) {
	at, version, ids, latest := s.snapshot()
	var doc siri
	doc.Version = "2.0"
	doc.Service.ResponseTimestamp = at.Format(time.RFC3339)
	doc.Service.ProducerRef = "firmware-sim"
	doc.Service.Delivery.Version = "2.0"
	doc.Service.Delivery.ResponseTimestamp = at.Format(time.RFC3339)
	for _, i := range ids {
		e := latest[i]
		var a siriActivity
		a.RecordedAtTime = e.fix.Time.UTC().Format(time.RFC3339Nano)
		a.Journey.Location.Latitude = fmt.Sprintf("%.6f", e.fix.Lat)
		a.Journey.Location.Longitude = fmt.Sprintf("%.6f", e.fix.Lon)
		if !math.IsNaN(e.fix.Track) {
			a.Journey.Bearing = fmt.Sprintf("%.1f", math.Mod(math.Mod(e.fix.Track, 360)+360, 360))
		}
		a.Journey.VehicleRef = s.name(i)
		if s.sendTrip && e.trip != "" {
			a.Journey.Framed = &struct {
				DataFrameRef           string `xml:"DataFrameRef"`
				DatedVehicleJourneyRef string `xml:"DatedVehicleJourneyRef"`
			}{e.fix.Time.Format(time.DateOnly), e.trip}
		}
		doc.Service.Delivery.Activities = append(doc.Service.Delivery.Activities, a)
	}
	b, err := xml.MarshalIndent(doc, "", " ")
	if err != nil {
		return nil, 0, err
	}
	return append([]byte(xml.Header), b...), version, nil
}

// Handler serves the feeds, with ETags so a poller's conditional GET gets
// 304 while no bus has moved.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /vehicle-positions.pb", func(w http.ResponseWriter, r *http.Request) {
		msg, version := s.vehiclePositions()
		var b []byte
		var err error
		ct := "application/x-protobuf"
		if r.URL.Query().Get("format") == "json" {
			b, err = protojson.MarshalOptions{Multiline: true}.Marshal(msg)
			ct = "application/json"
		} else {
			b, err = proto.Marshal(msg)
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		s.write(w, r, ct, b, version)
	})
	mux.HandleFunc("GET /vehicle-monitoring.xml", func(w http.ResponseWriter, r *http.Request) {
		b, version, err := s.vehicleMonitoring()
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		s.write(w, r, "application/xml", b, version)
	})
	return mux
}

func (s *Server) write(w http.ResponseWriter, r *http.Request, ct string, b []byte, version uint64) {
	// One tag per set of fixes (and format): unchanged while no bus has
	// reported, whatever the document's own timestamp says.
	sum := sha256.Sum256([]byte(ct))
	etag := fmt.Sprintf(`"%d-%x"`, version, sum[:4])
	w.Header().Set("ETag", etag)
	if r.Header.Get("If-None-Match") == etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.Header().Set("Content-Type", ct)
	s.mu.Lock()
	s.served++
	s.mu.Unlock()
	_, _ = w.Write(b)
}
