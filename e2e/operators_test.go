package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/headway-transit/headway/internal/gtfs"
)

// TestOperators: a hub with an operator (her password hashed by `hub
// passwd`) and a per-client limit that does not exempt this machine.
//
// In headless Chromium the dashboard sends a visitor to /login and its API
// answers 401; a wrong password is refused; the right one opens the
// dashboard, and signing out closes it again.
//
// Then one source guesses passwords and floods the public endpoints while
// a sign, a passenger's app and the operator go on: the guesser is held to
// the sign-in limit (bcrypt runs for few of its attempts) and gets 429s;
// the others get every board, and the sign stays live.
func TestOperators(t *testing.T) {
	skipShort(t)
	hash := hubPasswd(t, "correct-horse-battery")
	s := &system{dir: t.TempDir()}
	httpPort, mport := freePort(t), freePort(t)
	s.hubHTTP = fmt.Sprintf("http://127.0.0.1:%d", httpPort)
	s.mqttURL = fmt.Sprintf("tcp://127.0.0.1:%d", mport)
	s.restartHub(t, writeFile(t, s.dir, "hub.yaml", fmt.Sprintf(`gtfs: configs/demo-feed
http:
  listen: "127.0.0.1:%d"
  operators: [{username: alice, password_hash: %q}]
  rate_limit: {per_second: 10, burst: 40, exempt: []}
mqtt: {listen: "127.0.0.1:%d"%s}
boards: {refresh: 2s}
`, httpPort, hash, mport, embeddedBroker(s.dir))))
	// A bus stands on its trip short of the sign's stop: its predictions,
	// and so the sign's board, change with every fix.
	feed, err := gtfs.Load(filepath.Join(bins.root, "configs/demo-feed"))
	if err != nil {
		t.Fatal(err)
	}
	trip, _ := tripInProgress(t, feed, time.Now())
	pos, track := trip.Path.At(trip.StopTimes[3].Dist + 50)
	stop := trip.StopTimes[len(trip.StopTimes)-2].StopID
	master, link := openPTY(t)
	s.startStation(t, stop)
	s.startVehicle(t, "bus-op", link, trip.ID)
	startFeeder(t, master, pos, track, time.Second)
	eventually(t, 60*time.Second, "the bus live on the sign", func() bool {
		var b signBoard
		if getJSON(t, s.signHTTP+"/board.json", &b) != nil || !b.Online {
			return false
		}
		_, v, ok := b.realtime(stop, trip.ID)
		return ok && v == "bus-op"
	})

	t.Run("browser", func(t *testing.T) { operatorBrowser(t, s.hubHTTP) })
	t.Run("brute force", func(t *testing.T) { bruteForce(t, s, stop) })
}

// hubPasswd hashes password with `hub passwd`, as an operator would.
func hubPasswd(t *testing.T, password string) string {
	t.Helper()
	cmd := exec.Command(bins.hub, "passwd")
	cmd.Stdin = strings.NewReader(password + "\n")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("hub passwd: %v", err)
	}
	return strings.TrimSpace(string(out))
}

func operatorBrowser(t *testing.T, hub string) {
	ctx := browser(t)
	tctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	fetchStatus := func(path string) int {
		t.Helper()
		st, err := chromedp.Run(tctx, chromedp.Evaluate[int](fmt.Sprintf(`fetch(%q).then(r => r.status)`, path),
			chromedp.EvalAwaitPromise))
		if err != nil {
			t.Fatalf("fetch %s in the page: %v", path, err)
		}
		return st
	}
	// No session: the dashboard sends the browser to sign in.
	if err := chromedp.Do(tctx, chromedp.Navigate(hub+"/"), chromedp.WaitVisible(chromedp.CSS(`#login`))); err != nil {
		t.Fatalf("dashboard without a session: %v", err)
	}
	loc, _ := chromedp.Run(tctx, chromedp.Location())
	if u, _ := url.Parse(loc); u == nil || u.Path != "/login" {
		t.Errorf("dashboard without a session landed on %s, want /login", loc)
	}
	if has, _ := chromedp.Run(tctx, chromedp.Evaluate[bool](`document.getElementById("vehicles") !== null`)); has {
		t.Error("the fleet table is on the page before signing in")
	}
	// The API refuses the browser too (asked from /healthz: the sign-in
	// page's policy lets it fetch nothing).
	if err := chromedp.Do(tctx, chromedp.Navigate(hub+"/healthz")); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/api/vehicles", "/api/displays", "/api/cluster"} {
		if st := fetchStatus(p); st != http.StatusUnauthorized {
			t.Errorf("%s from the browser with no session: %d, want 401", p, st)
		}
	}
	signIn := func(password string) {
		t.Helper()
		if err := chromedp.Do(tctx,
			chromedp.WaitVisible(chromedp.CSS(`#username`)),
			chromedp.SetValue(chromedp.CSS(`#username`), "alice"),
			chromedp.SetValue(chromedp.CSS(`#password`), password),
			chromedp.Click(chromedp.CSS(`#submit`)),
		); err != nil {
			t.Fatalf("sign-in form: %v", err)
		}
	}
	if err := chromedp.Do(tctx, chromedp.Navigate(hub+"/")); err != nil {
		t.Fatal(err)
	}
	signIn("not-her-password")
	if err := chromedp.Do(tctx, chromedp.WaitVisible(chromedp.CSS(`#message`))); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "the refusal shown", func() bool {
		msg, _ := chromedp.Run(tctx, chromedp.Text(chromedp.CSS(`#message`)))
		return strings.Contains(msg, "Wrong username or password")
	})
	signIn("correct-horse-battery")
	if err := chromedp.Do(tctx, chromedp.WaitVisible(chromedp.CSS(`#displays tr`))); err != nil {
		t.Fatalf("dashboard after signing in: %v", err)
	}
	eventually(t, 10*time.Second, "the operator's name on the dashboard", func() bool {
		who, _ := chromedp.Run(tctx, chromedp.Text(chromedp.CSS(`#operator`)))
		return who == "signed in as alice"
	})
	if st := fetchStatus("/api/vehicles"); st != http.StatusOK {
		t.Errorf("/api/vehicles signed in: %d", st)
	}
	// The session cookie is out of the page's reach.
	if c, _ := chromedp.Run(tctx, chromedp.Evaluate[string](`document.cookie`)); strings.Contains(c, "headway_session") {
		t.Errorf("document.cookie shows the session: %q", c)
	}
	if err := chromedp.Do(tctx, chromedp.Click(chromedp.CSS(`#signout button`)), chromedp.WaitVisible(chromedp.CSS(`#login`)),
		chromedp.Navigate(hub+"/healthz")); err != nil {
		t.Fatalf("sign out: %v", err)
	}
	if st := fetchStatus("/api/vehicles"); st != http.StatusUnauthorized {
		t.Errorf("/api/vehicles after signing out: %d, want 401", st)
	}
}

// client is an HTTP client whose connections come from the loopback
// address ip, so the test plays clients at several addresses.
func client(ip string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 5 * time.Second}
	jar, _ := cookiejar.New(nil)
	return &http.Client{
		Transport:     &http.Transport{DialContext: d.DialContext, MaxIdleConnsPerHost: 16},
		Jar:           jar,
		Timeout:       10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

func bruteForce(t *testing.T, s *system, stop string) {
	const attack = 20 * time.Second
	before := scrape(t, s.hubHTTP+"/metrics")
	ctx, cancel := context.WithTimeout(context.Background(), attack)
	defer cancel()

	// The guesser: 8 workers at one address, each trying passwords and
	// pulling boards as fast as the hub answers.
	var tries, refused, boardsRefused atomic.Int64
	var wg sync.WaitGroup
	guesser := client("127.0.0.66")
	for w := range 8 {
		wg.Go(func() {
			for i := 0; ctx.Err() == nil; i++ {
				res, err := guesser.PostForm(s.hubHTTP+"/login", url.Values{"username": {"alice"}, "password": {fmt.Sprintf("guess-%d-%d-xxxxxx", w, i)}})
				if err == nil {
					tries.Add(1)
					if res.StatusCode == http.StatusTooManyRequests {
						refused.Add(1)
					}
					io.Copy(io.Discard, res.Body)
					res.Body.Close()
				}
				if res, err := guesser.Get(s.hubHTTP + "/api/stops/" + stop + "/board"); err == nil {
					if res.StatusCode == http.StatusTooManyRequests {
						boardsRefused.Add(1)
					}
					io.Copy(io.Discard, res.Body)
					res.Body.Close()
				}
			}
		})
	}

	// A passenger's app polls the board twice a second.
	var appLatency []time.Duration
	appStatus := map[int]int{}
	app := client("127.0.0.5")
	wg.Go(func() {
		for ctx.Err() == nil {
			t0 := time.Now()
			res, err := app.Get(s.hubHTTP + "/api/stops/" + stop + "/board")
			if err != nil {
				appStatus[0]++
			} else {
				io.Copy(io.Discard, res.Body)
				res.Body.Close()
				appStatus[res.StatusCode]++
				appLatency = append(appLatency, time.Since(t0))
			}
			time.Sleep(500 * time.Millisecond)
		}
	})
	// The sign: its board.json says when a board last came from the hub
	// (with the bus reporting, one a second or so).
	updates := map[time.Time]bool{}
	var offline int
	var maxAge time.Duration
	wg.Go(func() {
		for ctx.Err() == nil {
			var b struct {
				Online     bool       `json:"online"`
				LastUpdate *time.Time `json:"last_update"`
			}
			if err := getJSON(t, s.signHTTP+"/board.json", &b); err == nil {
				if !b.Online {
					offline++
				}
				if b.LastUpdate != nil {
					updates[*b.LastUpdate] = true
					maxAge = max(maxAge, time.Since(*b.LastUpdate))
				}
			}
			time.Sleep(250 * time.Millisecond)
		}
	})
	// Halfway through, the operator signs in from her own address.
	time.Sleep(attack / 2)
	op := client("127.0.0.7")
	res, err := op.PostForm(s.hubHTTP+"/login", url.Values{"username": {"alice"}, "password": {"correct-horse-battery"}})
	if err != nil {
		t.Fatalf("operator's sign-in during the attack: %v", err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther {
		t.Errorf("operator's sign-in during the attack: %d, want 303", res.StatusCode)
	}
	type display struct {
		Display   string `json:"display"`
		Connected bool   `json:"connected"`
	}
	var displays []display
	res, err = op.Get(s.hubHTTP + "/api/displays")
	if err == nil {
		err = json.NewDecoder(res.Body).Decode(&displays)
		res.Body.Close()
	}
	if err != nil || !slices.ContainsFunc(displays, func(d display) bool { return d.Display == "e2e-sign" && d.Connected }) {
		t.Errorf("operator's /api/displays during the attack: %v %+v, want the sign connected", err, displays)
	}
	wg.Wait()

	after := scrape(t, s.hubHTTP+"/metrics")
	wrong := after[`headway_http_logins_total{result="wrong"}`] - before[`headway_http_logins_total{result="wrong"}`]
	limited := after[`headway_http_logins_total{result="limited"}`] - before[`headway_http_logins_total{result="limited"}`]
	// 5 at once, then one every 5 s: 9 in 20 s, and slack for the edges.
	if bound := 5 + float64(attack/(5*time.Second)) + 2; wrong > bound {
		t.Errorf("%v password checks for the guesser in %v, want at most %v", wrong, attack, bound)
	}
	if limited < float64(tries.Load())/2 || refused.Load() == 0 || boardsRefused.Load() == 0 {
		t.Errorf("guesser: %d tries, %d refused 429 (%v counted limited), %d boards refused: want most refused", tries.Load(), refused.Load(), limited, boardsRefused.Load())
	}
	if n := after[`headway_http_rate_limited_total{endpoint="board"}`] - before[`headway_http_rate_limited_total{endpoint="board"}`]; n == 0 {
		t.Error("headway_http_rate_limited_total{endpoint=\"board\"} did not count the guesser's boards")
	}
	ok := appStatus[http.StatusOK]
	if ok == 0 || len(appStatus) != 1 {
		t.Errorf("passenger's app: answers by status %v, want every one 200", appStatus)
	}
	if offline > 0 || len(updates) < int(attack/(4*time.Second)) {
		t.Errorf("sign: offline in %d of its samples, %d boards from the hub in %v: want online throughout and fresh boards", offline, len(updates), attack)
	}
	slices.Sort(appLatency)
	if len(appLatency) > 0 {
		t.Logf("attack of %v: guesser made %d sign-in attempts (%d refused 429, %v password checks), %d board requests refused; "+
			"passenger's app: %d boards, p50 %v, max %v; sign: %d boards, oldest %v",
			attack, tries.Load(), refused.Load(), wrong, boardsRefused.Load(), ok,
			appLatency[len(appLatency)/2].Round(time.Millisecond), appLatency[len(appLatency)-1].Round(time.Millisecond), len(updates), maxAge.Round(time.Millisecond))
	}
}
