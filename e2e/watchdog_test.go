package e2e

import (
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// notifySocket is systemd's side of sd_notify for one service: what a
// unit with Type=notify, WatchdogSec= and Restart=always reads.
type notifySocket struct {
	path string
	conn *net.UnixConn
}

func newNotifySocket(t *testing.T) *notifySocket {
	path := filepath.Join(t.TempDir(), "notify")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return &notifySocket{path: path, conn: conn}
}

// next returns the next state sent within d, or "" when none came.
func (n *notifySocket) next(d time.Duration) string {
	buf := make([]byte, 4096)
	n.conn.SetReadDeadline(time.Now().Add(d))
	k, err := n.conn.Read(buf)
	if err != nil {
		return ""
	}
	return string(buf[:k])
}

// waitFor reads states until one holds want, within d.
func (n *notifySocket) waitFor(t *testing.T, want string, d time.Duration) string {
	t.Helper()
	for deadline := time.Now().Add(d); time.Now().Before(deadline); {
		if s := n.next(time.Until(deadline)); strings.Contains(s, want) {
			return s
		}
	}
	t.Fatalf("no %q from the service within %v", want, d)
	return ""
}

// TestWatchdogRestartsAStuckService plays systemd for each role's unit
// (Type=notify, WatchdogSec=2s, Restart=always): the service says READY=1
// and feeds the watchdog; frozen (SIGSTOP: its loops stop answering), it
// stops feeding it, so the supervisor kills it as systemd would, and the
// restarted service is ready and fed again. The probes behind the feeding
// (the engine's loop, the vehicle's event loop, the sign's state and
// cache) are unit-tested in internal/watchdog.
func TestWatchdogRestartsAStuckService(t *testing.T) {
	skipShort(t)
	sys := startHub(t, "")
	_, gpsLink := openPTY(t)
	stationCfg := writeFile(t, sys.dir, "wd-station.yaml", fmt.Sprintf("display: wd-sign\nstops: [CEN]\nhub: [\"ws%s/ws\"]\ncache: %s\nlisten: \"127.0.0.1:%d\"\n",
		strings.TrimPrefix(sys.hubHTTP, "http"), filepath.Join(sys.dir, "wd-sign.db"), freePort(t)))
	vehicleCfg := writeFile(t, sys.dir, "wd-vehicle.yaml", fmt.Sprintf("vehicle: wd-bus\ngps: {port: %q}\nmqtt: {urls: [%q]}\noutbox: {path: %q}\n",
		gpsLink, sys.mqttURL, filepath.Join(sys.dir, "wd-outbox.db")))
	hubPort := freePort(t)
	hubCfg := writeFile(t, sys.dir, "wd-hub.yaml", fmt.Sprintf("gtfs: configs/demo-feed\nhttp: {listen: \"127.0.0.1:%d\"}\nmqtt: {listen: \"127.0.0.1:%d\"%s}\n",
		hubPort, freePort(t), embeddedBroker(filepath.Join(sys.dir, "wd-hub"))))
	for _, c := range []struct {
		name  string
		args  []string
		ready string
	}{
		{"hub", []string{bins.hub, "serve", "-config", hubCfg}, "STATUS=serving http://127.0.0.1:"},
		{"vehicle", []string{bins.agent, "vehicle", "-config", vehicleCfg}, "STATUS=vehicle wd-bus reading "},
		{"station", []string{bins.agent, "station", "-config", stationCfg}, "STATUS=sign wd-sign on http://127.0.0.1:"},
	} {
		t.Run(c.name, func(t *testing.T) {
			sock := newNotifySocket(t)
			env := []string{"NOTIFY_SOCKET=" + sock.path, "WATCHDOG_USEC=2000000"}
			p := startEnv(t, c.name, env, c.args...)
			if s := sock.waitFor(t, "READY=1", 30*time.Second); !strings.Contains(s, c.ready) {
				t.Errorf("ready state %q, want %q in it", s, c.ready)
			}
			sock.waitFor(t, "WATCHDOG=1", 3*time.Second)
			sock.waitFor(t, "WATCHDOG=1", 3*time.Second)
			// Freeze it: its work stops, and so must the feeding.
			if err := syscall.Kill(p.cmd.Process.Pid, syscall.SIGSTOP); err != nil {
				t.Fatal(err)
			}
			frozen := time.Now()
			for time.Since(frozen) < 2*time.Second { // WatchdogSec
				if s := sock.next(2*time.Second - time.Since(frozen)); strings.Contains(s, "WATCHDOG=1") && time.Since(frozen) > 200*time.Millisecond {
					t.Fatalf("fed %v after it froze: %q", time.Since(frozen), s)
				}
			}
			// systemd: the watchdog expired, kill (SIGABRT, then SIGKILL) and
			// restart it (Restart=always).
			_ = syscall.Kill(p.cmd.Process.Pid, syscall.SIGKILL)
			<-p.done
			p2 := startEnv(t, c.name+"-restarted", env, c.args...)
			sock.waitFor(t, "READY=1", 30*time.Second)
			sock.waitFor(t, "WATCHDOG=1", 3*time.Second)
			p2.stop(t)
			sock.waitFor(t, "STOPPING=1", 5*time.Second)
		})
	}
}
