package server_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	rtpb "github.com/MobilityData/gtfs-realtime-bindings/golang/gtfs"
	"google.golang.org/protobuf/proto"
)

func (h *hub) send(t *testing.T, method, path, body string, header map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, h.url+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, b
}

// Operators publish, list and remove alerts through the API; the hub's
// GTFS-Realtime ServiceAlerts feed carries them.
func TestAlertsAPI(t *testing.T) {
	h := newHub(t, nil)
	res, body := h.send(t, "POST", "/api/alerts", `{"effect":"detour","severity":"warning","header":"Line One diverted","entities":[{"route":"R1"}]}`, nil)
	if res.StatusCode != http.StatusCreated {
		t.Fatalf("%d %s", res.StatusCode, body)
	}
	var a struct{ ID, Source string }
	if err := json.Unmarshal(body, &a); err != nil || !strings.HasPrefix(a.ID, "op-") || a.Source != "operator" {
		t.Fatalf("%s %v", body, err)
	}
	for _, c := range []struct{ body, want string }{
		{`{"effect":"detour","header":"x","entities":[{"route":"R9"}]}`, `route \"R9\" is not in the schedule`},
		{`{"effect":"detour","entities":[{"route":"R1"}]}`, "header is empty"},
		{`{"effect":"detour","header":"x","entities":[{"route":"R1"}],"colour":"red"}`, `unknown field \"colour\"`},
		{`{"effect":"detour"`, "unexpected EOF"},
	} {
		if res, body := h.send(t, "POST", "/api/alerts", c.body, nil); res.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), c.want) {
			t.Errorf("%s: %d %s, want 400 saying %s", c.body, res.StatusCode, body, c.want)
		}
	}
	// Another site's page cannot post through an operator's browser.
	if res, _ := h.send(t, "POST", "/api/alerts", `{"effect":"detour","header":"x","entities":[{"route":"R1"}]}`, map[string]string{"Sec-Fetch-Site": "cross-site"}); res.StatusCode != http.StatusForbidden {
		t.Errorf("cross-site post: %d", res.StatusCode)
	}

	_, body = h.get(t, "/api/alerts")
	if !strings.Contains(string(body), "Line One diverted") || strings.Count(string(body), `"id"`) != 1 {
		t.Errorf("/api/alerts: %s", body)
	}
	res, body = h.get(t, "/gtfs-rt/alerts")
	var msg rtpb.FeedMessage
	if err := proto.Unmarshal(body, &msg); err != nil || res.Header.Get("Content-Type") != "application/x-protobuf" {
		t.Fatalf("%v %s", err, res.Header.Get("Content-Type"))
	}
	if len(msg.Entity) != 1 || msg.Entity[0].GetAlert().GetEffect() != rtpb.Alert_DETOUR ||
		msg.Entity[0].GetAlert().GetInformedEntity()[0].GetRouteId() != "R1" || msg.Entity[0].GetAlert().GetSeverityLevel() != rtpb.Alert_WARNING {
		t.Errorf("feed: %v", &msg)
	}

	if res, _ := h.send(t, "DELETE", "/api/alerts/"+a.ID, "", nil); res.StatusCode != http.StatusNoContent {
		t.Fatalf("delete: %d", res.StatusCode)
	}
	if res, body := h.send(t, "DELETE", "/api/alerts/"+a.ID, "", nil); res.StatusCode != http.StatusNotFound || !strings.Contains(string(body), "no operator's alert") {
		t.Errorf("delete again: %d %s", res.StatusCode, body)
	}
	if _, body := h.get(t, "/api/alerts"); string(body) != "[]\n" && string(body) != "[]" {
		t.Errorf("after delete: %q", body)
	}
}

// The passengers' stop page and the alerts it reads.
func TestStopPage(t *testing.T) {
	h := newHub(t, nil)
	res, body := h.get(t, "/stops/S1")
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") || !strings.Contains(string(body), "/api/stops/") {
		t.Fatalf("%d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	if m := externalRef.Find(body); m != nil {
		t.Errorf("the stop page refers outside the hub: %q", m)
	}
	if res, _ := h.get(t, "/stops/NOPE"); res.StatusCode != http.StatusNotFound {
		t.Errorf("/stops/NOPE: %d", res.StatusCode)
	}
	if res, body := h.send(t, "POST", "/api/alerts", `{"effect":"no_service","header":"S1 closed","entities":[{"stop":"S1"}]}`, nil); res.StatusCode != http.StatusCreated {
		t.Fatalf("%d %s", res.StatusCode, body)
	}
	_, body = h.get(t, "/api/stops/S1/alerts")
	var m struct {
		Type   string
		Alerts []struct {
			Header     string
			StopClosed bool `json:"stop_closed"`
		}
	}
	if err := json.Unmarshal(body, &m); err != nil || m.Type != "alerts" || len(m.Alerts) != 1 || !m.Alerts[0].StopClosed {
		t.Errorf("%s %v", body, err)
	}
}
