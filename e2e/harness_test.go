package e2e

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// bins holds the paths of the binaries built by TestMain.
var bins struct {
	dir                   string
	agent, hub, sim, root string
}

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	flag.Parse()
	dir, err := os.MkdirTemp("", "headway-e2e-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	root, _ := filepath.Abs("..")
	bins.dir, bins.root = dir, root
	bins.agent, bins.hub, bins.sim = filepath.Join(dir, "agent"), filepath.Join(dir, "hub"), filepath.Join(dir, "firmware-sim")
	if !testing.Short() {
		cmd := exec.Command("go", "build", "-o", dir+"/", "./agent", "./hub", "./firmware-sim")
		cmd.Dir = root
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			fmt.Fprintln(os.Stderr, "e2e: building the binaries:", err)
			return 1
		}
	}
	return m.Run()
}

func skipShort(t testing.TB) {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end: skipped with -short")
	}
}

// Ports handed out by freePort: below the kernel's ephemeral range (Linux:
// 32768-60999), which bind(:0) and every outgoing connection draw from. A
// port taken from that range can be handed to another process (a test of
// another package, a client's source port) between the moment it is found
// free and the moment the process under test binds it: a hub of a
// cluster test once failed so ("address already in use") on a busy CI
// machine. Picked at random below it, a port is never given out by the
// kernel, and never twice by this process.
const (
	portLow, portHigh = 20000, 32767
)

var ports struct {
	sync.Mutex
	used map[int]bool
}

// freePort returns a TCP port that was free a moment ago, outside the
// ephemeral range and not handed out before by this test binary.
func freePort(t testing.TB) int {
	t.Helper()
	ports.Lock()
	defer ports.Unlock()
	if ports.used == nil {
		ports.used = map[int]bool{}
	}
	for range 1000 {
		p := portLow + rand.IntN(portHigh-portLow+1)
		if ports.used[p] {
			continue
		}
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
		if err != nil {
			continue
		}
		l.Close()
		ports.used[p] = true
		return p
	}
	t.Fatal("no free port below the ephemeral range")
	return 0
}

// proc is a child process whose output goes to a log file in the test's
// temporary directory, dumped on failure.
type proc struct {
	name string
	cmd  *exec.Cmd
	log  string
	done chan struct{}
	err  error
}

func start(t testing.TB, name string, args ...string) *proc {
	t.Helper()
	return startEnv(t, name, nil, args...)
}

// startEnv is start with env added to this process's environment.
func startEnv(t testing.TB, name string, env []string, args ...string) *proc {
	t.Helper()
	logPath := filepath.Join(t.TempDir(), name+".log")
	f, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Dir = bins.root
	cmd.Stdout, cmd.Stderr = f, f
	if env != nil {
		cmd.Env = append(os.Environ(), env...)
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	p := &proc{name: name, cmd: cmd, log: logPath, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		f.Close()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.stop(t)
		if t.Failed() {
			b, _ := os.ReadFile(logPath)
			if len(b) > 8000 {
				b = b[len(b)-8000:]
			}
			t.Logf("--- %s log (tail) ---\n%s", name, b)
		}
	})
	return p
}

// stop sends SIGTERM and waits; SIGKILL after 10 s.
func (p *proc) stop(t testing.TB) {
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		t.Errorf("%s did not stop on SIGTERM; killing it", p.name)
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.done
	}
}

func (p *proc) output() string {
	b, _ := os.ReadFile(p.log)
	return string(b)
}

// eventually polls cond until it returns true or the deadline passes.
func eventually(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// trusted are the test CAs whose hubs the HTTP helpers below reach over
// https (trustCA).
var trusted struct {
	mu    sync.Mutex
	files []string
}

// trustCA lets the HTTP helpers trust the certificates caFile's CA signs.
func trustCA(caFile string) {
	trusted.mu.Lock()
	defer trusted.mu.Unlock()
	trusted.files = append(trusted.files, caFile)
}

// web is the HTTP client of the helpers: the system's roots and the
// trusted test CAs.
func web(timeout time.Duration) *http.Client {
	trusted.mu.Lock()
	files := slices.Clone(trusted.files)
	trusted.mu.Unlock()
	if len(files) == 0 {
		return &http.Client{Timeout: timeout}
	}
	pool := x509.NewCertPool()
	for _, f := range files {
		if pem, err := os.ReadFile(f); err == nil {
			pool.AppendCertsFromPEM(pem)
		}
	}
	return &http.Client{Timeout: timeout, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: pool}, DisableKeepAlives: true,
	}}
}

func httpOK(url string) bool {
	resp, err := web(time.Second).Get(url)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

func getJSON(t testing.TB, url string, v any) error {
	t.Helper()
	resp, err := web(2 * time.Second).Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", url, resp.Status)
	}
	return json.NewDecoder(resp.Body).Decode(v)
}

func writeFile(t testing.TB, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	// The owner's alone: configs holding passwords and secrets must be.
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// mosquitto starts a real Mosquitto broker on a free port and returns its URL.
func mosquitto(t testing.TB) string {
	t.Helper()
	return startMosquitto(t).url
}

// broker is a Mosquitto or nats-server process that a test can stop and
// start again on the same port, keeping its persistent state (sessions,
// queued messages) like a production broker restarted by its operator.
type broker struct {
	name            string
	path, conf, url string
	port            int
	args            []string
	proc            *proc
}

func startMosquitto(t testing.TB) *broker {
	t.Helper()
	path, err := exec.LookPath("mosquitto")
	if err != nil {
		if _, err := os.Stat("/usr/sbin/mosquitto"); err != nil {
			t.Skip("mosquitto is not installed (apt-get install mosquitto); .ci/run installs it")
		}
		path = "/usr/sbin/mosquitto"
	}
	port := freePort(t)
	dir := t.TempDir()
	conf := writeFile(t, dir, "mosquitto.conf", fmt.Sprintf(
		"listener %d 127.0.0.1\nallow_anonymous true\npersistence true\npersistence_location %s/\nautosave_interval 1\nmax_queued_messages 100000\n%s", port, dir, runAs()))
	b := &broker{name: "mosquitto", path: path, conf: conf, port: port, url: fmt.Sprintf("tcp://127.0.0.1:%d", port), args: []string{"-c", conf}}
	b.start(t)
	return b
}

// startNATS runs a nats-server process (built from go.mod's version) with
// its MQTT listener and JetStream files in the test's folder: the external
// NATS broker a single hub may use instead of its embedded one.
func startNATS(t testing.TB) *broker {
	t.Helper()
	path := natsServer(t)
	port, nport := freePort(t), freePort(t)
	dir := t.TempDir()
	conf := writeFile(t, dir, "nats.conf", fmt.Sprintf(
		"server_name: e2e\nlisten: 127.0.0.1:%d\njetstream { store_dir: %q }\nmqtt { listen: 127.0.0.1:%d }\n", nport, dir, port))
	b := &broker{name: "nats-server", path: path, conf: conf, port: port, url: fmt.Sprintf("tcp://127.0.0.1:%d", port), args: []string{"-c", conf}}
	b.start(t)
	return b
}

var natsBuild struct {
	sync.Once
	path string
	err  error
}

// natsServer builds nats-server once, at the version go.mod requires.
func natsServer(t testing.TB) string {
	t.Helper()
	natsBuild.Do(func() {
		natsBuild.path = filepath.Join(bins.dir, "nats-server")
		cmd := exec.Command("go", "build", "-o", natsBuild.path, "github.com/nats-io/nats-server/v2")
		cmd.Dir = bins.root
		if out, err := cmd.CombinedOutput(); err != nil {
			natsBuild.err = fmt.Errorf("building nats-server: %v\n%s", err, out)
		}
	})
	if natsBuild.err != nil {
		t.Fatal(natsBuild.err)
	}
	return natsBuild.path
}

// runAs keeps mosquitto as the user running the tests: started as root it
// would drop to its own user, which cannot write the test's temporary
// directory, and silently fail to persist its state.
func runAs() string {
	if os.Geteuid() == 0 {
		return "user root\n"
	}
	return ""
}

func (b *broker) start(t testing.TB) {
	t.Helper()
	b.proc = start(t, b.name, append([]string{b.path}, b.args...)...)
	eventually(t, 20*time.Second, b.name+" to listen", func() bool {
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", b.port), 200*time.Millisecond)
		if err == nil {
			c.Close()
		}
		return err == nil
	})
}

// stop stops the broker the way an operator does (SIGTERM: it saves its
// state first).
func (b *broker) stop(t testing.TB) { b.proc.stop(t) }

// system is a running hub and station agent.
type system struct {
	dir      string
	hubHTTP  string // http://127.0.0.1:port
	mqttURL  string
	signHTTP string
	hub      *proc
	station  *proc
	cache    string
	hubArgs  []string // added to hub serve's flags (restartHub)
}

// embeddedBroker is the mqtt settings, after listen, of a test hub's
// embedded broker: its files in the test's folder, so that they outlive a
// restart of the hub as they would in a deployment.
func embeddedBroker(dir string) string {
	return fmt.Sprintf(", store: %q", filepath.Join(dir, "broker"))
}

// startHub starts the hub; with brokerURL empty it embeds its broker.
func startHub(t testing.TB, brokerURL string) *system {
	t.Helper()
	s := &system{dir: t.TempDir()}
	httpPort := freePort(t)
	s.hubHTTP = fmt.Sprintf("http://127.0.0.1:%d", httpPort)
	mqtt := ""
	if brokerURL == "" {
		mport := freePort(t)
		s.mqttURL = fmt.Sprintf("tcp://127.0.0.1:%d", mport)
		mqtt = fmt.Sprintf("{listen: \"127.0.0.1:%d\"%s}", mport, embeddedBroker(s.dir))
	} else {
		s.mqttURL = brokerURL
		mqtt = fmt.Sprintf("{url: %q}", brokerURL)
	}
	cfg := writeFile(t, s.dir, "hub.yaml", fmt.Sprintf("gtfs: configs/demo-feed\nhttp: {listen: \"127.0.0.1:%d\"}\nmqtt: %s\nboards: {refresh: 2s}\n", httpPort, mqtt))
	s.hub = start(t, "hub", bins.hub, "serve", "-config", cfg)
	eventually(t, 20*time.Second, "the hub's /healthz", func() bool { return httpOK(s.hubHTTP + "/healthz") })
	return s
}

// startStation starts a station agent showing stops.
func (s *system) startStation(t testing.TB, stops ...string) {
	t.Helper()
	port := freePort(t)
	s.signHTTP = fmt.Sprintf("http://127.0.0.1:%d", port)
	s.cache = filepath.Join(s.dir, "sign.db")
	q := make([]string, len(stops))
	for i, st := range stops {
		q[i] = fmt.Sprintf("%q", st)
	}
	cfg := writeFile(t, s.dir, "station.yaml", fmt.Sprintf("display: e2e-sign\nstops: [%s]\nhub: [\"ws%s/ws\"]\ncache: %s\nlisten: \"127.0.0.1:%d\"\n",
		strings.Join(q, ","), strings.TrimPrefix(s.hubHTTP, "http"), s.cache, port))
	s.station = start(t, "station", bins.agent, "station", "-config", cfg)
	// On failure, what the hub would show at the sign's stops and what the
	// sign shows (cleanups run last-first: both processes are still up).
	signHTTP, hubHTTP := s.signHTTP, s.hubHTTP
	t.Cleanup(func() {
		if !t.Failed() {
			return
		}
		for _, st := range stops {
			b, err := httpGet(hubHTTP + "/api/stops/" + st + "/board")
			t.Logf("--- hub's board of %s (err %v) ---\n%s", st, err, b)
		}
		b, err := httpGet(signHTTP + "/board.json")
		t.Logf("--- sign's board.json (err %v) ---\n%s", err, b)
		b, err = httpGet(hubHTTP + "/api/displays")
		t.Logf("--- hub's displays (err %v) ---\n%s", err, b)
	})
	eventually(t, 20*time.Second, "the sign's /healthz", func() bool { return httpOK(s.signHTTP + "/healthz") })
}

// vehicleProc is a running vehicle agent.
type vehicleProc struct {
	*proc
	http string // its /healthz and /metrics
	cfg  string
}

// startVehicle starts a vehicle agent reading port.
func (s *system) startVehicle(t testing.TB, id, port, trip string) *vehicleProc {
	t.Helper()
	extra := ""
	if trip != "" {
		extra = fmt.Sprintf("trip: %q\n", trip)
	}
	listen := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	cfg := writeFile(t, s.dir, id+".yaml", fmt.Sprintf("vehicle: %s\ngps: {port: %q}\nmqtt: {urls: [%q]}\noutbox: {path: %q}\nlisten: %q\n%s",
		id, port, s.mqttURL, filepath.Join(s.dir, id+"-outbox.db"), listen, extra))
	v := &vehicleProc{proc: start(t, id, bins.agent, "vehicle", "-config", cfg), http: "http://" + listen, cfg: cfg}
	return v
}

// restart starts the agent again with the same config (and outbox).
func (v *vehicleProc) restart(t testing.TB) {
	t.Helper()
	v.proc = start(t, v.name, bins.agent, "vehicle", "-config", v.cfg)
}

// kill stops the agent with SIGKILL, as a power cut would.
func (v *vehicleProc) kill(t testing.TB) {
	t.Helper()
	_ = v.cmd.Process.Signal(syscall.SIGKILL)
	<-v.done
}

// hubVehicle is a vehicle as the hub's /api/vehicles shows it.
type hubVehicle struct {
	Vehicle    string    `json:"vehicle"`
	Seq        uint64    `json:"seq"`
	FixTime    time.Time `json:"fix_time"`
	Accepted   uint64    `json:"accepted"`
	Duplicates uint64    `json:"duplicates"`
	Gaps       uint64    `json:"gaps"`
	Missing    uint64    `json:"missing"`
	Holes      []uint64  `json:"holes"`
	Backfill   uint64    `json:"backfill"`
	Late       uint64    `json:"late"`
	Rejected   uint64    `json:"rejected"`
	Trip       string    `json:"trip"`
	TripSource string    `json:"trip_source"`
}

// vehicle returns the hub's view of id (ok false when it does not know it).
func (s *system) vehicle(t testing.TB, id string) (hubVehicle, bool) {
	t.Helper()
	var vs []hubVehicle
	if err := getJSON(t, s.hubHTTP+"/api/vehicles", &vs); err != nil {
		return hubVehicle{}, false
	}
	for _, v := range vs {
		if v.Vehicle == id {
			return v, true
		}
	}
	return hubVehicle{}, false
}

// signBoard is /board.json as the sign page reads it.
type signBoard struct {
	Online bool       `json:"online"`
	AsOf   *time.Time `json:"as_of"` // offline: when the hub was last heard
	Stops  []struct {
		Stop     string `json:"stop"`
		Arrivals []struct {
			Trip      string     `json:"trip"`
			Vehicle   string     `json:"vehicle"`
			Source    string     `json:"source"`
			Predicted *time.Time `json:"predicted"`
			Scheduled time.Time  `json:"scheduled"`
			Minutes   int        `json:"minutes"`
		} `json:"arrivals"`
	} `json:"stops"`
}

// realtime returns the predicted time the sign shows for trip at stop.
func (b signBoard) realtime(stop, trip string) (time.Time, string, bool) {
	for _, st := range b.Stops {
		if st.Stop != stop {
			continue
		}
		for _, a := range st.Arrivals {
			if a.Trip == trip && a.Source == "realtime" && a.Predicted != nil {
				return *a.Predicted, a.Vehicle, true
			}
		}
	}
	return time.Time{}, "", false
}

// sse reads the sign's /events stream, sending each event's data.
func sse(ctx context.Context, t testing.TB, url string, out chan<- []byte) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		if ctx.Err() == nil {
			t.Errorf("events: %v", err)
		}
		return
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 8<<20)
	var data []byte
	for sc.Scan() {
		line := sc.Bytes()
		switch {
		case len(line) == 0:
			if data != nil {
				select {
				case out <- data:
				case <-ctx.Done():
					return
				}
			}
			data = nil
		case strings.HasPrefix(string(line), "data:"):
			data = append(data, strings.TrimSpace(string(line[5:]))...)
		}
	}
	if err := sc.Err(); err != nil && ctx.Err() == nil && err != io.EOF {
		t.Logf("events stream ended: %v", err)
	}
}

// httpGet returns the body of url whatever the status.
func httpGet(url string) ([]byte, error) {
	resp, err := web(2 * time.Second).Get(url)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	return io.ReadAll(resp.Body)
}

// scrape reads a Prometheus text page into "name{labels}" -> value.
func scrape(t testing.TB, url string) map[string]float64 {
	t.Helper()
	b, err := httpGet(url)
	if err != nil {
		t.Fatalf("scrape %s: %v", url, err)
	}
	out := map[string]float64{}
	for _, line := range strings.Split(string(b), "\n") {
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			continue
		}
		var v float64
		if _, err := fmt.Sscan(line[i+1:], &v); err == nil {
			out[line[:i]] = v
		}
	}
	return out
}

func joinLines(lines []string) string { return strings.Join(lines, "\n") }

// simReceivers starts n simulated GPS receivers (firmware-sim run) on the
// demo feed, the i-th on route i%3+1, and returns their serial ports.
func simReceivers(t testing.TB, n int) []string {
	t.Helper()
	dir := t.TempDir()
	sims := make([]*proc, n)
	for i := range sims {
		sims[i] = start(t, fmt.Sprintf("sim%d", i), bins.sim, "run", "-feed", "configs/demo-feed", "-route", fmt.Sprint(i%3+1), "-link", filepath.Join(dir, fmt.Sprintf("gps%d", i)))
	}
	links := make([]string, n)
	eventually(t, 20*time.Second, "the simulators' receivers", func() bool {
		for i, sim := range sims {
			if m := announce.FindStringSubmatch(sim.output()); m != nil {
				links[i] = m[1]
			}
		}
		return !slices.Contains(links, "")
	})
	return links
}
