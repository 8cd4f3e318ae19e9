package packaging

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// kiosk runs the station package's headway-kiosk.service command line as
// systemd would on a sign's screen (cage, the Wayland kiosk compositor,
// running Chromium full screen on the sign page), with wlroots' headless
// backend standing in for the screen, against the packaged station agent.
// It checks that the compositor starts with what the package recommends,
// and that Chromium loads the page and runs its script (the page's
// /board.json polls reach the agent).
func kiosk(t *testing.T, dist string) {
	for _, prog := range []string{"cage", "chromium", "Xwayland"} {
		if _, err := exec.LookPath(prog); err != nil {
			t.Skipf("no %s: apt-get install -y cage chromium xwayland (.ci/run does)", prog)
		}
	}
	station, agent := debOf(t, dist, "station", "amd64"), debOf(t, dist, "agent", "amd64")
	// cage exits at once when it cannot start Xwayland, so a sign
	// installed with the recommended packages alone shows nothing: every
	// program the kiosk needs must be recommended.
	recommends := strings.TrimSpace(run(t, "dpkg-deb", "--field", station, "Recommends"))
	have := map[string]bool{}
	for _, r := range strings.Split(recommends, ",") {
		if f := strings.Fields(r); len(f) > 0 {
			have[f[0]] = true // "pkg (>= version)" is pkg
		}
	}
	for _, pkg := range []string{"cage", "chromium", "xwayland"} {
		if !have[pkg] {
			t.Errorf("headway-station recommends %q: %s missing (the kiosk needs it)", recommends, pkg)
		}
	}
	root := t.TempDir()
	run(t, "dpkg-deb", "-x", station, root)
	run(t, "dpkg-deb", "-x", agent, root)
	unit := readUnit(t, filepath.Join(root, "usr/lib/systemd/system/headway-kiosk.service"))

	// The packaged station agent, with no hub to reach: its page is
	// served all the same (what it shows when offline is the page's own
	// test's business).
	dir := t.TempDir()
	signPort := freePort(t)
	cfg := writeTemp(t, dir, "station.yaml", fmt.Sprintf("display: kiosk-sign\nstops: [CEN]\nhub: [\"ws://127.0.0.1:%d/ws\"]\ncache: %s\nlisten: 127.0.0.1:%d\n",
		freePort(t), filepath.Join(dir, "sign.db"), signPort))
	sign := startProc(t, "station", filepath.Join(root, "usr/bin/headway-agent"), "station", "-config", cfg)
	signURL := fmt.Sprintf("http://127.0.0.1:%d/", signPort)
	waitFor(t, 30*time.Second, sign, "the station agent's page", func() bool { _, ok := get(signURL); return ok })

	// Between the kiosk and the agent, a proxy that notes what the
	// browser asks for.
	target, _ := url.Parse(signURL)
	var mu sync.Mutex
	var asked []string
	proxy := httputil.NewSingleHostReverseProxy(target)
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		asked = append(asked, r.Method+" "+r.URL.Path)
		mu.Unlock()
		proxy.ServeHTTP(w, r)
	}))
	defer front.Close()
	sawPoll := func() bool {
		mu.Lock()
		defer mu.Unlock()
		page := false
		for _, a := range asked {
			switch a {
			case "GET /":
				page = true
			case "GET /board.json":
				if page {
					return true
				}
			}
		}
		return false
	}

	env := unit.env
	env["HEADWAY_SIGN_URL"] = front.URL + "/"
	argv := strings.Fields(os.Expand(unit.execStart, func(k string) string { return env[k] }))
	if len(argv) == 0 || argv[0] != "/usr/bin/cage" {
		t.Fatalf("ExecStart %q: want /usr/bin/cage running the browser", unit.execStart)
	}
	// The unit's user has a session of its own; here a scratch runtime
	// directory and home, and, as root, an unprivileged user (Chromium
	// refuses to run as root with its sandbox, as it should).
	// (Not t.TempDir: its parent is root's alone, and the Wayland
	// socket's path must be short.)
	home, err := os.MkdirTemp("", "kiosk")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(home) })
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), "HOME="+home, "XDG_RUNTIME_DIR="+home,
		"WLR_BACKENDS=headless", "WLR_RENDERER=pixman", "WLR_LIBINPUT_NO_DEVICES=1")
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if os.Geteuid() == 0 {
		u, err := user.Lookup("nobody")
		if err != nil {
			t.Skipf("running the kiosk as root needs an unprivileged user: %v", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(home, uid, gid); err != nil {
			t.Fatal(err)
		}
		cmd.SysProcAttr.Credential = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
	}
	start := time.Now()
	out := startCmd(t, "kiosk", cmd)
	waitFor(t, 90*time.Second, out, "the kiosk's browser loading the sign page and polling /board.json", sawPoll)
	t.Logf("the kiosk loaded the page and polled the board %v after starting", time.Since(start).Round(time.Millisecond))
}

// unitFile is what the kiosk test needs of a systemd unit.
type unitFile struct {
	execStart string
	env       map[string]string
}

// readUnit reads a unit's ExecStart and its Environment= assignments (the
// simple KEY=VALUE form the packaged units use).
func readUnit(t *testing.T, path string) unitFile {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	u := unitFile{env: map[string]string{}}
	for _, line := range strings.Split(string(b), "\n") {
		switch k, v, _ := strings.Cut(strings.TrimSpace(line), "="); k {
		case "ExecStart":
			u.execStart = v
		case "Environment":
			if ek, ev, ok := strings.Cut(v, "="); ok {
				u.env[ek] = ev
			}
		}
	}
	if u.execStart == "" {
		t.Fatalf("%s: no ExecStart", path)
	}
	return u
}

// unitDocs checks that every file a packaged unit names as its
// documentation (Documentation=file:...) is in the amd64 packages, so
// systemctl help finds it.
func unitDocs(t *testing.T, dist string) {
	root := t.TempDir()
	for _, role := range roles {
		run(t, "dpkg-deb", "-x", debOf(t, dist, role, "amd64"), root)
	}
	units, _ := filepath.Glob(filepath.Join(root, "usr/lib/systemd/system/*.service"))
	if len(units) == 0 {
		t.Fatal("no units in the packages")
	}
	for _, u := range units {
		b, err := os.ReadFile(u)
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(string(b), "\n") {
			doc, ok := strings.CutPrefix(strings.TrimSpace(line), "Documentation=file:")
			if !ok {
				continue
			}
			if _, err := os.Stat(filepath.Join(root, doc)); err != nil {
				t.Errorf("%s: Documentation=file:%s is in no package", filepath.Base(u), doc)
			}
		}
	}
}
