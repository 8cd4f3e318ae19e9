package signtui

import (
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/headway-transit/headway/agent/internal/station"
	"github.com/headway-transit/headway/internal/wire"
)

// Width is the frame's width in columns: an 80-column SSH session.
const Width = 78

// banners say what the sign's banner says, by mode.
var banners = map[string]string{
	station.ModeReconnecting: "RECONNECTING - showing the latest times received",
	station.ModeStale:        "LIVE TIMES MAY BE OUT OF DATE - LIVE? is the last known time",
	station.ModeScheduled:    "NO LIVE INFORMATION - showing scheduled times",
}

// Render writes v as the sign shows it, times in loc.
func Render(w io.Writer, v station.View, loc *time.Location) error {
	return render(w, v, loc, banners[v.Mode])
}

// Final writes v as the last frame before the agent stops: a console
// keeps it, so it says the times are as of then.
func Final(w io.Writer, v station.View, loc *time.Location) error {
	return render(w, v, loc, "SIGN STOPPED AT "+clockOf(v.GeneratedAt, loc, v.Clock)+" - THESE TIMES MAY BE OUT OF DATE")
}

func render(w io.Writer, v station.View, loc *time.Location, banner string) error {
	var b strings.Builder
	names := make([]string, len(v.Stops))
	for i, s := range v.Stops {
		names[i] = cmpOr(s.StopName, s.Stop)
	}
	clock := clockOf(v.GeneratedAt, loc, v.Clock)
	title := fit(strings.Join(names, " / "), Width-len(clock)-1)
	fmt.Fprintf(&b, "%s%s%s\n", title, strings.Repeat(" ", Width-utf8.RuneCountInString(title)-len(clock)), clock)
	b.WriteString(strings.Repeat("=", Width) + "\n")
	if banner != "" {
		fmt.Fprintf(&b, "!! %s\n", fit(banner, Width-3))
	}
	for _, s := range v.Stops {
		if len(v.Stops) > 1 {
			fmt.Fprintf(&b, "-- %s\n", fit(cmpOr(s.StopName, s.Stop), Width-3))
		}
		for _, al := range s.Alerts {
			label := "NOTICE"
			switch {
			case al.StopClosed:
				label = "STOP CLOSED"
			case len(al.Routes) > 0:
				label = "ROUTE " + strings.Join(al.Routes, ",")
			}
			fmt.Fprintf(&b, "** %s\n", fit(label+": "+al.Header, Width-3))
		}
		if len(s.Arrivals) == 0 {
			if s.Note == station.NoteClosed {
				b.WriteString("   This stop is closed - see the notice above\n")
			} else if s.Note == station.NoteNoDepartures {
				b.WriteString("   No departures in the next hour\n")
			} else {
				b.WriteString("   No departure information\n")
			}
			continue
		}
		for _, a := range s.Arrivals {
			route := fit(cmpOr(a.RouteShortName, a.Route, "?"), 6)
			when := "Due"
			if a.Minutes > 0 {
				when = fmt.Sprintf("%d min", a.Minutes)
			}
			// The row's time too, so a technician can compare with the
			// timetable and with what the hub shows.
			at := clockOf(a.When(), loc, v.Clock)
			const fixed = 6 + 1 + 1 + 5 + 1 + 8 + 1 + 7
			const headW = Width - fixed - 3
			head := fit(a.Headsign, headW)
			if st := statusTag(v, a); st != "" {
				// The tag beside SCHED, and the timetable's time with no
				// minutes: the bus may yet not run this trip.
				head = fit(a.Headsign, headW-len(st)-2)
				head += strings.Repeat(" ", headW-utf8.RuneCountInString(head)-len(st)) + st
				when = ""
			}
			line := fmt.Sprintf("%-6s %-*s %-5s %8s %7s", route, headW+1, head, tag(a), at, when)
			b.WriteString(strings.TrimRight(line, " ") + "\n")
		}
	}
	b.WriteString(strings.Repeat("-", Width) + "\n")
	last := "no live data yet"
	if v.LastUpdate != nil {
		last = "updated " + clockOf(*v.LastUpdate, loc, v.Clock)
	}
	online := "hub connected"
	if !v.Online {
		online = "hub not connected"
	}
	fmt.Fprintf(&b, "%s | %s | mode %s | %s\n", v.Display, online, v.Mode, last)
	_, err := io.WriteString(w, b.String())
	return err
}

// statusTags mark the scheduled rows the hub qualifies, as the sign page
// does: a bus waiting at the trip's first stop, or no bus tracked on a trip
// long due to have left.
var statusTags = map[string]string{wire.StatusAtTerminal: "BUS AT TERMINAL", wire.StatusNoBus: "NO BUS TRACKED"}

// statusTag is a scheduled row's tag, or "". From stale data it says
// nothing: the bus may long have left, or come after all.
func statusTag(v station.View, a station.ArrivalView) string {
	if a.Source == wire.SourceRealtime || v.Stale {
		return ""
	}
	return statusTags[a.Status]
}

func tag(a station.ArrivalView) string {
	switch {
	case a.Source != wire.SourceRealtime:
		return "SCHED"
	case a.Stale:
		return "LIVE?"
	default:
		return "LIVE"
	}
}

func clockOf(t time.Time, loc *time.Location, clock string) string {
	if loc == nil {
		loc = time.Local
	}
	if clock == station.Clock12h {
		return t.In(loc).Format("3:04 pm")
	}
	return t.In(loc).Format("15:04")
}

// fit cuts s to n runes, marking the cut.
func fit(s string, n int) string {
	s = strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return ' ' // hub-supplied text must not move the cursor
		}
		return r
	}, s)
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "~"
}

func cmpOr(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}
