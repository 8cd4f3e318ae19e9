package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/headway-transit/headway/firmware-sim/internal/fleet"
	"github.com/headway-transit/headway/firmware-sim/internal/mqttout"
)

// statusLine reports a running fleet on stderr: rewritten in place every
// second on a terminal, else a line every 10 s (for logs).
type statusLine struct {
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

func startStatus(ctx context.Context, w io.Writer, fl *fleet.Fleet, pub *mqttout.Publisher) *statusLine {
	ctx, cancel := context.WithCancel(ctx)
	s := &statusLine{cancel: cancel}
	tty := isTerminal(w)
	every := 10 * time.Second
	if tty {
		every = time.Second
	}
	s.wg.Go(func() {
		t := time.NewTicker(every)
		defer t.Stop()
		last, lastAt := fl.Stats().Fixes, time.Now()
		for {
			select {
			case <-ctx.Done():
				if tty {
					fmt.Fprintln(w)
				}
				return
			case now := <-t.C:
				st := fl.Stats()
				rate := float64(st.Fixes-last) / now.Sub(lastAt).Seconds()
				last, lastAt = st.Fixes, now
				line := statusText(st, rate, fl.FaultCounts(), pub)
				if tty {
					fmt.Fprintf(w, "\r\x1b[K%s", line)
				} else {
					fmt.Fprintf(w, "%s %s\n", now.Format(time.TimeOnly), line)
				}
			}
		}
	})
	return s
}

func (s *statusLine) stop() {
	s.cancel()
	s.wg.Wait()
}

func statusText(st fleet.Stats, rate float64, faults map[string]uint64, pub *mqttout.Publisher) string {
	var b strings.Builder
	fmt.Fprintf(&b, "vehicles %d (moving %d) | fixes/s %.0f | fixes %d", st.Vehicles, st.Moving, rate, st.Fixes)
	var total uint64
	var names []string
	for k, n := range faults {
		total += n
		if n > 0 {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	fmt.Fprintf(&b, " | faults %d", total)
	if len(names) > 0 {
		var parts []string
		for _, k := range names {
			parts = append(parts, fmt.Sprintf("%s %d", k, faults[k]))
		}
		fmt.Fprintf(&b, " (%s)", strings.Join(parts, ", "))
	}
	if pub != nil {
		c := pub.Counts()
		fmt.Fprintf(&b, " | mqtt published %d, errors %d", c.Published, c.Failed)
	}
	return b.String()
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}
