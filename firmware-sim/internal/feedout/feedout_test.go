package feedout

import (
	"encoding/xml"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	rtpb "github.com/MobilityData/gtfs-realtime-bindings/golang/gtfs"
	"google.golang.org/protobuf/proto"

	"github.com/headway-transit/headway/drivers/nmea"
)

func fix(lat, lon, track float64, at time.Time) nmea.Fix {
	return nmea.Fix{Time: at, Lat: lat, Lon: lon, Mode: nmea.Mode3D, Speed: 8, Track: track, HDOP: 1, Sats: 9}
}

func get(t *testing.T, url, etag string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	if etag != "" {
		req.Header.Set("If-None-Match", etag)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, b
}

func TestFeeds(t *testing.T) {
	at := time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)
	s := New(func(i int) string { return "sim-" + strconv.Itoa(i) }, true, func() time.Time { return at.Add(2 * time.Second) })
	s.Publish(1, fix(44.41, 8.91, 370, at), "1-0-0900") // a track past 360 is folded
	s.Publish(0, fix(44.40, 8.90, 90, at.Add(-time.Second)), "2-1-0915")
	s.Publish(2, nmea.Fix{Time: at, Mode: nmea.ModeNoFix}, "x") // no position: not reported
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()

	res, b := get(t, srv.URL+"/vehicle-positions.pb", "")
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "application/x-protobuf" {
		t.Fatalf("%s %s", res.Status, res.Header.Get("Content-Type"))
	}
	var msg rtpb.FeedMessage
	if err := proto.Unmarshal(b, &msg); err != nil {
		t.Fatal(err)
	}
	if msg.GetHeader().GetTimestamp() != uint64(at.Unix()+2) || len(msg.GetEntity()) != 2 {
		t.Fatalf("header %v, %d entities", msg.GetHeader(), len(msg.GetEntity()))
	}
	e0, e1 := msg.Entity[0].GetVehicle(), msg.Entity[1].GetVehicle()
	if e0.GetVehicle().GetId() != "sim-0" || e0.GetTrip().GetTripId() != "2-1-0915" || e0.GetTimestamp() != uint64(at.Unix()-1) {
		t.Errorf("first entity %v", e0)
	}
	if e1.GetPosition().GetBearing() != 10 || e1.GetPosition().GetSpeed() != 8 {
		t.Errorf("second entity %v", e1.GetPosition())
	}

	// Nothing new: 304 to a poller that sends the tag back.
	res2, _ := get(t, srv.URL+"/vehicle-positions.pb", res.Header.Get("ETag"))
	if res2.StatusCode != http.StatusNotModified {
		t.Fatalf("unchanged feed: %s", res2.Status)
	}
	s.Publish(0, fix(44.402, 8.902, 90, at.Add(time.Second)), "2-1-0915")
	if res3, _ := get(t, srv.URL+"/vehicle-positions.pb", res.Header.Get("ETag")); res3.StatusCode != 200 {
		t.Fatalf("after a new fix: %s", res3.Status)
	}

	res, b = get(t, srv.URL+"/vehicle-monitoring.xml", "")
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "application/xml" {
		t.Fatalf("%s %s", res.Status, res.Header.Get("Content-Type"))
	}
	var doc struct {
		Activities []struct {
			Recorded string `xml:"RecordedAtTime"`
			Vehicle  string `xml:"MonitoredVehicleJourney>VehicleRef"`
			Journey  string `xml:"MonitoredVehicleJourney>FramedVehicleJourneyRef>DatedVehicleJourneyRef"`
			Lat      string `xml:"MonitoredVehicleJourney>VehicleLocation>Latitude"`
		} `xml:"ServiceDelivery>VehicleMonitoringDelivery>VehicleActivity"`
	}
	if err := xml.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Activities) != 2 || doc.Activities[0].Vehicle != "sim-0" || doc.Activities[0].Journey != "2-1-0915" ||
		doc.Activities[0].Lat != "44.402000" || doc.Activities[0].Recorded != "2026-12-06T10:00:01Z" {
		t.Errorf("SIRI: %+v", doc.Activities)
	}
	if !strings.Contains(string(b), `xmlns="http://www.siri.org.uk/siri"`) {
		t.Errorf("SIRI document without its namespace:\n%s", b)
	}
}
