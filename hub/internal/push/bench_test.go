package push_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/headway-transit/headway/hub/internal/push"
	"github.com/headway-transit/headway/internal/wire"
)

// childEnv makes the test binary a push server for the benchmarks: the
// signs and the hub in separate processes, as in the field, and neither
// needs more than one file descriptor per connection.
const childEnv = "HEADWAY_PUSH_BENCH_SERVER"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "1" {
		benchServer()
		return
	}
	os.Exit(m.Run())
}

// raiseNoFile lifts the open-files limit: to 65,536 where the process may
// (root), else the soft limit to the hard one.
func raiseNoFile() uint64 {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		return 0
	}
	if rl.Max < 65536 {
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &syscall.Rlimit{Cur: 65536, Max: 65536}); err == nil {
			return 65536
		}
	}
	rl.Cur = rl.Max
	_ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &rl)
	return rl.Cur
}

// benchServer serves /ws, plus /publish (one board to stop A, to every
// sign) and /mem (heap and RSS after a GC), and prints its address.
func benchServer() {
	raiseNoFile()
	s := push.New(push.Options{Source: &source{}})
	fanned := make(chan time.Duration, 1)
	push.SetFanned(s, func(_ string, _ int, took time.Duration) {
		select {
		case fanned <- took:
		default:
		}
	})
	mux := http.NewServeMux()
	mux.Handle("/ws", s)
	var cpuOnce sync.Once
	profDir := os.Getenv("HEADWAY_PUSH_BENCH_PROFILE")
	mux.HandleFunc("/publish", func(w http.ResponseWriter, r *http.Request) {
		if profDir != "" {
			cpuOnce.Do(func() {
				if f, err := os.Create(profDir + "/cpu.pprof"); err == nil {
					_ = pprof.StartCPUProfile(f)
				}
			})
		}
		b, _ := json.Marshal(wire.Board{Type: wire.TypeBoard, Stop: "A", StopName: "seq-" + r.URL.Query().Get("seq"), GeneratedAt: time.Now().UTC(),
			Arrivals: benchArrivals()})
		select {
		case <-fanned: // an earlier publish's
		default:
		}
		s.Publish("A", b)
		if r.URL.Query().Get("wait") == "" {
			return
		}
		// The hub's side alone: until every sign's write has returned.
		select {
		case took := <-fanned:
			fmt.Fprintln(w, took.Microseconds())
		case <-time.After(30 * time.Second):
			http.Error(w, "fan-out not done in 30 s", http.StatusGatewayTimeout)
		}
	})
	mux.HandleFunc("/mem", func(w http.ResponseWriter, r *http.Request) {
		// A few collections, as a running hub has between board changes:
		// each shrinks the stacks that use under a quarter of theirs.
		for range 3 {
			runtime.GC()
		}
		// Free pages back to the OS now, as the scavenger does over time,
		// so RSS counts what is live.
		debug.FreeOSMemory()
		if dir := os.Getenv("HEADWAY_PUSH_BENCH_PROFILE"); dir != "" {
			// Where the server's memory goes: go tool pprof -sample_index=inuse_space
			if f, err := os.Create(fmt.Sprintf("%s/heap-%d.pprof", dir, runtime.NumGoroutine())); err == nil {
				_ = pprof.Lookup("heap").WriteTo(f, 0)
				f.Close()
			}
		}
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		fmt.Fprintf(w, "%d %d %d %d\n", ms.HeapInuse+ms.StackInuse, rssKiB(), runtime.NumGoroutine(), ms.StackInuse)
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println(ln.Addr().String())
	srv := &http.Server{Handler: mux}
	go func() { // the parent gone: exit
		_, _ = io.Copy(io.Discard, os.Stdin)
		pprof.StopCPUProfile()
		os.Exit(0)
	}()
	_ = srv.Serve(ln)
}

// benchArrivals is a busy stop's board: 8 arrivals, about 2.5 kB of JSON.
func benchArrivals() []wire.Arrival {
	now := time.Now().UTC()
	out := make([]wire.Arrival, 8)
	for i := range out {
		p := now.Add(time.Duration(i+1) * 4 * time.Minute)
		out[i] = wire.Arrival{Trip: fmt.Sprintf("trip-%d", i), Route: "R1", RouteShortName: "1", Headsign: "University via Central Station",
			Vehicle: fmt.Sprintf("bus-%d", i), StopSequence: 7, Scheduled: p, Predicted: &p, Source: wire.SourceRealtime}
	}
	return out
}

func rssKiB() int64 {
	b, _ := os.ReadFile("/proc/self/status")
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmRSS:") {
			n, _ := strconv.ParseInt(strings.Fields(line)[1], 10, 64)
			return n
		}
	}
	return 0
}

type memSample struct{ heap, rssKiB, goroutines, stack int64 }

func getMem(b *testing.B, base string) memSample {
	resp, err := http.Get(base + "/mem")
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	var m memSample
	if _, err := fmt.Fscan(resp.Body, &m.heap, &m.rssKiB, &m.goroutines, &m.stack); err != nil {
		b.Fatal(err)
	}
	return m
}

// signDialer is the benchmark's sign: small buffers, so that 20,000 of them
// fit beside the hub on one machine.
var signDialer = websocket.Dialer{ReadBufferSize: 1024, WriteBufferSize: 256, HandshakeTimeout: 30 * time.Second}

// BenchmarkIdleSigns opens N idle signs (subscribed to one stop, reading)
// against a push server in a child process, reports the server's memory
// per connection, and times one board change reaching all N: an op is one
// publish until every sign has read it.
func BenchmarkIdleSigns(b *testing.B) {
	for _, n := range []int{1000, 10000, 20000} {
		if limit := int(raiseNoFile()); n > limit-200 && limit > 1200 {
			// Each process needs a descriptor per sign: as many as the
			// hard limit allows (20,000 here, without root's privilege
			// to raise it).
			n = limit - 200
		}
		b.Run(strconv.Itoa(n), func(b *testing.B) { benchIdleSigns(b, n) })
	}
}

// startServer runs the push server in a child process until the benchmark
// ends, and returns its base URL.
func startServer(b *testing.B) string {
	exe, err := os.Executable()
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, exe)
	cmd.Env = append(os.Environ(), childEnv+"=1")
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		cancel()
		b.Fatal(err)
	}
	b.Cleanup(func() {
		// Closing stdin lets the child end on its own (writing its
		// profile); killed only if it has not within 10 s.
		stdin.Close()
		t := time.AfterFunc(10*time.Second, cancel)
		_ = cmd.Wait()
		t.Stop()
		cancel()
	})
	addr, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		b.Fatal(err)
	}
	return "http://" + strings.TrimSpace(addr)
}

// dialSigns opens n signs subscribed to stop A, each having read what a
// subscribe sends; they are closed when the benchmark ends.
func dialSigns(b *testing.B, base string, n int) []*websocket.Conn {
	url := "ws" + strings.TrimPrefix(base, "http") + "/ws"
	conns := make([]*websocket.Conn, n)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 64)
	var dialErr atomic.Pointer[error]
	for i := range n {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			c, _, err := signDialer.Dial(url, nil)
			if err == nil {
				err = c.WriteJSON(wire.Subscribe{Type: wire.TypeSubscribe, Display: fmt.Sprintf("sign-%d", i), Stops: []string{"A"}})
			}
			if err == nil {
				for range 2 { // the board and the timetable sent on subscribe
					if _, _, err = c.ReadMessage(); err != nil {
						break
					}
				}
			}
			if err != nil {
				dialErr.Store(&err)
				return
			}
			conns[i] = c
		})
	}
	wg.Wait()
	b.Cleanup(func() {
		for _, c := range conns {
			if c != nil {
				c.Close()
			}
		}
	})
	if e := dialErr.Load(); e != nil {
		b.Fatalf("opening %d signs: %v", n, *e)
	}
	return conns
}

// readBoard reads one message as a sign does, keeping its first bytes
// (the marker is there) and skipping the rest, so the signs' side of this
// machine does as little as a sign's.
func readBoard(c *websocket.Conn, head []byte) ([]byte, error) {
	_, r, err := c.NextReader()
	if err != nil {
		return nil, err
	}
	n, _ := io.ReadFull(r, head)
	if _, err := io.Copy(io.Discard, r); err != nil {
		return nil, err
	}
	return head[:n], nil
}

func benchIdleSigns(b *testing.B, n int) {
	if limit := raiseNoFile(); limit < uint64(n)+100 {
		b.Skipf("open files limit %d: too low for %d signs", limit, n)
	}
	base := startServer(b)
	before := getMem(b, base)
	conns := dialSigns(b, base, n)

	// The current publish's marker; every sign counts it once.
	var marker atomic.Pointer[[]byte]
	var got atomic.Int64
	all := make(chan struct{}, 1)
	for _, c := range conns {
		go func() {
			head := make([]byte, 256)
			for {
				msg, err := readBoard(c, head)
				if err != nil {
					return
				}
				if m := marker.Load(); m != nil && bytes.Contains(msg, *m) {
					if got.Add(1) == int64(n) {
						all <- struct{}{}
					}
				}
			}
		}()
	}
	time.Sleep(500 * time.Millisecond)
	after := getMem(b, base)
	heapPer := float64(after.heap-before.heap) / float64(n)
	rssPer := float64(after.rssKiB-before.rssKiB) * 1024 / float64(n)

	var took []time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		m := []byte(fmt.Sprintf(`"seq-%d-%d"`, n, i))
		marker.Store(&m)
		got.Store(0)
		t0 := time.Now()
		resp, err := http.Get(fmt.Sprintf("%s/publish?seq=%d-%d", base, n, i))
		if err != nil {
			b.Fatal(err)
		}
		resp.Body.Close()
		select {
		case <-all:
		case <-time.After(30 * time.Second):
			b.Fatalf("publish %d: %d of %d signs got the board in 30 s", i, got.Load(), n)
		}
		took = append(took, time.Since(t0))
	}
	b.StopTimer()
	med, p99 := medianP99(took)
	b.ReportMetric(float64(med.Microseconds())/1000, "ms/median-fanout")
	b.ReportMetric(float64(p99.Microseconds())/1000, "ms/p99-fanout")
	b.ReportMetric(heapPer, "heap-B/conn")
	b.ReportMetric(rssPer, "rss-B/conn")
	b.Logf("%d idle signs: stacks %.1f KiB/conn; server heap+stacks %.1f KiB/conn, RSS %.1f KiB/conn (%d goroutines); one board to all: median %v, p99 %v, max %v over %d publishes",
		n, float64(after.stack-before.stack)/float64(n)/1024, heapPer/1024, rssPer/1024, after.goroutines, med.Round(10*time.Microsecond), p99.Round(10*time.Microsecond), took[len(took)-1].Round(10*time.Microsecond), len(took))
}

// medianP99 sorts took and returns its median and 99th percentile (of 20
// samples, the largest).
func medianP99(took []time.Duration) (med, p99 time.Duration) {
	slices.Sort(took)
	return took[len(took)/2], took[(len(took)*99+99)/100-1]
}

// BenchmarkSignFanoutHubSide times the hub's side of one board to N signs:
// from the publish until every sign's write has returned (as
// headway_ws_fanout_seconds does), while the signs, in another process,
// read nothing; they read the board only after it is timed. On one machine
// this is the hub's share of the cores when the signs are elsewhere, as
// in the field; loopback still charges each sign's TCP receive to the
// hub's write, so it is an upper bound on the hub's cost.
func BenchmarkSignFanoutHubSide(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			if limit := raiseNoFile(); limit < uint64(n)+100 {
				b.Skipf("open files limit %d: too low for %d signs", limit, n)
			}
			base := startServer(b)
			conns := dialSigns(b, base, n)
			head := make([]byte, 256)
			var took []time.Duration
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				resp, err := http.Get(fmt.Sprintf("%s/publish?wait=1&seq=%d-%d", base, n, i))
				if err != nil {
					b.Fatal(err)
				}
				var us int64
				_, err = fmt.Fscan(resp.Body, &us)
				resp.Body.Close()
				if err != nil || resp.StatusCode != http.StatusOK {
					b.Fatalf("publish %d: %s: %v", i, resp.Status, err)
				}
				took = append(took, time.Duration(us)*time.Microsecond)
				b.StopTimer()
				// Now the signs read it, untimed, so the next one starts
				// with empty socket buffers.
				var wg sync.WaitGroup
				for j := range conns {
					if j%250 == 0 {
						wg.Go(func() {
							for _, c := range conns[j:min(j+250, len(conns))] {
								_ = c.SetReadDeadline(time.Now().Add(30 * time.Second))
								if _, err := readBoard(c, head[:0]); err != nil {
									b.Errorf("sign read: %v", err)
									return
								}
							}
						})
					}
				}
				wg.Wait()
				b.StartTimer()
			}
			b.StopTimer()
			med, p99 := medianP99(took)
			b.ReportMetric(float64(med.Microseconds())/1000, "ms/median-hub-fanout")
			b.ReportMetric(float64(p99.Microseconds())/1000, "ms/p99-hub-fanout")
			b.Logf("%d signs not reading: the hub wrote one board to all in median %v, p99 %v, max %v over %d publishes",
				n, med.Round(10*time.Microsecond), p99.Round(10*time.Microsecond), took[len(took)-1].Round(10*time.Microsecond), len(took))
		})
	}
}
