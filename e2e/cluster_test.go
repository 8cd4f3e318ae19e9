package e2e

import (
	"fmt"
	"github.com/headway-transit/headway/internal/tlsfiles/tlstest"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"
)

// hubCluster is n hub processes whose embedded brokers form one cluster.
type hubCluster struct {
	hubs []*system
	cfgs []string
}

// startHubCluster starts n clustered hubs on the demo feed, each with its
// own ports and state, every one given every hub's route; mqttExtra is
// more of each hub's mqtt: block (indented two spaces).
func startHubCluster(t *testing.T, n int) *hubCluster {
	t.Helper()
	return startHubClusterWith(t, n, clusterOpts{})
}

// clusterOpts vary startHubCluster's hubs.
type clusterOpts struct {
	// mqtt are lines added under each hub's mqtt: (users).
	mqtt string
	// ca, when set, issues each hub a certificate for 127.0.0.1: every
	// listener (https, mqtts) and the routes between the hubs on TLS.
	ca *tlstest.CA
}

// startHubClusterWith starts n hubs in one cluster as o says.
func startHubClusterWith(t *testing.T, n int, o clusterOpts) *hubCluster {
	t.Helper()
	c := &hubCluster{}
	routes := make([]string, n)
	routePorts := make([]int, n)
	for i := range n {
		routePorts[i] = freePort(t)
		routes[i] = fmt.Sprintf("%q", fmt.Sprintf("nats-route://127.0.0.1:%d", routePorts[i]))
	}
	for i := range n {
		s := &system{dir: t.TempDir()}
		httpPort, mport := freePort(t), freePort(t)
		s.hubHTTP = fmt.Sprintf("http://127.0.0.1:%d", httpPort)
		s.mqttURL = fmt.Sprintf("tcp://127.0.0.1:%d", mport)
		tlsLines := ""
		if o.ca != nil {
			cert, key := o.ca.Peer(t, fmt.Sprintf("hub-%c", 'a'+i), []string{"127.0.0.1"}, time.Now().Add(24*time.Hour))
			tlsLines = fmt.Sprintf("tls: {cert: %q, key: %q}\n", cert, key)
			s.hubHTTP = fmt.Sprintf("https://127.0.0.1:%d", httpPort)
			s.mqttURL = fmt.Sprintf("ssl://127.0.0.1:%d", mport)
			trustCA(o.ca.File)
		}
		cfg := writeFile(t, s.dir, "hub.yaml", fmt.Sprintf(`gtfs: configs/demo-feed
state: %q
http: {listen: "127.0.0.1:%d"}
mqtt:
  listen: "127.0.0.1:%d"
%sboards: {refresh: 2s}
cluster:
  name: e2e
  node: hub-%c
  listen: "127.0.0.1:%d"
  routes: [%s]
  secret: e2e-route-secret-0123456789
%s`, filepath.Join(s.dir, "model.json"), httpPort, mport, o.mqtt, 'a'+i, routePorts[i], strings.Join(routes, ", "), clusterCA(o.ca)+tlsLines))
		s.hub = start(t, fmt.Sprintf("hub-%c", 'a'+i), bins.hub, "serve", "-config", cfg)
		c.hubs = append(c.hubs, s)
		c.cfgs = append(c.cfgs, cfg)
	}
	for _, s := range c.hubs {
		// Healthy once its client's subscriptions are acknowledged: the
		// cluster has elected its JetStream leader. Three fresh servers on
		// a busy 2-core machine took over 60 s to (CI beside a CPU hog,
		// 2026-12-06: JetStream "temporarily unavailable" throughout).
		eventually(t, 120*time.Second, "a clustered hub's /healthz", func() bool { return httpOK(s.hubHTTP + "/healthz") })
	}
	return c
}

// clusterCA is the cluster.ca line for routes on TLS (indented under
// cluster:), or none.
func clusterCA(ca *tlstest.CA) string {
	if ca == nil {
		return ""
	}
	return fmt.Sprintf("  ca: %q\n", ca.File)
}

// urls lists the hubs' MQTT URLs or WebSocket URLs starting with hub i, as
// a bus or sign near hub i would have them.
func (c *hubCluster) urls(i int, ws bool) []string {
	var out []string
	for k := range c.hubs {
		s := c.hubs[(i+k)%len(c.hubs)]
		if ws {
			out = append(out, strings.Replace(strings.Replace(s.hubHTTP, "https:", "wss:", 1), "http:", "ws:", 1)+"/ws")
		} else {
			out = append(out, s.mqttURL)
		}
	}
	return out
}

// TestHubCluster: three hubs on one NATS cluster, 300 simulated buses and
// three signs spread over them. Each bus is tracked by exactly one hub
// (partitions), every sign shows every hub's buses. kill -9 the hub leading
// the stream that holds the vehicles' messages: its buses move to the others
// within 20 s (the 10-s target is measured in BENCHMARKS.md, not asserted)
// with no fix of any bus lost and the survivors keeping their own
// partitions; its sign shows live times again through another hub within
// 15 s; restarted, the hub rejoins and takes its share back. Then another
// hub hangs (SIGSTOP, as a machine gone without closing its connections):
// the same, by pings going unanswered.
func TestHubCluster(t *testing.T) {
	skipShort(t)
	c := startHubCluster(t, 3)
	const perFleet = 100
	fleet := 3 * perFleet
	for i := range c.hubs {
		start(t, fmt.Sprintf("fleet-%c", 'a'+i), bins.sim, "fleet", "-feed", "configs/demo-feed",
			"-vehicles", fmt.Sprint(perFleet), "-name", fmt.Sprintf("f%c-", 'a'+i), "-seed", fmt.Sprint(i+1),
			"-client-id", fmt.Sprintf("fleet-%c", 'a'+i), // MQTT client ids are the cluster's, not one hub's
			"-mqtt", strings.Join(c.urls(i, false), ","), "-clients", "2")
	}
	signs := make([]*system, len(c.hubs))
	for i := range c.hubs {
		s := &system{dir: t.TempDir()}
		port := freePort(t)
		s.signHTTP = fmt.Sprintf("http://127.0.0.1:%d", port)
		hubs := make([]string, 0, len(c.hubs))
		for _, u := range c.urls(i, true) {
			hubs = append(hubs, fmt.Sprintf("%q", u))
		}
		cfg := writeFile(t, s.dir, "station.yaml", fmt.Sprintf("display: sign-%c\nstops: [CEN]\nhub: [%s]\ncache: %s\nlisten: \"127.0.0.1:%d\"\n",
			'a'+i, strings.Join(hubs, ", "), filepath.Join(s.dir, "sign.db"), port))
		s.station = start(t, fmt.Sprintf("sign-%c", 'a'+i), bins.agent, "station", "-config", cfg)
		signs[i] = s
	}
	var cl struct {
		Clustered bool              `json:"clustered"`
		Node      string            `json:"node"`
		Leader    string            `json:"leader"`
		Tracking  string            `json:"tracking"`
		Streams   map[string]string `json:"streams"`
		Nodes     []struct {
			Name       string `json:"name"`
			Self       bool   `json:"self"`
			Online     bool   `json:"online"`
			Partitions []int  `json:"partitions"`
		} `json:"nodes"`
	}
	clusterOnline := func(s *system) int {
		if err := getJSON(t, s.hubHTTP+"/api/cluster", &cl); err != nil || !cl.Clustered {
			return 0
		}
		n := 0
		for _, nd := range cl.Nodes {
			if nd.Online {
				n++
			}
		}
		return n
	}
	eventually(t, 30*time.Second, "hub b's /api/cluster listing three hubs online", func() bool { return clusterOnline(c.hubs[1]) == 3 })
	if cl.Node != "hub-b" || cl.Leader == "" || cl.Tracking != "partitions" {
		t.Errorf("/api/cluster on hub b: node %q leader %q tracking %q", cl.Node, cl.Leader, cl.Tracking)
	}

	// An operator's alert posted to hub a reaches every hub's sign (the
	// cluster's bucket); later checked to outlive the hub that is killed.
	alertID := postAlert(t, c.hubs[0], `{"effect":"detour","header":"Central Station: use the north entrance","entities":[{"stop":"CEN"}]}`)
	for _, s := range signs {
		eventually(t, 30*time.Second, "the alert posted to hub a on the sign "+s.signHTTP, func() bool { return signHasAlert(t, s, alertID) })
	}

	// Each bus on exactly one hub, each hub with its share.
	var owners map[string][]int
	eventually(t, 90*time.Second, "the fleet shared out, each bus on one hub", func() bool {
		owners = tracked(t, c.hubs)
		if len(owners) < fleet*9/10 {
			return false
		}
		per := make([]int, len(c.hubs))
		for _, hs := range owners {
			if len(hs) != 1 {
				return false
			}
			per[hs[0]]++
		}
		return per[0] > fleet/6 && per[1] > fleet/6 && per[2] > fleet/6
	})
	for _, s := range signs {
		eventually(t, 60*time.Second, "every sign showing live times", func() bool { return liveRows(t, s) > 0 })
	}
	// Sign a, on hub a, shows buses other hubs track.
	eventually(t, 60*time.Second, "sign a showing a bus another hub tracks", func() bool {
		owners = tracked(t, c.hubs)
		for _, v := range liveVehicles(t, signs[0]) {
			if hs := owners[v]; len(hs) == 1 && hs[0] != 0 {
				return true
			}
		}
		return false
	})
	// Every hub's model learns from the other hubs' buses too.
	for _, s := range c.hubs {
		eventually(t, 60*time.Second, "a hub's model learning from other hubs' buses", func() bool {
			return scrape(t, s.hubHTTP+"/metrics")["headway_cluster_observations_taken_total"] > 0
		})
	}
	for _, s := range c.hubs {
		if strings.Contains(s.hub.output(), "same client ID") {
			t.Errorf("%s: clients took over each other's MQTT sessions (ids clash across the cluster)", s.hubHTTP)
		}
	}

	// Every fix of every bus reaches exactly one hub: over 10 s, each bus's
	// accepted fixes, summed over the hubs, are its new seqs, all at one hub.
	before := counts(t, c.hubs)
	time.Sleep(10 * time.Second)
	after := counts(t, c.hubs)
	checked := 0
	for v, a := range after {
		b, ok := before[v]
		if !ok || len(a.hubs) != 1 || len(b.hubs) != 1 || a.hubs[0] != b.hubs[0] {
			continue // a bus just seen, or one that moved
		}
		checked++
		if got, want := a.accepted-b.accepted, a.seq-b.seq; got != want || a.dups != b.dups {
			t.Errorf("%s: %d fixes accepted for %d new seqs (%d more duplicates) over 10 s", v, got, want, a.dups-b.dups)
		}
	}
	if checked < fleet*8/10 {
		t.Errorf("only %d buses counted over the window", checked)
	}

	// kill -9 the hub leading the vehicles' stream (the hard case: the
	// stream elects a new leader while the dead hub's partitions move;
	// HEADWAY_KILL_FOLLOWER=1 kills the next hub instead): its buses move
	// to the others, its sign too.
	clusterOnline(c.hubs[1])
	leader, streamLeader, streams := cl.Leader, cl.Streams["$MQTT_msgs"], maps.Clone(cl.Streams)
	if len(streamLeader) != len("hub-a") || !strings.HasPrefix(streamLeader, "hub-") {
		t.Fatalf("/api/cluster streams %v: want $MQTT_msgs (the vehicles' messages) led by hub-a, -b or -c", cl.Streams)
	}
	k := int(streamLeader[4] - 'a')
	if os.Getenv("HEADWAY_KILL_FOLLOWER") != "" {
		k = (k + 1) % len(c.hubs)
	}
	name := fmt.Sprintf("hub %c", 'a'+k)
	ofVictim := map[string]bool{}
	for v, hs := range tracked(t, c.hubs) {
		if len(hs) == 1 && hs[0] == k {
			ofVictim[v] = true
		}
	}
	// What each hub pulls, as it says itself.
	own := func(s *system) []int {
		clusterOnline(s)
		for _, nd := range cl.Nodes {
			if nd.Self {
				return nd.Partitions
			}
		}
		return nil
	}
	ownBefore := map[int][]int{}
	for i, s := range c.hubs {
		if i != k {
			ownBefore[i] = own(s)
		}
	}
	victim := c.hubs[k]
	var survivors []*system
	for i, s := range c.hubs {
		if i != k {
			survivors = append(survivors, s)
		}
	}
	_ = syscall.Kill(-victim.hub.cmd.Process.Pid, syscall.SIGKILL)
	<-victim.hub.done
	killed := time.Now()
	var back, moved time.Duration
	eventually(t, 15*time.Second, "the killed hub's sign live again through another hub", func() bool {
		if liveRows(t, signs[k]) > 0 && signOnline(t, signs[k]) {
			back = time.Since(killed)
			return true
		}
		return false
	})
	if !signHasAlert(t, signs[k], alertID) {
		t.Errorf("the killed hub's sign lost the operator's alert")
	}
	eventually(t, 20*time.Second, name+"'s buses tracked by the survivors", func() bool {
		now := tracked(t, survivors)
		n := 0
		for v := range ofVictim {
			if len(now[v]) == 1 {
				n++
			}
		}
		if n >= len(ofVictim)*9/10 {
			moved = time.Since(killed)
			return true
		}
		return false
	})
	eventually(t, 30*time.Second, "/api/cluster listing "+name+" offline", func() bool { return clusterOnline(survivors[0]) == 2 })
	// Only the dead hub's partitions moved: the survivors kept theirs.
	for i, before := range ownBefore {
		after := own(c.hubs[i])
		for _, p := range before {
			if !slices.Contains(after, p) {
				t.Errorf("hub %c pulled partitions %v before %s died, %v after: a survivor's partition moved", 'a'+i, before, name, after)
				break
			}
		}
		if len(after) <= len(before) {
			t.Errorf("hub %c pulled partitions %v before %s died, %v after: none of the dead hub's", 'a'+i, before, name, after)
		}
	}
	for i, s := range signs {
		if i != k && liveRows(t, s) == 0 {
			t.Errorf("sign %s lost its live rows when another hub died", s.signHTTP)
		}
	}
	// Nothing lost: the survivors have every seq of every bus since they
	// took it (fixes published while the stream elected its new leader
	// included; the ones the dead hub had been handed and not acknowledged
	// are redelivered, out of order: counted as gaps, then filled).
	lost, missing := seqsMissing(t, survivors, ofVictim, 30*time.Second)
	if lost > 0 {
		t.Errorf("%d buses have seqs missing at the survivors after %s died: %v", lost, name, missing)
	}
	t.Logf("%s killed (the vehicles' stream led by %s; JetStream meta leader before: %s; streams' leaders %v): its sign live again after %v, 90%% of its %d buses tracked by the survivors after %v; "+
		"%d buses with fixes lost", name, streamLeader, leader, streams, back.Round(100*time.Millisecond), len(ofVictim), moved.Round(100*time.Millisecond), lost)

	// Restarted, the hub rejoins and takes its share back.
	victim.hub = start(t, "hub-again", bins.hub, "serve", "-config", c.cfgs[k])
	eventually(t, 60*time.Second, name+" healthy again", func() bool { return httpOK(victim.hubHTTP + "/healthz") })
	eventually(t, 60*time.Second, name+" tracking its share again, each bus on one hub", func() bool {
		owners := tracked(t, c.hubs)
		n := 0
		for _, hs := range owners {
			if len(hs) != 1 {
				return false
			}
			if hs[0] == k {
				n++
			}
		}
		return n > fleet/6
	})

	// A hub that hangs (SIGSTOP: as a machine that loses power or its
	// network, it closes no connection). The others drop their routes to
	// it when their pings go unanswered and take its partitions; its buses
	// leave it when their MQTT pings go unanswered, its sign when its
	// WebSocket pings do. Nothing is lost: what it had been handed and not
	// applied comes to the new owners after AckWait.
	j := (k + 1) % len(c.hubs)
	hname := fmt.Sprintf("hub %c", 'a'+j)
	ofHung := map[string]bool{}
	for v, hs := range tracked(t, c.hubs) {
		if len(hs) == 1 && hs[0] == j {
			ofHung[v] = true
		}
	}
	var others []*system
	for i, s := range c.hubs {
		if i != j {
			others = append(others, s)
		}
	}
	hung := c.hubs[j].hub.cmd.Process.Pid
	_ = syscall.Kill(-hung, syscall.SIGSTOP)
	stopped := time.Now()
	resumed := false
	resume := func() {
		if !resumed {
			resumed = true
			_ = syscall.Kill(-hung, syscall.SIGCONT)
		}
	}
	defer resume()
	// Sign and buses polled together, each time taken when first seen.
	var signMoved, hungMoved time.Duration
	eventually(t, 40*time.Second, hname+"'s sign on another hub and its buses tracked by the others", func() bool {
		if signMoved == 0 {
			for _, s := range others {
				var ds []struct {
					ID        string `json:"display"`
					Connected bool   `json:"connected"`
				}
				if getJSON(t, s.hubHTTP+"/api/displays", &ds) != nil {
					continue
				}
				for _, d := range ds {
					if d.ID == fmt.Sprintf("sign-%c", 'a'+j) && d.Connected {
						signMoved = time.Since(stopped)
					}
				}
			}
		}
		if hungMoved == 0 {
			now := tracked(t, others)
			n := 0
			for v := range ofHung {
				if len(now[v]) == 1 {
					n++
				}
			}
			if n >= len(ofHung)*9/10 {
				hungMoved = time.Since(stopped)
			}
		}
		return signMoved > 0 && hungMoved > 0
	})
	if liveRows(t, signs[j]) == 0 {
		t.Errorf("%s's sign has no live rows after it hung", hname)
	}
	lost, missing = seqsMissing(t, others, ofHung, 30*time.Second)
	if lost > 0 {
		t.Errorf("%d buses have seqs missing at the others after %s hung: %v", lost, hname, missing)
	}
	t.Logf("%s hung (SIGSTOP): its sign on another hub after %v, 90%% of its %d buses tracked by the others after %v; %d buses with fixes lost",
		hname, signMoved.Round(100*time.Millisecond), len(ofHung), hungMoved.Round(100*time.Millisecond), lost)
	resume()
	// Woken, it notices it stalled and applies nothing it was handed
	// before (the others may have had it since).
	eventually(t, 30*time.Second, hname+" counting its stall", func() bool {
		b, err := httpGet(c.hubs[j].hubHTTP + "/metrics")
		return err == nil && strings.Contains(string(b), "\nheadway_hub_stalls_total ") && !strings.Contains(string(b), "\nheadway_hub_stalls_total 0\n")
	})
	eventually(t, 60*time.Second, hname+" back and tracking its share again, each bus on one hub", func() bool {
		owners := tracked(t, c.hubs)
		n := 0
		for _, hs := range owners {
			if len(hs) != 1 {
				return false
			}
			if hs[0] == j {
				n++
			}
		}
		return n > fleet/6
	})
}

// seqsMissing waits for every bus tracked by hubs to have every seq since
// they took it, up to wait after a hub takes a bus over counts its seqs
// (40 s after its first fix there: until then the seqs come in any order,
// the dead hub's unapplied ones redelivered after AckWait). It returns the
// buses still missing seqs and a description of them (moved: the buses
// that changed hubs).
func seqsMissing(t *testing.T, hubs []*system, moved map[string]bool, wait time.Duration) (lost int, missing []string) {
	t.Helper()
	counting := time.Now().Add(45 * time.Second)
	for deadline := counting.Add(wait); ; time.Sleep(time.Second) {
		lost, missing = 0, missing[:0]
		for _, s := range hubs {
			var vs []hubVehicle
			if err := getJSON(t, s.hubHTTP+"/api/vehicles", &vs); err != nil {
				continue
			}
			for _, v := range vs {
				if v.Missing > 0 {
					lost++
					missing = append(missing, fmt.Sprintf("%s (%d: %v at %s, seq %d; %s)", v.Vehicle, v.Missing, v.Holes, s.hubHTTP, v.Seq, map[bool]string{true: "moved", false: "stayed"}[moved[v.Vehicle]]))
				}
			}
		}
		if lost == 0 && time.Now().After(counting) || time.Now().After(deadline) {
			sort.Strings(missing)
			if lost > 0 {
				// Every hub's view of the buses missing seqs, to tell why.
				for _, s := range hubs {
					var raw []map[string]any
					if getJSON(t, s.hubHTTP+"/api/vehicles", &raw) != nil {
						continue
					}
					for _, v := range raw {
						for _, m := range missing {
							if strings.HasPrefix(m, fmt.Sprint(v["vehicle"])+" ") {
								t.Logf("at %s: %v", s.hubHTTP, v)
							}
						}
					}
				}
			}
			return lost, missing
		}
	}
}

// tracked maps each vehicle with a fix in the last 10 s to the hubs (by
// index) tracking it.
func tracked(t testing.TB, hubs []*system) map[string][]int {
	out := map[string][]int{}
	for i, s := range hubs {
		var vs []hubVehicle
		if err := getJSON(t, s.hubHTTP+"/api/vehicles", &vs); err != nil {
			continue
		}
		for _, v := range vs {
			if time.Since(v.FixTime) < 10*time.Second {
				out[v.Vehicle] = append(out[v.Vehicle], i)
			}
		}
	}
	return out
}

type vehicleCounts struct {
	hubs                []int
	seq, accepted, dups uint64
}

// counts sums each fresh vehicle's counters over the hubs tracking it.
func counts(t testing.TB, hubs []*system) map[string]vehicleCounts {
	out := map[string]vehicleCounts{}
	for i, s := range hubs {
		var vs []hubVehicle
		if err := getJSON(t, s.hubHTTP+"/api/vehicles", &vs); err != nil {
			t.Fatal(err)
		}
		for _, v := range vs {
			if time.Since(v.FixTime) > 10*time.Second {
				continue
			}
			c := out[v.Vehicle]
			c.hubs = append(c.hubs, i)
			c.seq = max(c.seq, v.Seq)
			c.accepted += v.Accepted
			c.dups += v.Duplicates
			out[v.Vehicle] = c
		}
	}
	return out
}

// liveVehicles lists the vehicles of the sign's realtime rows.
func liveVehicles(t testing.TB, s *system) []string {
	var b signBoard
	if err := getJSON(t, s.signHTTP+"/board.json", &b); err != nil {
		return nil
	}
	var out []string
	for _, st := range b.Stops {
		for _, a := range st.Arrivals {
			if a.Source == "realtime" && a.Vehicle != "" {
				out = append(out, a.Vehicle)
			}
		}
	}
	return out
}

// onTrips counts the vehicles the hub has on a trip.
func onTrips(t testing.TB, s *system) int {
	var vs []hubVehicle
	if err := getJSON(t, s.hubHTTP+"/api/vehicles", &vs); err != nil {
		return 0
	}
	n := 0
	for _, v := range vs {
		if v.Trip != "" {
			n++
		}
	}
	return n
}

// fleetSeqs is the latest seq the hub has from each vehicle named prefix*.
func fleetSeqs(t testing.TB, s *system, prefix string) map[string]uint64 {
	var vs []hubVehicle
	out := map[string]uint64{}
	if err := getJSON(t, s.hubHTTP+"/api/vehicles", &vs); err != nil {
		return out
	}
	for _, v := range vs {
		if strings.HasPrefix(v.Vehicle, prefix) {
			out[v.Vehicle] = v.Seq
		}
	}
	return out
}

// liveRows counts the realtime rows the sign shows.
func liveRows(t testing.TB, s *system) int {
	var b signBoard
	if err := getJSON(t, s.signHTTP+"/board.json", &b); err != nil {
		return 0
	}
	n := 0
	for _, st := range b.Stops {
		for _, a := range st.Arrivals {
			if a.Source == "realtime" {
				n++
			}
		}
	}
	return n
}

func signOnline(t testing.TB, s *system) bool {
	var b signBoard
	return getJSON(t, s.signHTTP+"/board.json", &b) == nil && b.Online
}

// startNATSCluster runs n nats-server processes (built from go.mod's
// version) in one cluster, each with MQTT and JetStream on: an agency's
// own NATS cluster.
func startNATSCluster(t *testing.T, n int) ([]*broker, []string) {
	t.Helper()
	path := natsServer(t)
	routePorts := make([]int, n)
	var routes []string
	for i := range n {
		routePorts[i] = freePort(t)
		routes = append(routes, fmt.Sprintf("nats-route://127.0.0.1:%d", routePorts[i]))
	}
	var out []*broker
	var clients []string
	for i := range n {
		port, nport := freePort(t), freePort(t)
		clients = append(clients, fmt.Sprintf("nats://127.0.0.1:%d", nport))
		dir := t.TempDir()
		conf := writeFile(t, dir, "nats.conf", fmt.Sprintf(`server_name: nats-%d
listen: 127.0.0.1:%d
cluster { name: ext, listen: 127.0.0.1:%d, routes: [%s] }
jetstream { store_dir: %q }
mqtt { listen: 127.0.0.1:%d, js_api_timeout: 2s }
`, i+1, nport, routePorts[i], strings.Join(routes, ", "), dir, port))
		b := &broker{name: fmt.Sprintf("nats-%d", i+1), path: path, conf: conf, port: port,
			url: fmt.Sprintf("tcp://127.0.0.1:%d", port), args: []string{"-c", conf}}
		b.start(t)
		out = append(out, b)
	}
	return out, clients
}

// TestExternalNATSCluster: two hubs on an agency's three-node NATS cluster
// (mqtt.url and mqtt.urls for MQTT, cluster.nats for JetStream), 100
// simulated buses, a sign on each hub. Each bus is tracked by one hub; kill
// -9 the node the first hub and the buses use: they move to the others, no
// fix is lost, and both signs keep live times.
func TestExternalNATSCluster(t *testing.T) {
	skipShort(t)
	nodes, clients := startNATSCluster(t, 3)
	urls := func(first int) []string {
		var out []string
		for k := range nodes {
			out = append(out, nodes[(first+k)%len(nodes)].url)
		}
		return out
	}
	quoted := func(xs []string) string {
		q := make([]string, len(xs))
		for k, x := range xs {
			q[k] = fmt.Sprintf("%q", x)
		}
		return strings.Join(q, ", ")
	}
	var hubs []*system
	for i := range 2 {
		s := &system{dir: t.TempDir()}
		httpPort := freePort(t)
		s.hubHTTP = fmt.Sprintf("http://127.0.0.1:%d", httpPort)
		u := urls(i)
		var nu []string
		for k := range clients {
			nu = append(nu, clients[(i+k)%len(clients)])
		}
		cfg := writeFile(t, s.dir, "hub.yaml", fmt.Sprintf("gtfs: configs/demo-feed\nhttp: {listen: \"127.0.0.1:%d\"}\nmqtt: {url: %q, urls: [%s]}\nboards: {refresh: 2s}\ncluster: {name: ext, node: hub-%c, nats: [%s]}\n",
			httpPort, u[0], quoted(u[1:]), 'a'+i, quoted(nu)))
		s.hub = start(t, fmt.Sprintf("hub-%c", 'a'+i), bins.hub, "serve", "-config", cfg)
		hubs = append(hubs, s)
	}
	for _, s := range hubs {
		eventually(t, 60*time.Second, "a hub on the NATS cluster healthy", func() bool { return httpOK(s.hubHTTP + "/healthz") })
	}
	const fleet = 100
	start(t, "fleet", bins.sim, "fleet", "-feed", "configs/demo-feed", "-vehicles", fmt.Sprint(fleet), "-seed", "4",
		"-mqtt", strings.Join(urls(0), ","), "-clients", "2")
	signs := make([]*system, len(hubs))
	for i, h := range hubs {
		s := &system{dir: t.TempDir(), hubHTTP: h.hubHTTP}
		s.startStation(t, "CEN")
		signs[i] = s
	}
	eventually(t, 90*time.Second, "the fleet shared out between the hubs, each bus on one", func() bool {
		owners := tracked(t, hubs)
		per := make([]int, len(hubs))
		for _, hs := range owners {
			if len(hs) != 1 {
				return false
			}
			per[hs[0]]++
		}
		return len(owners) >= fleet*9/10 && per[0] > fleet/5 && per[1] > fleet/5
	})
	for _, s := range signs {
		eventually(t, 60*time.Second, "every sign showing live times", func() bool { return liveRows(t, s) > 0 })
	}

	// kill -9 nats-1: hub a's broker and the fleet's.
	_ = syscall.Kill(-nodes[0].proc.cmd.Process.Pid, syscall.SIGKILL)
	<-nodes[0].proc.done
	killed := time.Now()
	before := counts(t, hubs)
	var moved time.Duration
	eventually(t, 30*time.Second, "the fleet's fixes flowing again after the node died, each bus at one hub", func() bool {
		now := counts(t, hubs)
		n := 0
		for v, b := range before {
			if c, ok := now[v]; ok && len(c.hubs) == 1 && c.seq > b.seq {
				n++
			}
		}
		if n >= fleet*9/10 {
			moved = time.Since(killed)
			return true
		}
		return false
	})
	if lost, missing := seqsMissing(t, hubs, nil, 30*time.Second); lost > 0 {
		t.Errorf("%d buses have seqs missing after nats-1 died: %v", lost, missing)
	}
	t.Logf("nats-1 killed: 90%% of the buses' fixes flowing again, each bus at one hub, after %v; no seq missing", moved.Round(100*time.Millisecond))
	for i, s := range signs {
		if liveRows(t, s) == 0 || !signOnline(t, s) {
			t.Errorf("sign on hub %c without live times after a NATS node died", 'a'+i)
		}
	}
}
