package e2e

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// startHubWith starts a hub on the embedded broker like startHub, with
// boards configured by boards (a YAML flow mapping, e.g. "{refresh: 2s,
// horizon: 30m}"). It returns the system and the hub's config file, with
// which restartHub starts the hub again on the same ports.
func startHubWith(t testing.TB, boards string) (*system, string) {
	t.Helper()
	return startHubConfig(t, func(string) string { return "boards: " + boards + "\n" })
}

// startHubConfig starts a hub on the embedded broker with the lines that
// extra returns, given the system's folder, added to its config, and args
// added to hub serve's (-clock).
func startHubConfig(t testing.TB, extra func(dir string) string, args ...string) (*system, string) {
	t.Helper()
	s := &system{dir: t.TempDir(), hubArgs: args}
	httpPort, mport := freePort(t), freePort(t)
	s.hubHTTP = fmt.Sprintf("http://127.0.0.1:%d", httpPort)
	s.mqttURL = fmt.Sprintf("tcp://127.0.0.1:%d", mport)
	cfg := writeFile(t, s.dir, "hub.yaml", fmt.Sprintf("gtfs: configs/demo-feed\nhttp: {listen: \"127.0.0.1:%d\"}\nmqtt: {listen: \"127.0.0.1:%d\"%s}\n%s",
		httpPort, mport, embeddedBroker(s.dir), extra(s.dir)))
	s.restartHub(t, cfg)
	return s, cfg
}

// restartHub starts a hub process with cfg (the previous one stopped).
func (s *system) restartHub(t testing.TB, cfg string) {
	t.Helper()
	s.hub = start(t, "hub", append([]string{bins.hub, "serve", "-config", cfg}, s.hubArgs...)...)
	eventually(t, 20*time.Second, "the hub's /healthz", func() bool { return httpOK(s.hubHTTP + "/healthz") })
}

// startStationWith starts a station agent like startStation, with extra
// lines of station config (thresholds, time zone).
func (s *system) startStationWith(t testing.TB, extra string, stops ...string) {
	t.Helper()
	port := freePort(t)
	s.signHTTP = fmt.Sprintf("http://127.0.0.1:%d", port)
	s.cache = filepath.Join(s.dir, "sign.db")
	q := make([]string, len(stops))
	for i, st := range stops {
		q[i] = fmt.Sprintf("%q", st)
	}
	cfg := writeFile(t, s.dir, "station.yaml", fmt.Sprintf("display: e2e-sign\nstops: [%s]\nhub: [\"ws%s/ws\"]\ncache: %s\nlisten: \"127.0.0.1:%d\"\n%s",
		strings.Join(q, ","), strings.TrimPrefix(s.hubHTTP, "http"), s.cache, port, extra))
	s.station = start(t, "station", bins.agent, "station", "-config", cfg)
	eventually(t, 20*time.Second, "the sign's /healthz", func() bool { return httpOK(s.signHTTP + "/healthz") })
}
