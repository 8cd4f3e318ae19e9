package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

var signToken = regexp.MustCompile(`(?m)^(hws_\S+)$`)

// TestSignTokens: a hub with a register of signs. `hub signs add` prints a
// sign's token once; the sign with it shows live boards; a sign with no
// token, with another sign's token, or asking for a stop it is not
// registered for is refused with a clear error in its log; a station.yaml
// holding a token that others may read is refused; `hub signs revoke` cuts
// the running sign off within seconds and it stays out.
func TestSignTokens(t *testing.T) {
	skipShort(t)
	s := &system{dir: t.TempDir()}
	httpPort, mport := freePort(t), freePort(t)
	s.hubHTTP = fmt.Sprintf("http://127.0.0.1:%d", httpPort)
	register := filepath.Join(s.dir, "signs.json")
	cfg := writeFile(t, s.dir, "hub.yaml", fmt.Sprintf(`gtfs: configs/demo-feed
http: {listen: "127.0.0.1:%d", signs: %q}
mqtt: {listen: "127.0.0.1:%d", store: %q}
`, httpPort, register, mport, filepath.Join(s.dir, "broker")))
	signsCmd := func(args ...string) string {
		cmd := exec.Command(bins.hub, append(append([]string{"signs"}, args...), "-config", cfg)...)
		cmd.Dir = bins.root
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("hub signs %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	add := func(display, stops string) string {
		m := signToken.FindStringSubmatch(signsCmd("add", "-display", display, "-stops", stops))
		if m == nil {
			t.Fatalf("hub signs add printed no token")
		}
		return m[1]
	}
	okToken := add("sign-ok", "CEN")
	otherToken := add("sign-other", "S1")
	s.hub = start(t, "hub", bins.hub, "serve", "-config", cfg)
	eventually(t, 30*time.Second, "the hub's /healthz", func() bool { return httpOK(s.hubHTTP + "/healthz") })

	station := func(name, display, token string, mode os.FileMode) (*system, *proc) {
		sg := &system{dir: t.TempDir()}
		port := freePort(t)
		sg.signHTTP = fmt.Sprintf("http://127.0.0.1:%d", port)
		tok := ""
		if token != "" {
			tok = fmt.Sprintf("token: %q\n", token)
		}
		c := writeFile(t, sg.dir, "station.yaml", fmt.Sprintf("display: %s\nstops: [CEN]\nhub: [\"ws%s/ws\"]\ncache: %q\nlisten: \"127.0.0.1:%d\"\n%s",
			display, strings.TrimPrefix(s.hubHTTP, "http"), filepath.Join(sg.dir, "sign.db"), port, tok))
		if err := os.Chmod(c, mode); err != nil {
			t.Fatal(err)
		}
		return sg, start(t, name, bins.agent, "station", "-config", c)
	}
	good, goodProc := station("sign-ok", "sign-ok", okToken, 0o600)
	_, none := station("sign-none", "sign-ok", "", 0o644)
	_, posing := station("sign-posing", "sign-ok", otherToken, 0o600)
	_, wrongStop := station("sign-other", "sign-other", otherToken, 0o600)
	_, readable := station("sign-readable", "sign-ok", okToken, 0o644)

	eventually(t, 30*time.Second, "the registered sign online", func() bool { return signOnline(t, good) })
	for _, c := range []struct {
		name string
		p    *proc
		want string
	}{
		{"no token", none, "no token"},
		{"another sign's token", posing, `display \"sign-other\"'s, not \"sign-ok\"'s`},
		{"a stop it is not registered for", wrongStop, `not registered for stop \"CEN\"`},
		{"a token in a file others may read", readable, "chmod 600"},
	} {
		eventually(t, 20*time.Second, "the sign with "+c.name+" saying why it is refused", func() bool {
			return strings.Contains(c.p.output(), c.want)
		})
	}
	var ds []struct {
		ID        string `json:"display"`
		Connected bool   `json:"connected"`
	}
	if err := getJSON(t, s.hubHTTP+"/api/displays", &ds); err != nil {
		t.Fatal(err)
	}
	if len(ds) != 1 || ds[0].ID != "sign-ok" {
		t.Errorf("/api/displays lists %+v: want sign-ok alone", ds)
	}

	// Revoked: cut off within seconds, and kept out.
	signsCmd("revoke", "-display", "sign-ok")
	eventually(t, 15*time.Second, "the revoked sign cut off", func() bool {
		return strings.Contains(goodProc.output(), "revoked")
	})
	eventually(t, 30*time.Second, "the revoked sign offline", func() bool { return !signOnline(t, good) })
	if out := signsCmd("list"); !regexp.MustCompile(`sign-ok\s+CEN\s+\S+\s+20\d\d-`).MatchString(out) {
		t.Errorf("hub signs list does not show sign-ok revoked:\n%s", out)
	}
	if st, err := os.Stat(register); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("register %v mode %v: want 0600", err, st.Mode().Perm())
	}
	if b, _ := os.ReadFile(register); strings.Contains(string(b), okToken) {
		t.Error("the register holds a token itself")
	}
}
