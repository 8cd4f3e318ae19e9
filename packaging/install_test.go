// Package packaging tests the Debian packages packaging/build.sh makes: all
// of them built, for the right machines, and the amd64 ones installed with
// dpkg in a Debian chroot made by debootstrap, where the files, the user,
// the units (systemd-analyze verify) and the packaged hub and sign are
// checked, the sign showing the packaged hub's arrivals on its page.
package packaging

import (
	"debug/elf"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
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
	t.Run("install", func(t *testing.T) { install(t, dist) })
}

// install puts the amd64 packages in a fresh Debian and checks them.
func install(t *testing.T, dist string) {
	if os.Geteuid() != 0 {
		t.Skip("installing in a chroot needs root (CI runs as root)")
	}
	for _, tool := range []string{"debootstrap", "chroot", "mount"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("no %s: apt-get install -y debootstrap (.ci/run does)", tool)
		}
	}
	root := chroot(t)
	var debs []string
	for _, role := range roles {
		src := debOf(t, dist, role, "amd64")
		dst := filepath.Join(root, "tmp", filepath.Base(src))
		data, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, data, 0o644); err != nil {
			t.Fatal(err)
		}
		debs = append(debs, "/tmp/"+filepath.Base(src))
	}
	in := func(args ...string) string {
		t.Helper()
		return run(t, "chroot", append([]string{root}, args...)...)
	}
	in(append([]string{"dpkg", "-i"}, debs...)...)

	// The user, its groups, the state directory.
	if got := in("id", "-nG", "headway"); !strings.Contains(got, "dialout") {
		t.Errorf("headway's groups: %q, want dialout among them", got)
	}
	if got := in("getent", "passwd", "headway"); !strings.Contains(got, ":/var/lib/headway:/usr/sbin/nologin") {
		t.Errorf("headway: %q", got)
	}
	if got := in("stat", "-c", "%U:%G %a", "/var/lib/headway"); strings.TrimSpace(got) != "headway:headway 750" {
		t.Errorf("/var/lib/headway: %s", got)
	}
	// Configs readable by the services, not by everyone (they hold tokens).
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
	// The services enabled; the kiosk screen only where wanted.
	for _, u := range []string{"headway-hub", "headway-vehicle", "headway-station"} {
		if got := strings.TrimSpace(in("systemctl", "is-enabled", u+".service")); got != "enabled" {
			t.Errorf("%s: %s", u, got)
		}
	}
	mount(t, root)
	// systemd's own check of the units: syntax, the hardening directives
	// known, ExecStart present and executable.
	out, err := exec.Command("chroot", root, "systemd-analyze", "verify", "--man=no",
		"headway-hub.service", "headway-vehicle.service", "headway-station.service", "headway-kiosk.service").CombinedOutput()
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		// The kiosk's cage and chromium are recommended, not installed here.
		if line == "" || strings.Contains(line, "headway-kiosk.service: Command /usr/bin/cage is not executable") {
			continue
		}
		t.Errorf("systemd-analyze verify: %s", line)
	}
	if err != nil && !strings.Contains(string(out), "/usr/bin/cage") {
		t.Errorf("systemd-analyze verify: %v", err)
	}
	for _, u := range []string{"headway-hub", "headway-vehicle", "headway-station"} {
		unit := readIn(t, root, "/usr/lib/systemd/system/"+u+".service")
		for _, want := range []string{"Type=notify", "WatchdogSec=", "Restart=always", "User=headway", "NoNewPrivileges=yes", "ProtectSystem=strict", "CapabilityBoundingSet=\n"} {
			if !strings.Contains(unit, want) {
				t.Errorf("%s: no %q", u, want)
			}
		}
	}
	if unit := readIn(t, root, "/usr/lib/systemd/system/headway-vehicle.service"); !strings.Contains(unit, "SupplementaryGroups=dialout") {
		t.Error("headway-vehicle: not in the dialout group")
	}

	// The packaged hub and sign, as the services run them (the user
	// headway, the packaged configs with free ports): the sign's page
	// shows the hub's arrivals (the demo feed's timetable: no buses run).
	hubHTTP, mqtt, signHTTP := freeAddr(t), freeAddr(t), freeAddr(t)
	writeIn(t, root, "/tmp/hub.yaml", strings.NewReplacer("listen: 127.0.0.1:8080", "listen: "+hubHTTP, "listen: 127.0.0.1:1883", "listen: "+mqtt).Replace(readIn(t, root, "/etc/headway/hub.yaml")))
	writeIn(t, root, "/tmp/station.yaml", strings.NewReplacer("listen: 127.0.0.1:8090", "listen: "+signHTTP, "ws://127.0.0.1:8080/ws", "ws://"+hubHTTP+"/ws").Replace(readIn(t, root, "/etc/headway/station.yaml")))
	start(t, root, "/var/lib/headway", "/usr/bin/headway-hub", "serve", "-config", "/tmp/hub.yaml")
	start(t, root, "/var/lib/headway", "/usr/bin/headway-agent", "station", "-config", "/tmp/station.yaml")
	deadline := time.Now().Add(60 * time.Second)
	for {
		board, err := get("http://" + signHTTP + "/board.json")
		if err == nil && strings.Contains(board, `"online":true`) && strings.Contains(board, `"arrivals":[{`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the packaged sign never showed the packaged hub's board (err %v): %.600s", err, board)
		}
		time.Sleep(500 * time.Millisecond)
	}
	page, err := get("http://" + signHTTP + "/")
	if err != nil || !strings.Contains(page, "<html") {
		t.Errorf("the sign's page: %v %.200s", err, page)
	}
	if _, err := os.Stat(filepath.Join(root, "var/lib/headway/sign.db")); err != nil {
		t.Errorf("the sign's cache: %v", err)
	}

	// Removed, then purged: the units go, and the state last.
	in("dpkg", "-r", "headway-station", "headway-vehicle", "headway-firmware-sim")
	if _, err := os.Stat(filepath.Join(root, "usr/lib/systemd/system/headway-station.service")); err == nil {
		t.Error("headway-station.service left after dpkg -r")
	}
	if _, err := os.Stat(filepath.Join(root, "etc/headway/station.yaml")); err != nil {
		t.Errorf("dpkg -r took the config (only purge should): %v", err)
	}
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

func mount(t *testing.T, root string) {
	run(t, "mount", "-t", "proc", "proc", filepath.Join(root, "proc"))
	t.Cleanup(func() { exec.Command("umount", "-l", filepath.Join(root, "proc")).Run() })
}

// start runs a packaged program in the chroot as the user headway.
func start(t *testing.T, root, dir string, args ...string) {
	logf, err := os.Create(filepath.Join(t.TempDir(), filepath.Base(args[0])+".log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("chroot", append([]string{"--userspec=headway:headway", root, "sh", "-c", "cd " + dir + " && exec \"$@\"", "sh"}, args...)...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		cmd.Wait()
		logf.Close()
		if t.Failed() {
			b, _ := os.ReadFile(logf.Name())
			t.Logf("--- %s ---\n%s", args[0], b)
		}
	})
}

func get(url string) (string, error) {
	c := &http.Client{Timeout: 3 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		return string(b), fmt.Errorf("%s: %s", url, resp.Status)
	}
	return string(b), err
}

// freeAddr is a free loopback port below the kernel's ephemeral range
// (32768 and up), so no other process is handed it before the packaged
// program binds it (e2e's freePort says more).
func freeAddr(t *testing.T) string {
	for range 1000 {
		addr := fmt.Sprintf("127.0.0.1:%d", 20000+rand.IntN(12000))
		if used[addr] {
			continue
		}
		if ln, err := net.Listen("tcp", addr); err == nil {
			ln.Close()
			used[addr] = true
			return addr
		}
	}
	t.Fatal("no free port")
	return ""
}

var used = map[string]bool{}

func readIn(t *testing.T, root, path string) string {
	b, err := os.ReadFile(filepath.Join(root, path))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func writeIn(t *testing.T, root, path, body string) {
	if err := os.WriteFile(filepath.Join(root, path), []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}
