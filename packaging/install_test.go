// Package packaging tests the Debian packages packaging/build.sh makes: all
// of them built, for the right machines, and the amd64 ones installed with
// dpkg in a Debian chroot made by debootstrap, where the files, the user,
// the units (systemd-analyze verify) and the packaged hub and sign are
// checked, the sign showing the packaged hub's arrivals on its page; the
// arm64 and armhf ones run under qemu's user-mode emulation.
package packaging

import (
	"debug/elf"
	"fmt"

	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

var (
	roles  = []string{"agent", "hub", "vehicle", "station", "firmware-sim"}
	arches = map[string]elf.Machine{"amd64": elf.EM_X86_64, "arm64": elf.EM_AARCH64, "armhf": elf.EM_ARM}
	suite  = "bookworm"
)

func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// build runs packaging/build.sh into a temporary dist, or uses
// $HEADWAY_DIST when make package made it already.
func build(t *testing.T) string {
	if d := os.Getenv("HEADWAY_DIST"); d != "" {
		return d
	}
	dist := t.TempDir()
	cmd := exec.Command("bash", "build.sh")
	cmd.Env = append(os.Environ(), "OUT="+dist)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build.sh: %v\n%s", err, out)
	}
	return dist
}

func debOf(t *testing.T, dist, role, arch string) string {
	t.Helper()
	m, _ := filepath.Glob(filepath.Join(dist, fmt.Sprintf("headway-%s_*_%s.deb", role, arch)))
	if len(m) != 1 {
		t.Fatalf("headway-%s for %s: %d packages in %s", role, arch, len(m), dist)
	}
	return m[0]
}

func TestPackages(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: building every package takes minutes")
	}
	for _, tool := range []string{"dpkg-deb", "go"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("no %s on this machine: packages are built and checked in CI", tool)
		}
	}
	dist := build(t)
	for arch, machine := range arches {
		for _, role := range roles {
			deb := debOf(t, dist, role, arch)
			if got := strings.TrimSpace(run(t, "dpkg-deb", "--field", deb, "Architecture")); got != arch {
				t.Errorf("%s: Architecture %s", filepath.Base(deb), got)
			}
			// The binaries are built for the package's machine.
			dir := t.TempDir()
			run(t, "dpkg-deb", "-x", deb, dir)
			bins, _ := filepath.Glob(filepath.Join(dir, "usr/bin/*"))
			for _, b := range bins {
				f, err := elf.Open(b)
				if err != nil {
					t.Fatalf("%s: %v", b, err)
				}
				if f.Machine != machine {
					t.Errorf("%s in %s: %v, want %v", filepath.Base(b), filepath.Base(deb), f.Machine, machine)
				}
				f.Close()
			}
		}
	}
	for _, arch := range []string{"arm64", "armhf"} {
		t.Run("emulated-"+arch, func(t *testing.T) { emulated(t, dist, arch) })
	}
	t.Run("unit-docs", func(t *testing.T) { unitDocs(t, dist) })
	t.Run("kiosk", func(t *testing.T) { kiosk(t, dist) })
	t.Run("install", func(t *testing.T) { install(t, dist) })
}

// install puts the amd64 packages in a fresh Debian booted with its own
// systemd (in PID, mount, network, UTS and IPC namespaces: the packaged
// defaults' ports are its own) and checks them as a device runs them.
func install(t *testing.T, dist string) {
	if os.Geteuid() != 0 {
		t.Skip("installing in a booted Debian needs root (CI runs as root)")
	}
	for _, tool := range []string{"debootstrap", "unshare", "nsenter", "ip"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("no %s: apt-get install -y debootstrap iproute2 (.ci/run does)", tool)
		}
	}
	root := chroot(t)
	var debs []string
	for _, role := range roles {
		src := debOf(t, dist, role, "amd64")
		data, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, "var/tmp", filepath.Base(src)), data, 0o644); err != nil {
			t.Fatal(err)
		}
		debs = append(debs, "/var/tmp/"+filepath.Base(src))
	}
	sys := boot(t, root)
	in := func(args ...string) string {
		t.Helper()
		return run(t, "nsenter", append([]string{"-t", sys, "-m", "-p", "-u", "-i", "-n", "-r", "-w"}, args...)...)
	}
	try := func(args ...string) (string, error) {
		out, err := exec.Command("nsenter", append([]string{"-t", sys, "-m", "-p", "-u", "-i", "-n", "-r", "-w"}, args...)...).CombinedOutput()
		return string(out), err
	}
	// dpkg -i as an installer runs it: the maintainer scripts make the
	// user, enable and start the services with the packaged configs.
	in(append([]string{"dpkg", "-i"}, debs...)...)

	// The user, its groups, the state directory, the configs' modes.
	if got := in("id", "-nG", "headway"); !strings.Contains(got, "dialout") {
		t.Errorf("headway's groups: %q, want dialout among them", got)
	}
	if got := in("getent", "passwd", "headway"); !strings.Contains(got, ":/var/lib/headway:/usr/sbin/nologin") {
		t.Errorf("headway: %q", got)
	}
	if got := in("stat", "-c", "%U:%G %a", "/var/lib/headway"); strings.TrimSpace(got) != "headway:headway 750" {
		t.Errorf("/var/lib/headway: %s", got)
	}
	for _, f := range []string{"hub", "vehicle", "station"} {
		if got := in("stat", "-c", "%U:%G %a", "/etc/headway/"+f+".yaml"); strings.TrimSpace(got) != "root:headway 640" {
			t.Errorf("/etc/headway/%s.yaml: %s", f, got)
		}
	}
	for _, f := range []string{"/usr/bin/headway-hub", "/usr/bin/headway-agent", "/usr/bin/headway-firmware-sim", "/usr/share/headway-hub/demo-feed/stops.txt"} {
		if _, err := os.Stat(filepath.Join(root, f)); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
	// systemd's own check of the units.
	out, _ := try("systemd-analyze", "verify", "--man=no", "headway-hub.service", "headway-vehicle.service", "headway-station.service", "headway-kiosk.service")
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		// The kiosk's cage and chromium are recommended, not installed here.
		if line == "" || strings.Contains(line, "headway-kiosk.service: Command /usr/bin/cage is not executable") {
			continue
		}
		t.Errorf("systemd-analyze verify: %s", line)
	}
	if unit := readIn(t, root, "/usr/lib/systemd/system/headway-vehicle.service"); !strings.Contains(unit, "SupplementaryGroups=dialout") {
		t.Error("headway-vehicle: not in the dialout group")
	}

	// Running, hardened as packaged (ProtectSystem=strict and the rest),
	// each having told systemd it is ready, with its status line.
	status := map[string]string{"headway-hub": "serving http://127.0.0.1:8080", "headway-station": "sign demo-sign on http://127.0.0.1:8090/", "headway-vehicle": "vehicle bus-17 reading /dev/ttyUSB0"}
	for u, want := range status {
		if got := strings.TrimSpace(in("systemctl", "is-enabled", u)); got != "enabled" {
			t.Errorf("%s: %s", u, got)
		}
		deadline := time.Now().Add(60 * time.Second)
		for {
			show, _ := try("systemctl", "show", "-p", "ActiveState", "-p", "StatusText", "-p", "NRestarts", u)
			if strings.Contains(show, "ActiveState=active") && strings.Contains(show, "StatusText="+want) && strings.Contains(show, "NRestarts=0") {
				break
			}
			if time.Now().After(deadline) {
				j, _ := try("journalctl", "-u", u, "--no-pager", "-n", "30")
				t.Fatalf("%s not running as packaged: %s\n%s", u, show, j)
			}
			time.Sleep(time.Second)
		}
	}
	// The packaged sign shows the packaged hub's board (the demo feed's
	// timetable: no bus runs), and says so to its doctor.
	deadline := time.Now().Add(60 * time.Second)
	for {
		board, _ := try("bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/8090 && printf 'GET /board.json HTTP/1.0\\r\\n\\r\\n' >&3 && cat <&3")
		if strings.Contains(board, `"online":true`) && strings.Contains(board, `"arrivals":[{`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the packaged sign never showed the hub's board: %.600s", board)
		}
		time.Sleep(time.Second)
	}
	doc, _ := try("headway-agent", "doctor", "station")
	for _, want := range []string{"ok    agent      running: online", "ok    hub        ws://127.0.0.1:8080/ws", "ok    cache      cache /var/lib/headway/sign.db: in use by the running service"} {
		if !strings.Contains(doc, want) {
			t.Errorf("headway-agent doctor station: no %q in\n%s", want, doc)
		}
	}
	if doc, _ := try("headway-hub", "doctor"); !strings.Contains(doc, "ok    hub        running on 127.0.0.1:8080") {
		t.Errorf("headway-hub doctor:\n%s", doc)
	}

	// systemctl reload: the sign moves to another stop with no restart.
	cfg := readIn(t, root, "/etc/headway/station.yaml")
	if !strings.Contains(cfg, `stops: ["CEN"]`) {
		t.Fatalf("the packaged station.yaml has no stops: [\"CEN\"] line to change")
	}
	writeIn(t, root, "/etc/headway/station.yaml", strings.Replace(cfg, `stops: ["CEN"]`, `stops: ["HAR"]`, 1))
	pid := strings.TrimSpace(in("systemctl", "show", "-p", "MainPID", "--value", "headway-station"))
	in("systemctl", "reload", "headway-station")
	deadline = time.Now().Add(30 * time.Second)
	for {
		board, _ := try("bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/8090 && printf 'GET /board.json HTTP/1.0\\r\\n\\r\\n' >&3 && cat <&3")
		if strings.Contains(board, `"stop":"HAR"`) && strings.Contains(board, `"online":true`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after systemctl reload the sign shows: %.400s", board)
		}
		time.Sleep(500 * time.Millisecond)
	}
	if now := strings.TrimSpace(in("systemctl", "show", "-p", "MainPID", "--value", "headway-station")); now != pid {
		t.Errorf("the sign restarted on reload: pid %s, then %s", pid, now)
	}

	// The watchdog: a bus's agent whose loop stops answering (frozen) is
	// killed and started again by systemd (WatchdogSec shortened to 3 s).
	writeIn(t, root, "/etc/systemd/system/headway-vehicle.service.d/watchdog.conf", "[Service]\nWatchdogSec=3s\n")
	in("systemctl", "daemon-reload")
	in("systemctl", "restart", "headway-vehicle")
	time.Sleep(4 * time.Second) // fed a few times
	frozen := strings.TrimSpace(in("systemctl", "show", "-p", "MainPID", "--value", "headway-vehicle"))
	in("kill", "-STOP", frozen)
	deadline = time.Now().Add(30 * time.Second)
	for {
		show := in("systemctl", "show", "-p", "MainPID", "-p", "NRestarts", "-p", "ActiveState", "headway-vehicle")
		if strings.Contains(show, "NRestarts=1") && strings.Contains(show, "ActiveState=active") && !strings.Contains(show, "MainPID="+frozen+"\n") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the frozen vehicle agent was not restarted: %s", show)
		}
		time.Sleep(500 * time.Millisecond)
	}
	if j, _ := try("journalctl", "-u", "headway-vehicle", "--no-pager"); !strings.Contains(j, "Watchdog timeout") {
		t.Errorf("the journal does not say the watchdog fired:\n%.2000s", j)
	}

	// Removed: the units go, the configs stay until purge.
	in("dpkg", "-r", "headway-station", "headway-vehicle", "headway-firmware-sim")
	if _, err := os.Stat(filepath.Join(root, "usr/lib/systemd/system/headway-station.service")); err == nil {
		t.Error("headway-station.service left after dpkg -r")
	}
	if _, err := os.Stat(filepath.Join(root, "etc/headway/station.yaml")); err != nil {
		t.Errorf("dpkg -r took the config (only purge should): %v", err)
	}
}

// boot starts root's systemd as PID 1 of new PID, mount, network, UTS
// and IPC namespaces (root pivoted, as a container runtime does, so the
// units' sandboxing can make its own mounts), and returns its pid as
// nsenter wants it. It is killed, and its namespaces with it, at cleanup.
func boot(t *testing.T, root string) string {
	os.MkdirAll(filepath.Join(root, ".oldroot"), 0o755)
	script := `set -e
ip link set lo up
mount --make-rprivate /
mount --bind "$R" "$R"
mount -t proc proc "$R/proc"
mount --rbind /sys "$R/sys"
mount --rbind /dev "$R/dev"
mount -t tmpfs tmpfs "$R/run"
mount -t tmpfs tmpfs "$R/tmp"
cd "$R"
pivot_root . .oldroot
umount -l /.oldroot
exec /usr/bin/env container=headway-test /lib/systemd/systemd --system --log-target=journal`
	logf, _ := os.Create(filepath.Join(t.TempDir(), "boot.log"))
	cmd := exec.Command("unshare", "--pid", "--fork", "--mount", "--uts", "--ipc", "--net", "bash", "-c", script)
	cmd.Env = append(os.Environ(), "R="+root)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	// systemd is unshare's child (--fork), PID 1 inside.
	deadline := time.Now().Add(60 * time.Second)
	for {
		kids, _ := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", cmd.Process.Pid, cmd.Process.Pid))
		if pid := strings.TrimSpace(string(kids)); pid != "" {
			comm, _ := os.ReadFile("/proc/" + pid + "/comm")
			if strings.TrimSpace(string(comm)) == "systemd" {
				out, _ := exec.Command("nsenter", "-t", pid, "-m", "-p", "-u", "-i", "-n", "-r", "-w", "systemctl", "is-system-running", "--wait").CombinedOutput()
				if s := strings.TrimSpace(string(out)); s == "running" || s == "degraded" {
					t.Cleanup(func() { syscall.Kill(mustAtoi(pid), syscall.SIGKILL) })
					return pid
				}
			}
		}
		if time.Now().After(deadline) {
			b, _ := os.ReadFile(logf.Name())
			t.Fatalf("the Debian root's systemd did not come up: %s", b)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func mustAtoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

// chroot makes a minimal Debian with systemd, from a tarball kept in the
// user's cache once made (debootstrap --make-tarball).
func chroot(t *testing.T) string {
	root := filepath.Join(t.TempDir(), "root")
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	tarball := filepath.Join(cache, "headway", "debootstrap-"+suite+"-systemd-procps.tgz")
	args := []string{"--variant=minbase", "--include=systemd,passwd,procps"}
	if _, err := os.Stat(tarball); err != nil {
		os.MkdirAll(filepath.Dir(tarball), 0o755)
		run(t, "debootstrap", append(args, "--make-tarball="+tarball, suite, t.TempDir(), "http://deb.debian.org/debian")...)
	}
	run(t, "debootstrap", append(args, "--unpack-tarball="+tarball, suite, root, "http://deb.debian.org/debian")...)
	return root
}

func readIn(t *testing.T, root, path string) string {
	b, err := os.ReadFile(filepath.Join(root, path))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func writeIn(t *testing.T, root, path, body string) {
	os.MkdirAll(filepath.Dir(filepath.Join(root, path)), 0o755)
	if err := os.WriteFile(filepath.Join(root, path), []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}
