package e2e

import (
	"bufio"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/headway-transit/headway/internal/tlsfiles"
	"github.com/headway-transit/headway/internal/tlsfiles/tlstest"
)

// TestTLS: the whole path over TLS, with certificates made here. A bus's
// agent reaches the hub's embedded broker over mqtts and a sign its
// WebSocket over wss, each verifying the hub against the CA; a bus trusting
// another CA never gets in, nor does plain text on either port. The hub's
// certificate renewed in its files and SIGHUP: new connections get the new
// one, the sign's connection goes on.
func TestTLS(t *testing.T) {
	skipShort(t)
	ca := tlstest.NewCA(t, "agency")
	other := tlstest.NewCA(t, "other")
	s := &system{dir: t.TempDir()}
	issued, issuedKey := ca.Server(t, "hub", []string{"127.0.0.1", "localhost"}, time.Now().Add(time.Hour))
	cert, key := filepath.Join(s.dir, "hub.pem"), filepath.Join(s.dir, "hub-key.pem")
	copyInto(t, issued, cert)
	copyInto(t, issuedKey, key)
	httpPort, mport := freePort(t), freePort(t)
	s.hubHTTP = fmt.Sprintf("https://127.0.0.1:%d", httpPort)
	s.mqttURL = fmt.Sprintf("ssl://127.0.0.1:%d", mport)
	cfg := writeFile(t, s.dir, "hub.yaml", fmt.Sprintf(`gtfs: configs/demo-feed
http: {listen: "127.0.0.1:%d"}
mqtt:
  listen: "127.0.0.1:%d"
  store: %q
  users:
    - {username: bus-1, password: "bus-1-long-password"}
    - {username: bus-2, password: "bus-2-long-password"}
tls: {cert: %q, key: %q}
boards: {refresh: 2s}
`, httpPort, mport, filepath.Join(s.dir, "broker"), cert, key))
	s.hub = start(t, "hub", bins.hub, "serve", "-config", cfg)
	client, err := tlsfiles.Client(ca.File, "", "")
	if err != nil {
		t.Fatal(err)
	}
	web := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: client}}
	get := func(path string, v any) error {
		resp, err := web.Get(s.hubHTTP + path)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("%s: %s", path, resp.Status)
		}
		if s, ok := v.(*string); ok {
			b, err := io.ReadAll(resp.Body)
			*s = string(b)
			return err
		}
		return json.NewDecoder(resp.Body).Decode(v)
	}
	eventually(t, 30*time.Second, "the hub's /healthz over https", func() bool {
		var h map[string]any
		return get("/healthz", &h) == nil
	})

	// Plain text on both ports: nothing served.
	if httpOK(fmt.Sprintf("http://127.0.0.1:%d/healthz", httpPort)) {
		t.Error("plain HTTP answered on the TLS port")
	}
	if plainMQTTConnects(t, fmt.Sprintf("127.0.0.1:%d", mport)) {
		t.Error("a plain-text MQTT CONNECT answered with CONNACK on the TLS port")
	}

	// Buses: one trusting the agency's CA, one another CA.
	links := simReceivers(t, 2)
	agent := func(id, port, caFile string) *proc {
		c := writeFile(t, s.dir, id+".yaml", fmt.Sprintf("vehicle: %s\ngps: {port: %q}\nmqtt: {urls: [%q], username: %s, password: %q, ca_file: %q}\noutbox: {path: %q}\n",
			id, port, s.mqttURL, id, id+"-long-password", caFile, filepath.Join(s.dir, id+"-outbox.db")))
		return start(t, id, bins.agent, "vehicle", "-config", c)
	}
	agent("bus-1", links[0], ca.File)
	fooled := agent("bus-2", links[1], other.File)
	accepted := func(id string) uint64 {
		var vs []hubVehicle
		if get("/api/vehicles", &vs) != nil {
			return 0
		}
		for _, v := range vs {
			if v.Vehicle == id {
				return v.Accepted
			}
		}
		return 0
	}
	eventually(t, 30*time.Second, "bus-1's fixes at the hub over mqtts", func() bool { return accepted("bus-1") > 0 })
	eventually(t, 20*time.Second, "bus-2's agent saying it does not trust the hub", func() bool {
		return strings.Contains(fooled.output(), "certificate signed by unknown authority")
	})
	if accepted("bus-2") > 0 {
		t.Error("bus-2, trusting another CA, reached the hub")
	}

	// A sign over wss.
	signPort := freePort(t)
	s.signHTTP = fmt.Sprintf("http://127.0.0.1:%d", signPort)
	scfg := writeFile(t, s.dir, "station.yaml", fmt.Sprintf("display: tls-sign\nstops: [CEN]\nhub: [\"wss://127.0.0.1:%d/ws\"]\ncache: %q\nlisten: \"127.0.0.1:%d\"\ntls: {ca: %q}\n",
		httpPort, filepath.Join(s.dir, "sign.db"), signPort, ca.File))
	start(t, "station", bins.agent, "station", "-config", scfg)
	eventually(t, 30*time.Second, "the sign online over wss", func() bool { return signOnline(t, s) })

	// Renewed: written over the files, then SIGHUP.
	served := func(addr string) int64 {
		c, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", addr, client)
		if err != nil {
			t.Fatalf("tls to %s: %v", addr, err)
		}
		defer c.Close()
		return c.ConnectionState().PeerCertificates[0].SerialNumber.Int64()
	}
	httpAddr, mqttAddr := fmt.Sprintf("127.0.0.1:%d", httpPort), fmt.Sprintf("127.0.0.1:%d", mport)
	if a, b := served(httpAddr), served(mqttAddr); a != tlstest.Serial(t, issued) || b != a {
		t.Errorf("serials served %d (https) and %d (mqtts), want %d", a, b, tlstest.Serial(t, issued))
	}
	var before string
	if err := get("/api/displays", &before); err != nil {
		t.Fatal(err)
	}
	renewed, renewedKey := ca.Server(t, "hub-renewed", []string{"127.0.0.1"}, time.Now().Add(2*time.Hour))
	copyInto(t, renewed, cert)
	copyInto(t, renewedKey, key)
	_ = syscall.Kill(s.hub.cmd.Process.Pid, syscall.SIGHUP)
	want := tlstest.Serial(t, renewed)
	eventually(t, 15*time.Second, "the renewed certificate served on both ports", func() bool {
		return served(httpAddr) == want && served(mqttAddr) == want
	})
	var metrics string
	if err := get("/metrics", &metrics); err != nil || !strings.Contains(metrics, "\nheadway_tls_reloads_total ") ||
		strings.Contains(metrics, "\nheadway_tls_reloads_total 0\n") {
		t.Errorf("headway_tls_reloads_total not counted: %v", err)
	}
	var after string
	if err := get("/api/displays", &after); err != nil {
		t.Fatal(err)
	}
	if connectedAt(before, "tls-sign") == "" || connectedAt(before, "tls-sign") != connectedAt(after, "tls-sign") {
		t.Errorf("the sign's connection did not outlive the reload: %s then %s", before, after)
	}
	if !signOnline(t, s) {
		t.Error("the sign offline after the reload")
	}
	b1 := accepted("bus-1")
	eventually(t, 20*time.Second, "bus-1's fixes still coming after the reload", func() bool { return accepted("bus-1") > b1 })
	t.Logf("over TLS: bus-1 %d fixes, bus-2 (another CA) none; certificate %d then %d after SIGHUP; the sign's connection kept (%s)",
		accepted("bus-1"), tlstest.Serial(t, issued), want, connectedAt(after, "tls-sign"))
}

// connectedAt is display's connected_at in /api/displays.
func connectedAt(displays, display string) string {
	var ds []struct {
		ID          string `json:"display"`
		ConnectedAt string `json:"connected_at"`
	}
	if json.Unmarshal([]byte(displays), &ds) != nil {
		return ""
	}
	for _, d := range ds {
		if d.ID == display {
			return d.ConnectedAt
		}
	}
	return ""
}

// plainMQTTConnects sends an MQTT 3.1.1 CONNECT in plain text and reports
// whether a CONNACK came back.
func plainMQTTConnects(t *testing.T, addr string) bool {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return false
	}
	defer c.Close()
	// CONNECT, protocol "MQTT" level 4, clean session, keepalive 30,
	// client id "x".
	pkt := []byte{0x10, 13, 0, 4, 'M', 'Q', 'T', 'T', 4, 2, 0, 30, 0, 1, 'x'}
	if _, err := c.Write(pkt); err != nil {
		return false
	}
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	b, err := bufio.NewReader(c).ReadByte()
	return err == nil && b == 0x20
}

func copyInto(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to+".new", b, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(to+".new", to); err != nil {
		t.Fatal(err)
	}
}
