package packaging

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// qemuFor is the qemu user-mode emulator that runs a package
// architecture's binaries on this machine.
var qemuFor = map[string]string{"arm64": "qemu-aarch64", "armhf": "qemu-arm"}

// emulated runs the arm64 or armhf packages' binaries under qemu, as a
// Raspberry Pi runs them: the packaged hub on the packaged demo feed, a
// bus's agent reading the packaged simulator's NMEA on a PTY and
// publishing to it, and a sign showing the hub's board. What an ELF
// header check cannot tell (a binary that starts, its GTFS, broker,
// serial, bbolt and WebSocket code on that machine's word size and
// alignment) is seen working.
func emulated(t *testing.T, dist, arch string) {
	qemu, err := exec.LookPath(qemuFor[arch])
	if err != nil {
		t.Skipf("no %s: apt-get install -y qemu-user (.ci/run does)", qemuFor[arch])
	}
	root := t.TempDir()
	for _, role := range []string{"hub", "agent", "firmware-sim"} {
		run(t, "dpkg-deb", "-x", debOf(t, dist, role, arch), root)
	}
	bin := func(name string) string { return filepath.Join(root, "usr/bin", name) }
	feed := filepath.Join(root, "usr/share/headway-hub/demo-feed")
	dir := t.TempDir()
	if got := run(t, qemu, bin("headway-agent"), "version"); got == "" || got[0] < '0' || got[0] > '9' {
		t.Errorf("headway-agent version under %s: %q, want the package's version", qemu, got)
	}

	httpPort, mqttPort, signPort, agentPort := freePort(t), freePort(t), freePort(t), freePort(t)
	hubCfg := writeTemp(t, dir, "hub.yaml", fmt.Sprintf("gtfs: %s\nhttp: {listen: \"127.0.0.1:%d\"}\nmqtt: {listen: \"127.0.0.1:%d\"}\nboards: {refresh: 2s}\n",
		feed, httpPort, mqttPort))
	hub := startProc(t, "hub", qemu, bin("headway-hub"), "serve", "-config", hubCfg)
	hubURL := fmt.Sprintf("http://127.0.0.1:%d", httpPort)
	waitFor(t, 120*time.Second, hub, "the emulated hub answering /healthz", func() bool {
		_, ok := get(hubURL + "/healthz")
		return ok
	})

	link := filepath.Join(dir, "gps")
	sim := startProc(t, "firmware-sim", qemu, bin("headway-firmware-sim"), "run", "-feed", feed, "-route", "1", "-link", link)
	waitFor(t, 60*time.Second, sim, "the emulated simulator's PTY", func() bool {
		_, err := os.Stat(link + "0")
		return err == nil
	})
	vehCfg := writeTemp(t, dir, "vehicle.yaml", fmt.Sprintf("vehicle: arm-bus\ngps: {port: %s0, baud: 9600}\nmqtt: {urls: [\"tcp://127.0.0.1:%d\"]}\noutbox: {path: %s}\nlisten: 127.0.0.1:%d\n",
		link, mqttPort, filepath.Join(dir, "outbox.db"), agentPort))
	bus := startProc(t, "vehicle", qemu, bin("headway-agent"), "vehicle", "-config", vehCfg)
	waitFor(t, 120*time.Second, bus, "the emulated bus's fixes at the emulated hub", func() bool {
		body, ok := get(hubURL + "/api/vehicles")
		if !ok {
			return false
		}
		var vs []struct {
			Vehicle  string `json:"vehicle"`
			Accepted uint64 `json:"accepted"`
		}
		if json.Unmarshal([]byte(body), &vs) != nil {
			return false
		}
		for _, v := range vs {
			if v.Vehicle == "arm-bus" && v.Accepted >= 3 {
				return true
			}
		}
		return false
	})

	signCfg := writeTemp(t, dir, "station.yaml", fmt.Sprintf("display: arm-sign\nstops: [CEN]\nhub: [\"ws://127.0.0.1:%d/ws\"]\ncache: %s\nlisten: 127.0.0.1:%d\n",
		httpPort, filepath.Join(dir, "sign.db"), signPort))
	sign := startProc(t, "station", qemu, bin("headway-agent"), "station", "-config", signCfg)
	waitFor(t, 120*time.Second, sign, "the emulated sign showing the hub's board", func() bool {
		body, ok := get(fmt.Sprintf("http://127.0.0.1:%d/board.json", signPort))
		return ok && strings.Contains(body, `"online":true`) && strings.Contains(body, `"arrivals":[{`)
	})
}

// proc is a process the test started, with what it printed.
type proc struct {
	name string
	cmd  *exec.Cmd
	mu   sync.Mutex
	out  bytes.Buffer
	done chan struct{}
}

func (p *proc) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.Write(b)
}

func (p *proc) tail() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.out.String()
	if len(s) > 3000 {
		s = "..." + s[len(s)-3000:]
	}
	return s
}

func startProc(t *testing.T, name string, args ...string) *proc {
	t.Helper()
	return startCmd(t, name, exec.Command(args[0], args[1:]...))
}

// startCmd starts cmd, keeping what it prints, and stops it when the test
// ends: SIGINT, or SIGTERM to its process group when it has one of its own
// (Setpgid), then SIGKILL after 20 s.
func startCmd(t *testing.T, name string, cmd *exec.Cmd) *proc {
	t.Helper()
	p := &proc{name: name, cmd: cmd, done: make(chan struct{})}
	p.cmd.Stdout, p.cmd.Stderr = p, p
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	go func() { _ = p.cmd.Wait(); close(p.done) }()
	group := cmd.SysProcAttr != nil && cmd.SysProcAttr.Setpgid
	t.Cleanup(func() {
		if group {
			_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGTERM)
		} else {
			_ = p.cmd.Process.Signal(os.Interrupt)
		}
		select {
		case <-p.done:
		case <-time.After(20 * time.Second):
			if group {
				_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
			} else {
				_ = p.cmd.Process.Kill()
			}
			<-p.done
		}
		if t.Failed() {
			t.Logf("%s's output:\n%s", name, p.tail())
		}
	})
	return p
}

// waitFor polls ok until it holds, failing if p ends or time runs out.
func waitFor(t *testing.T, within time.Duration, p *proc, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !ok() {
		select {
		case <-p.done:
			t.Fatalf("waiting for %s: %s ended: %v\n%s", what, p.name, p.cmd.ProcessState, p.tail())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s within %v", what, within)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

func get(url string) (string, bool) {
	c := http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		return "", false
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err == nil && resp.StatusCode == http.StatusOK
}

func writeTemp(t *testing.T, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// freePort is a TCP port free on loopback now.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
