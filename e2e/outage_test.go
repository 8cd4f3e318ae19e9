package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"
	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/headway-transit/headway/internal/geo"
	"github.com/headway-transit/headway/internal/gtfs"
	"github.com/headway-transit/headway/internal/wire"
)

// positionLog records, in arrival order, every position a broker delivers
// for a vehicle: the evidence for "in order" and "every seq".
type positionLog struct {
	mu   sync.Mutex
	msgs []wire.Position
}

func watchPositions(t testing.TB, url, vehicle string) *positionLog {
	t.Helper()
	l := &positionLog{}
	o := mqtt.NewClientOptions().AddBroker(url).SetClientID("e2e-watch-" + vehicle).
		SetCleanSession(false).SetAutoReconnect(true).SetMaxReconnectInterval(time.Second).SetOrderMatters(true)
	o.SetOnConnectHandler(func(c mqtt.Client) {
		c.Subscribe(wire.Topics{}.Position(vehicle), 1, func(_ mqtt.Client, m mqtt.Message) {
			p, err := wire.DecodePosition(m.Payload())
			if err != nil {
				t.Errorf("bad position from the agent: %v", err)
				return
			}
			l.mu.Lock()
			l.msgs = append(l.msgs, p)
			l.mu.Unlock()
		})
	})
	c := mqtt.NewClient(o)
	if tok := c.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("watcher: %v", tok.Error())
	}
	t.Cleanup(func() { c.Disconnect(100) })
	return l
}

// check waits until the watcher has seen seq want, then verifies that
// seqs 1..max all arrived, that live fixes arrived in
// increasing seq order and backfill oldest first, and returns max.
func (l *positionLog) check(t testing.TB, want uint64) uint64 {
	t.Helper()
	// The watcher is a client like the hub, and may be behind it.
	eventually(t, 30*time.Second, fmt.Sprintf("the watcher to see seq %d", want), func() bool {
		l.mu.Lock()
		defer l.mu.Unlock()
		for _, p := range l.msgs {
			if p.Seq >= want {
				return true
			}
		}
		return false
	})
	l.mu.Lock()
	defer l.mu.Unlock()
	seen := map[uint64]bool{}
	var maxSeq, lastLive, lastBackfill uint64
	backfill := 0
	for _, p := range l.msgs {
		seen[p.Seq] = true
		maxSeq = max(maxSeq, p.Seq)
		if p.Backfill {
			backfill++
			// Each outage's backlog goes oldest first: a new run may start
			// lower only after live fixes went past it.
			if p.Seq < lastBackfill && p.Seq > lastLive {
				t.Errorf("backfill seq %d after %d: not oldest first", p.Seq, lastBackfill)
			}
			lastBackfill = p.Seq
		} else {
			if p.Seq < lastLive && !seen[lastLive] {
				t.Errorf("live seq %d after %d", p.Seq, lastLive)
			}
			lastLive = max(lastLive, p.Seq)
		}
	}
	var missing []uint64
	for s := uint64(1); s <= maxSeq; s++ {
		if !seen[s] {
			missing = append(missing, s)
		}
	}
	if len(missing) > 0 {
		t.Errorf("seqs never delivered: %v", missing)
	}
	t.Logf("broker delivered %d messages: seqs 1..%d, %d as backfill", len(l.msgs), maxSeq, backfill)
	return maxSeq
}

// onTrip returns a point on a route 1 trip running now and its bearing.
func onTrip(t testing.TB) (geo.Point, float64, string) {
	t.Helper()
	feed, err := gtfs.Load(filepath.Join(bins.root, "configs/demo-feed"))
	if err != nil {
		t.Fatal(err)
	}
	trip, _ := tripInProgress(t, feed, time.Now())
	p, b := trip.Path.At((trip.StopTimes[3].Dist + trip.StopTimes[4].Dist) / 2)
	return p, b, trip.ID
}

// agentHealth is the vehicle agent's /healthz.
type agentHealth struct {
	OK          bool   `json:"ok"`
	MQTT        bool   `json:"mqtt_connected"`
	OutboxDepth int64  `json:"outbox_depth"`
	LastSeq     uint64 `json:"last_seq"`
}

func (v *vehicleProc) health(t testing.TB) (agentHealth, error) {
	var h agentHealth
	err := getJSON(t, v.http+"/healthz", &h)
	if err != nil {
		// 503 while unhealthy still carries the body; read it raw.
		resp, herr := httpGet(v.http + "/healthz")
		if herr != nil {
			return h, herr
		}
		return h, json.Unmarshal(resp, &h)
	}
	return h, nil
}

// settle waits until the agent's outbox is empty and the hub has every seq
// it was sent, and returns the hub's view.
func settle(t testing.TB, sys *system, v *vehicleProc, id string) hubVehicle {
	t.Helper()
	var hv hubVehicle
	// The agent's outbox empties when the broker has acknowledged every
	// fix; the hub, which may still be reconnecting to the broker, has
	// them all when it has the agent's newest seq and no gap below it.
	eventually(t, 90*time.Second, "the backlog to drain and the hub to have every seq", func() bool {
		h, err := v.health(t)
		if err != nil || h.OutboxDepth != 0 || !h.MQTT || h.LastSeq == 0 {
			return false
		}
		var ok bool
		hv, ok = sys.vehicle(t, id)
		return ok && hv.Seq == h.LastSeq && hv.Missing == 0
	})
	return hv
}

// TestBrokerOutage: the broker is down for 60 s while fixes flow at 1 Hz.
// Afterwards every seq reaches the hub, in order, none twice into the live
// view, and the live position is fresh within 2 s of the agent being back.
// On Mosquitto and on nats-server (its MQTT sessions in JetStream).
func TestBrokerOutage(t *testing.T) {
	skipShort(t)
	t.Run("mosquitto", func(t *testing.T) { brokerOutage(t, startMosquitto(t)) })
	t.Run("nats", func(t *testing.T) { brokerOutage(t, startNATS(t)) })
}

func brokerOutage(t *testing.T, b *broker) {
	outage := 60 * time.Second
	if d, err := time.ParseDuration(os.Getenv("HEADWAY_OUTAGE")); err == nil {
		outage = d
	}
	sys := startHub(t, b.url)
	pos, track, trip := onTrip(t)
	master, link := openPTY(t)
	feed := startFeeder(t, master, pos, track, time.Second)
	v := sys.startVehicle(t, "bus-out", link, trip)
	log := watchPositions(t, b.url, "bus-out")
	eventually(t, 30*time.Second, "fixes at the hub", func() bool {
		hv, ok := sys.vehicle(t, "bus-out")
		return ok && hv.Seq >= 5
	})

	b.stop(t)
	// The fixes the receiver gave the agent while the broker was down: on
	// a loaded machine a 1 Hz writer does not always manage 1 Hz, and the
	// PTY refuses what the agent has not read in time (the feeder counts
	// only what was written).
	before := feed.written.Load()
	t.Logf("broker down for %v", outage)
	time.Sleep(outage)
	during := feed.written.Load() - before
	if h, err := v.health(t); err != nil || h.OutboxDepth < during-5 {
		t.Errorf("during the outage the outbox holds %d fixes (%v), want about the %d written", h.OutboxDepth, err, during)
	}
	if during < int64(outage/time.Second)/2 {
		t.Logf("only %d fixes written in the %v outage: the machine is loaded", during, outage)
	}
	back := time.Now()
	b.start(t)

	// Fresh live position: its fix no more than 2 s old.
	var fresh time.Duration
	eventually(t, 30*time.Second, "a fresh live position at the hub", func() bool {
		hv, ok := sys.vehicle(t, "bus-out")
		if ok && time.Since(hv.FixTime) <= 2*time.Second {
			fresh = time.Since(back)
			return true
		}
		return false
	})
	t.Logf("live position fresh (fix ≤ 2 s old) %v after the broker came back", fresh.Round(10*time.Millisecond))

	time.Sleep(3 * time.Second)
	feed.close()
	hv := settle(t, sys, v, "bus-out")
	delivered := log.check(t, hv.Seq)
	if hv.Seq != delivered {
		t.Errorf("hub's highest seq %d, broker delivered up to %d", hv.Seq, delivered)
	}
	if int64(hv.Backfill) < during-10 {
		t.Errorf("hub took %d fixes as backfill, want about the %d written during the outage", hv.Backfill, during)
	}
	t.Logf("hub: %d live, %d backfill, %d late, %d duplicates dropped, 0 missing", hv.Accepted, hv.Backfill, hv.Late, hv.Duplicates)
}

// TestAgentKilledMidOutage: SIGKILL in the middle of an outage, restart,
// broker back: still nothing lost.
func TestAgentKilledMidOutage(t *testing.T) {
	skipShort(t)
	b := startMosquitto(t)
	sys := startHub(t, b.url)
	pos, track, trip := onTrip(t)
	master, link := openPTY(t)
	feed := startFeeder(t, master, pos, track, time.Second)
	v := sys.startVehicle(t, "bus-kill", link, trip)
	log := watchPositions(t, b.url, "bus-kill")
	eventually(t, 30*time.Second, "fixes at the hub", func() bool {
		hv, ok := sys.vehicle(t, "bus-kill")
		return ok && hv.Seq >= 3
	})
	b.stop(t)
	time.Sleep(10 * time.Second)
	before, _ := v.health(t)
	v.kill(t)
	time.Sleep(2 * time.Second)
	v.restart(t)
	time.Sleep(10 * time.Second)
	after, _ := v.health(t)
	if after.OutboxDepth <= before.OutboxDepth {
		t.Errorf("outbox held %d fixes before the kill and %d after the restart: the backlog did not survive", before.OutboxDepth, after.OutboxDepth)
	}
	b.start(t)
	time.Sleep(5 * time.Second)
	feed.close()
	hv := settle(t, sys, v, "bus-kill")
	delivered := log.check(t, hv.Seq)
	if hv.Seq != delivered || hv.Missing != 0 {
		t.Errorf("hub: seq %d missing %d; broker delivered up to %d", hv.Seq, hv.Missing, delivered)
	}
	t.Logf("outbox %d before SIGKILL, %d after restart; hub got seqs 1..%d with none missing", before.OutboxDepth, after.OutboxDepth, hv.Seq)
}

// TestGPSUnplugged: the receiver goes away and comes back at the same
// path; the agent resumes by itself.
func TestGPSUnplugged(t *testing.T) {
	skipShort(t)
	sys := startHub(t, "")
	pos, track, trip := onTrip(t)
	master, link := openPTY(t)
	feed := startFeeder(t, master, pos, track, time.Second)
	sys.startVehicle(t, "bus-plug", link, trip)
	var seq uint64
	eventually(t, 30*time.Second, "fixes at the hub", func() bool {
		hv, ok := sys.vehicle(t, "bus-plug")
		seq = hv.Seq
		return ok && hv.Seq >= 3
	})
	// Unplug: the device node disappears.
	feed.close()
	master.Close()
	if err := os.Remove(link); err != nil {
		t.Fatal(err)
	}
	time.Sleep(3 * time.Second)
	// Replug: a new device at the same path.
	m2, s2, err := pty.Open()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m2.Close(); s2.Close() })
	makeRaw(t, s2)
	if err := os.Symlink(s2.Name(), link); err != nil {
		t.Fatal(err)
	}
	startFeeder(t, m2, pos, track, time.Second)
	replugged := time.Now()
	eventually(t, 30*time.Second, "fixes again after the replug", func() bool {
		hv, ok := sys.vehicle(t, "bus-plug")
		return ok && hv.Seq >= seq+3
	})
	t.Logf("fixes flowing again %v after the replug", time.Since(replugged).Round(100*time.Millisecond))
}

// TestHostilePayloads: junk on the vehicle topics is rejected and counted,
// and the hub keeps serving the real bus.
func TestHostilePayloads(t *testing.T) {
	skipShort(t)
	sys := startHub(t, "")
	pos, track, trip := onTrip(t)
	master, link := openPTY(t)
	startFeeder(t, master, pos, track, time.Second)
	sys.startVehicle(t, "bus-good", link, trip)
	eventually(t, 30*time.Second, "the good bus at the hub", func() bool {
		hv, ok := sys.vehicle(t, "bus-good")
		return ok && hv.Seq >= 2
	})

	c := mqtt.NewClient(mqtt.NewClientOptions().AddBroker(sys.mqttURL).SetClientID("evil"))
	if tok := c.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatal(tok.Error())
	}
	defer c.Disconnect(100)
	now := time.Now().UTC()
	good := func(edit func(*wire.Position)) []byte {
		p := wire.Position{V: 1, Vehicle: "evil", Seq: 1, Time: now, Lat: pos.Lat, Lon: pos.Lon, Mode: 3}
		edit(&p)
		b, _ := json.Marshal(p)
		return b
	}
	topic := wire.Topics{}.Position("evil")
	hostile := []struct {
		name, topic string
		payload     []byte
	}{
		{"not json", topic, []byte("hello, hub")},
		{"binary", topic, []byte{0, 1, 2, 0xff, 0xfe}},
		{"wrong types", topic, []byte(`{"v":"one","vehicle":7,"lat":"north"}`)},
		{"NaN", topic, []byte(`{"v":1,"vehicle":"evil","seq":1,"time":"2026-11-27T07:00:00Z","lat":NaN,"lon":1,"mode":3}`)},
		{"huge", topic, append(append([]byte(`{"v":1,"vehicle":"`), make([]byte, 200<<10)...), `"}`...)},
		{"far away", topic, good(func(p *wire.Position) { p.Lat, p.Lon = -33.86, 151.2 })},
		{"future", topic, good(func(p *wire.Position) { p.Time = now.Add(48 * time.Hour) })},
		{"out of range", topic, good(func(p *wire.Position) { p.Lat = 123 })},
		{"topic says another vehicle", wire.Topics{}.Position("bus-good"), good(func(p *wire.Position) {})},
		{"bad status", wire.Topics{}.Status("evil"), []byte(`{"v":1,"state":"exploded"}`)},
	}
	for _, h := range hostile {
		if tok := c.Publish(h.topic, 1, false, h.payload); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
			t.Fatalf("%s: publish: %v", h.name, tok.Error())
		}
	}
	// And a flood: more junk than the engine's queue holds.
	for i := 0; i < 5000; i++ {
		c.Publish(topic, 0, false, []byte(fmt.Sprintf("junk %d", i)))
	}
	c.Publish(topic, 1, false, []byte("last")).WaitTimeout(10 * time.Second)

	eventually(t, 30*time.Second, "the rejections counted in /metrics", func() bool {
		m := scrape(t, sys.hubHTTP+"/metrics")
		rejected := 0.0
		for k, v := range m {
			if len(k) > 40 && k[:40] == `headway_vehicle_messages_total{result="r` {
				rejected += v
			}
		}
		return rejected+m["headway_mqtt_dropped_total"] >= float64(len(hostile)-1+5000)
	})
	if !httpOK(sys.hubHTTP + "/healthz") {
		t.Error("hub unhealthy after the hostile payloads")
	}
	if _, ok := sys.vehicle(t, "evil"); ok {
		t.Error("a vehicle made only of rejected fixes is listed")
	}
	before, _ := sys.vehicle(t, "bus-good")
	eventually(t, 20*time.Second, "the good bus still tracked", func() bool {
		hv, _ := sys.vehicle(t, "bus-good")
		return hv.Seq >= before.Seq+2 && hv.Trip == trip
	})

	// A topic with a character MQTT allows but the broker's subjects do
	// not (a space) never reaches the hub: the broker closes the
	// connection, and says so in the hub's log.
	odd := mqtt.NewClient(mqtt.NewClientOptions().AddBroker(sys.mqttURL).SetClientID("odd").SetAutoReconnect(false))
	if tok := odd.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatal(tok.Error())
	}
	odd.Publish("headway/v1/vehicles/a b/position", 1, false, good(func(p *wire.Position) {})).WaitTimeout(5 * time.Second)
	eventually(t, 10*time.Second, "the broker to close the connection publishing to a topic with a space", func() bool {
		return !odd.IsConnectionOpen()
	})
	eventually(t, 10*time.Second, "the broker's warning in the hub's log", func() bool {
		return strings.Contains(sys.hub.output(), `level=WARN msg="character not supported for MQTT topics" component=broker remote=127.0.0.1 client=odd`)
	})
	if _, ok := sys.vehicle(t, "a b"); ok {
		t.Error("a vehicle named with a space is listed")
	}

	m := scrape(t, sys.hubHTTP+"/metrics")
	var lines []string
	for k, v := range m {
		if len(k) > 30 && (k[:30] == "headway_vehicle_messages_total" || k == "headway_mqtt_dropped_total") {
			lines = append(lines, fmt.Sprintf("%s %v", k, v))
		}
	}
	sort.Strings(lines)
	t.Logf("hub counters after the attack:\n%s", joinLines(lines))
}
