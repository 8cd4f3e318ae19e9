package gtfsrt

import (
	"bytes"
	"fmt"
	"net/http"
	"sync"
	"time"

	rtpb "github.com/MobilityData/gtfs-realtime-bindings/golang/gtfs"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/headway-transit/headway/hub/internal/engine"
)

// Source gives the latest engine snapshot; *engine.Engine is one.
type Source interface {
	Realtime() *engine.RealtimeSnapshot
}

// Content types served.
const (
	ContentTypeProtobuf = "application/x-protobuf"
	ContentTypeJSON     = "application/json"
)

// Handler serves the two feeds over HTTP, as protobuf or, with
// ?format=json, as protojson. Each feed is built and encoded once per
// snapshot, whatever the number of consumers polling it.
type Handler struct {
	src     Source
	builder Builder
	trips   cache
	vehs    cache
}

// NewHandler serves the feeds of src's snapshots, built by b.
func NewHandler(src Source, b Builder) *Handler {
	h := &Handler{src: src, builder: b}
	h.trips.build = h.builder.TripUpdates
	h.vehs.build = h.builder.VehiclePositions
	return h
}

// TripUpdates serves GET /gtfs-rt/trip-updates.
func (h *Handler) TripUpdates(w http.ResponseWriter, r *http.Request) { h.serve(w, r, &h.trips) }

// VehiclePositions serves GET /gtfs-rt/vehicle-positions.
func (h *Handler) VehiclePositions(w http.ResponseWriter, r *http.Request) {
	h.serve(w, r, &h.vehs)
}

func (h *Handler) serve(w http.ResponseWriter, r *http.Request, c *cache) {
	asJSON := false
	switch f := r.URL.Query().Get("format"); f {
	case "", "pb", "protobuf":
	case "json":
		asJSON = true
	default:
		http.Error(w, fmt.Sprintf("unknown format %q: leave it out for protobuf, or use format=json", f), http.StatusBadRequest)
		return
	}
	s := h.src.Realtime()
	body, err := c.get(s, asJSON)
	if err != nil {
		http.Error(w, "encode feed: "+err.Error(), http.StatusInternalServerError)
		return
	}
	ctype := ContentTypeProtobuf
	if asJSON {
		ctype = ContentTypeJSON
	}
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Cache-Control", "no-cache")
	// The snapshot's time and number name its content; a restarted hub
	// numbers from 1 again but at a later time.
	etag := fmt.Sprintf(`"%d-%d"`, s.At.UnixNano(), s.Seq)
	if asJSON {
		etag = fmt.Sprintf(`"%d-%d-json"`, s.At.UnixNano(), s.Seq)
	}
	w.Header().Set("ETag", etag)
	// No modification time: feeds change within a second, which
	// If-Modified-Since cannot tell; the ETag can.
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(body))
}

// cache holds one feed's encodings of the latest snapshot.
type cache struct {
	build func(*engine.RealtimeSnapshot) *rtpb.FeedMessage

	mu  sync.Mutex
	seq uint64
	at  time.Time
	enc *encoded
}

type encoded struct {
	msg  *rtpb.FeedMessage
	pb   []byte
	json []byte // encoded on first demand: most consumers want protobuf
}

// get returns s's encodings, building them unless s is the snapshot last
// encoded. Snapshot 0, taken before the engine first flushed, is cheap and
// never cached.
func (c *cache) get(s *engine.RealtimeSnapshot, asJSON bool) ([]byte, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.enc == nil || s.Seq == 0 || s.Seq != c.seq || !s.At.Equal(c.at) {
		msg := c.build(s)
		pb, err := proto.Marshal(msg)
		if err != nil {
			return nil, err
		}
		c.seq, c.at, c.enc = s.Seq, s.At, &encoded{msg: msg, pb: pb}
	}
	if !asJSON {
		return c.enc.pb, nil
	}
	if c.enc.json == nil {
		js, err := protojson.MarshalOptions{Multiline: true, Indent: "  "}.Marshal(c.enc.msg)
		if err != nil {
			return nil, err
		}
		c.enc.json = js
	}
	return c.enc.json, nil
}
