package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	bolt "go.etcd.io/bbolt"
)

// TestServiceAlertOnSign: an operator's alert reaches the sign page in
// headless Chromium and goes when its period ends; a stop closed by an
// alert loses its rows (the hub's board and the sign) until the alert is
// removed; the sign keeps the alerts in its bbolt cache.
func TestServiceAlertOnSign(t *testing.T) {
	skipShort(t)
	ctx := browser(t)
	sys := startHub(t, "")
	sys.startStation(t, "CEN", "HAR")
	tctx, cancel := context.WithTimeout(ctx, 150*time.Second)
	defer cancel()
	if err := chromedp.Do(tctx, chromedp.Navigate(sys.signHTTP+"/"), chromedp.WaitVisible(chromedp.CSS(`#rows .row`))); err != nil {
		t.Fatalf("sign page: %v", err)
	}

	post := func(body string) string {
		t.Helper()
		res, err := web(5*time.Second).Post(sys.hubHTTP+"/api/alerts", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		if res.StatusCode != http.StatusCreated {
			t.Fatalf("POST /api/alerts: %d %s", res.StatusCode, b)
		}
		var a struct{ ID string }
		_ = json.Unmarshal(b, &a)
		return a.ID
	}
	end := time.Now().Add(25 * time.Second).UTC().Format(time.RFC3339)
	detour := post(fmt.Sprintf(`{"effect":"detour","severity":"warning","header":"Route 2 diverted via Via Roma","entities":[{"route":"2"}],"active":[{"end":%q}]}`, end))
	closed := post(`{"effect":"no_service","header":"Harbour Gate closed for works: use Fish Market","entities":[{"stop":"HAR"}]}`)

	alertsShown := func() (string, error) {
		return chromedp.Run(tctx, chromedp.Evaluate[string](`Array.from(document.querySelectorAll("#rows .alert")).map(e => e.getAttribute("data-alert") + "=" + e.textContent).join("|")`))
	}
	var shown string
	eventually(t, 20*time.Second, "both alerts on the sign page", func() bool {
		shown, _ = alertsShown()
		return strings.Contains(shown, detour+"=ROUTE 2Route 2 diverted via Via Roma") && strings.Contains(shown, closed+"=STOP CLOSEDHarbour Gate closed")
	})
	t.Logf("sign page shows: %s", shown)

	// The closed stop: no rows on the hub's board nor on the sign.
	var board struct {
		Arrivals []json.RawMessage `json:"arrivals"`
	}
	eventually(t, 20*time.Second, "HAR's board empty while it is closed", func() bool {
		return getJSON(t, sys.hubHTTP+"/api/stops/HAR/board", &board) == nil && len(board.Arrivals) == 0
	})
	var sb struct {
		Stops []struct {
			Stop     string            `json:"stop"`
			Note     string            `json:"note"`
			Arrivals []json.RawMessage `json:"arrivals"`
		} `json:"stops"`
	}
	eventually(t, 10*time.Second, "the sign's HAR rows gone, noted closed", func() bool {
		if getJSON(t, sys.signHTTP+"/board.json", &sb) != nil || len(sb.Stops) != 2 {
			return false
		}
		return sb.Stops[1].Note == "stop_closed" && len(sb.Stops[1].Arrivals) == 0 && len(sb.Stops[0].Arrivals) > 0
	})

	// The hub's passengers' page for the stop (a phone's screen) says so.
	phone, closePhone := chromedp.NewContext(tctx)
	err := chromedp.Do(phone, chromedp.EmulateViewport(390, 844), chromedp.Navigate(sys.hubHTTP+"/stops/HAR"),
		chromedp.WaitVisible(chromedp.CSS(`#alerts .alert.closed`)))
	if err != nil {
		t.Fatalf("the stop page: %v", err)
	}
	page, err := chromedp.Run(phone, chromedp.Text(chromedp.CSS(`main`)))
	if err != nil || !strings.Contains(page, "Harbour Gate closed for works") || !strings.Contains(page, "No departures") {
		t.Errorf("/stops/HAR shows %q (%v)", page, err)
	}
	if err := chromedp.Do(phone, chromedp.Navigate(sys.hubHTTP+"/stops/CEN"), chromedp.WaitVisible(chromedp.CSS(`#rows .row`))); err != nil {
		t.Fatalf("/stops/CEN: %v", err)
	}
	cen, err := chromedp.Run(phone, chromedp.Evaluate[int](`document.querySelectorAll("#rows .row").length`))
	if err != nil || cen == 0 {
		t.Errorf("/stops/CEN: %d rows (%v)", cen, err)
	}
	closePhone()

	// The detour's period ends: it leaves the page by itself.
	eventually(t, 45*time.Second, "the detour gone from the page after its end", func() bool {
		shown, _ = alertsShown()
		return !strings.Contains(shown, detour) && strings.Contains(shown, closed)
	})

	// The closure removed: HAR's rows come back.
	req, _ := http.NewRequest("DELETE", sys.hubHTTP+"/api/alerts/"+closed, nil)
	res, err := web(5 * time.Second).Do(req)
	if err != nil || res.StatusCode != http.StatusNoContent {
		t.Fatalf("DELETE: %v %v", err, res)
	}
	res.Body.Close()
	eventually(t, 20*time.Second, "HAR's rows back on the page and no alert", func() bool {
		shown, _ = alertsShown()
		if shown != "" {
			return false
		}
		return getJSON(t, sys.signHTTP+"/board.json", &sb) == nil && len(sb.Stops) == 2 && len(sb.Stops[1].Arrivals) > 0
	})

	// The sign kept the alerts messages in its cache.
	sys.station.stop(t)
	db, err := bolt.Open(sys.cache, 0o600, &bolt.Options{ReadOnly: true, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte("alerts"))
		if b == nil || b.Get([]byte("CEN")) == nil || b.Get([]byte("HAR")) == nil {
			return fmt.Errorf("no alerts of CEN and HAR cached")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// postAlert posts an operator's alert to s's hub and returns its id.
func postAlert(t testing.TB, s *system, body string) string {
	t.Helper()
	var id string
	eventually(t, 30*time.Second, "the hub taking an operator's alert", func() bool {
		res, err := web(5*time.Second).Post(s.hubHTTP+"/api/alerts", "application/json", strings.NewReader(body))
		if err != nil {
			return false
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		if res.StatusCode == http.StatusServiceUnavailable {
			return false // a cluster's bucket not ready yet
		}
		if res.StatusCode != http.StatusCreated {
			t.Fatalf("POST /api/alerts: %d %s", res.StatusCode, b)
		}
		var a struct{ ID string }
		_ = json.Unmarshal(b, &a)
		id = a.ID
		return true
	})
	return id
}

// signHasAlert reports whether s's sign shows the alert id at any stop.
func signHasAlert(t testing.TB, s *system, id string) bool {
	var v struct {
		Stops []struct {
			Alerts []struct{ ID string } `json:"alerts"`
		} `json:"stops"`
	}
	if getJSON(t, s.signHTTP+"/board.json", &v) != nil {
		return false
	}
	for _, st := range v.Stops {
		for _, a := range st.Alerts {
			if a.ID == id {
				return true
			}
		}
	}
	return false
}
