package gtfsrt

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	rtpb "github.com/MobilityData/gtfs-realtime-bindings/golang/gtfs"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/headway-transit/headway/hub/internal/alerts"
	"github.com/headway-transit/headway/internal/wire"
)

// ServiceAlerts is the GTFS-Realtime ServiceAlerts feed of as at now: every
// alert not over, the agency's feeds' and the operators' alike.
func ServiceAlerts(as []alerts.Alert, now time.Time) *rtpb.FeedMessage {
	msg := header(now)
	for _, a := range as {
		if a.Over(now) || a.Hidden {
			continue // a hidden one's cancellation is in TripUpdates
		}
		pa := &rtpb.Alert{HeaderText: translated(a.Header)}
		if a.Description != "" {
			pa.DescriptionText = translated(a.Description)
		}
		if a.URL != "" {
			pa.Url = translated(a.URL)
		}
		if v, ok := rtpb.Alert_Effect_value[strings.ToUpper(a.Effect)]; ok {
			pa.Effect = rtpb.Alert_Effect(v).Enum()
		}
		if v, ok := rtpb.Alert_Cause_value[strings.ToUpper(a.Cause)]; ok && a.Cause != "" {
			pa.Cause = rtpb.Alert_Cause(v).Enum()
		}
		switch a.Severity {
		case wire.SeverityInfo:
			pa.SeverityLevel = rtpb.Alert_INFO.Enum()
		case wire.SeverityWarning:
			pa.SeverityLevel = rtpb.Alert_WARNING.Enum()
		case wire.SeveritySevere:
			pa.SeverityLevel = rtpb.Alert_SEVERE.Enum()
		}
		for _, p := range a.Active {
			tr := &rtpb.TimeRange{}
			if p.Start != nil {
				tr.Start = proto.Uint64(unix(*p.Start))
			}
			if p.End != nil {
				tr.End = proto.Uint64(unix(*p.End))
			}
			pa.ActivePeriod = append(pa.ActivePeriod, tr)
		}
		for _, e := range a.Entities {
			sel := &rtpb.EntitySelector{}
			if e.Agency != "" {
				sel.AgencyId = proto.String(e.Agency)
			}
			if e.Route != "" {
				sel.RouteId = proto.String(e.Route)
			}
			if e.Stop != "" {
				sel.StopId = proto.String(e.Stop)
			}
			if e.Trip != "" {
				sel.Trip = &rtpb.TripDescriptor{TripId: proto.String(e.Trip)}
			}
			pa.InformedEntity = append(pa.InformedEntity, sel)
		}
		msg.Entity = append(msg.Entity, &rtpb.FeedEntity{Id: proto.String(a.ID), Alert: pa})
	}
	return msg
}

func translated(s string) *rtpb.TranslatedString {
	return &rtpb.TranslatedString{Translation: []*rtpb.TranslatedString_Translation{{Text: proto.String(s)}}}
}

// AlertsHandler serves GET /gtfs-rt/alerts from all, as protobuf or, with
// ?format=json, as protojson.
func AlertsHandler(all func() []alerts.Alert, now func() time.Time) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		msg := ServiceAlerts(all(), now())
		var b []byte
		var err error
		ctype := ContentTypeProtobuf
		switch f := r.URL.Query().Get("format"); f {
		case "", "pb", "protobuf":
			b, err = proto.Marshal(msg)
		case "json":
			b, err = protojson.MarshalOptions{Multiline: true, Indent: "  "}.Marshal(msg)
			ctype = ContentTypeJSON
		default:
			http.Error(w, fmt.Sprintf("unknown format %q: leave it out for protobuf, or use format=json", f), http.StatusBadRequest)
			return
		}
		if err != nil {
			http.Error(w, "encode feed: "+err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", ctype)
		w.Header().Set("Cache-Control", "no-cache")
		_, _ = w.Write(b)
	})
}
