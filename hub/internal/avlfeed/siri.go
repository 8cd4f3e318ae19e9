package avlfeed

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// The parts of a SIRI 2.0 Vehicle Monitoring delivery the hub reads. Tags
// carry no namespace, so they match with or without SIRI's
// (http://www.siri.org.uk/siri).
type siriDoc struct {
	XMLName xml.Name `xml:"Siri"`
	Service struct {
		ResponseTimestamp string `xml:"ResponseTimestamp"`
		Deliveries        []struct {
			ResponseTimestamp string         `xml:"ResponseTimestamp"`
			Activities        []siriActivity `xml:"VehicleActivity"`
		} `xml:"VehicleMonitoringDelivery"`
	} `xml:"ServiceDelivery"`
}

type siriActivity struct {
	RecordedAtTime string `xml:"RecordedAtTime"`
	Journey        struct {
		LineRef string `xml:"LineRef"`
		Framed  struct {
			DatedVehicleJourneyRef string `xml:"DatedVehicleJourneyRef"`
		} `xml:"FramedVehicleJourneyRef"`
		// Some producers (the Nordic and UK profiles among them) give
		// the journey here instead of in FramedVehicleJourneyRef.
		DatedVehicleJourneyRef string `xml:"DatedVehicleJourneyRef"`
		Location               struct {
			Longitude string `xml:"Longitude"`
			Latitude  string `xml:"Latitude"`
		} `xml:"VehicleLocation"`
		Bearing    string `xml:"Bearing"`
		Velocity   string `xml:"Velocity"`
		VehicleRef string `xml:"VehicleRef"`
	} `xml:"MonitoredVehicleJourney"`
}

// DecodeSIRI decodes a SIRI Vehicle Monitoring document (XML). Each
// VehicleActivity with a VehicleRef, a VehicleLocation and a RecordedAtTime
// becomes a fix; one without is skipped and named.
func DecodeSIRI(b []byte) (Snapshot, error) {
	var s Snapshot
	if len(bytes.TrimSpace(b)) == 0 {
		return s, fmt.Errorf("siri-vm: %w", ErrEmpty)
	}
	var doc siriDoc
	dec := xml.NewDecoder(bytes.NewReader(b))
	// SIRI is UTF-8; a document declaring another charset is refused
	// rather than misread.
	dec.CharsetReader = func(charset string, _ io.Reader) (io.Reader, error) {
		return nil, fmt.Errorf("charset %q: only UTF-8 is read", charset)
	}
	if err := dec.Decode(&doc); err != nil {
		return s, fmt.Errorf("siri-vm: not a SIRI document: %w", err)
	}
	if len(doc.Service.Deliveries) == 0 {
		return s, fmt.Errorf("siri-vm: no ServiceDelivery/VehicleMonitoringDelivery in the document")
	}
	if ts := strings.TrimSpace(doc.Service.ResponseTimestamp); ts != "" {
		t, err := siriTime(ts)
		if err != nil {
			return s, fmt.Errorf("siri-vm: ServiceDelivery/ResponseTimestamp: %w", err)
		}
		s.Time = t
	}
	n := 0
	for _, d := range doc.Service.Deliveries {
		for _, a := range d.Activities {
			n++
			f, err := a.fix()
			if err != nil {
				s.skip(fmt.Errorf("siri-vm: VehicleActivity[%d] (VehicleRef %q): %w", n-1, a.Journey.VehicleRef, err))
				continue
			}
			s.Fixes = append(s.Fixes, f)
		}
	}
	return s, nil
}

func (a *siriActivity) fix() (Fix, error) {
	j := &a.Journey
	f := Fix{
		Vehicle: strings.TrimSpace(j.VehicleRef),
		Route:   strings.TrimSpace(j.LineRef),
		Trip:    strings.TrimSpace(j.Framed.DatedVehicleJourneyRef),
	}
	if f.Trip == "" {
		f.Trip = strings.TrimSpace(j.DatedVehicleJourneyRef)
	}
	if f.Vehicle == "" {
		return f, fmt.Errorf("no VehicleRef")
	}
	if j.Location.Latitude == "" || j.Location.Longitude == "" {
		return f, fmt.Errorf("no VehicleLocation")
	}
	var err error
	if f.Lat, err = strconv.ParseFloat(strings.TrimSpace(j.Location.Latitude), 64); err != nil {
		return f, fmt.Errorf("VehicleLocation/Latitude: %w", err)
	}
	if f.Lon, err = strconv.ParseFloat(strings.TrimSpace(j.Location.Longitude), 64); err != nil {
		return f, fmt.Errorf("VehicleLocation/Longitude: %w", err)
	}
	if err := checkLatLon(f.Lat, f.Lon); err != nil {
		return f, err
	}
	if a.RecordedAtTime == "" {
		return f, fmt.Errorf("no RecordedAtTime")
	}
	if f.Time, err = siriTime(a.RecordedAtTime); err != nil {
		return f, fmt.Errorf("RecordedAtTime: %w", err)
	}
	if v, err := strconv.ParseFloat(strings.TrimSpace(j.Bearing), 64); err == nil {
		f.Bearing = bearing(v)
	}
	if v, err := strconv.ParseFloat(strings.TrimSpace(j.Velocity), 64); err == nil {
		f.Speed = finite(v, 0, 100)
	}
	return f, nil
}

// siriTime parses an xs:dateTime, which SIRI requires to carry its offset.
func siriTime(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(s))
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is not a date and time with its UTC offset (RFC 3339)", s)
	}
	if t.Year() < 2000 || t.Year() > 9999 {
		return time.Time{}, fmt.Errorf("%q: year out of range", s)
	}
	return t.UTC(), nil
}
