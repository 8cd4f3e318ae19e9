package gpsview

import (
	"cmp"
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/headway-transit/headway/drivers/gps"
	"github.com/headway-transit/headway/drivers/nmea"
)

// Snapshot is everything one frame of the view shows.
type Snapshot struct {
	Port  string             // the device, as the technician named it
	Stats gps.Stats          // the Receiver's statistics
	Rates map[string]float64 // sentences per second by type
	Span  time.Duration      // what the rates were measured over; 0 before two samples
}

// Render writes s as plain text: no escapes, lines of at most 80
// columns. now is the wall-clock time of the frame, for the ages.
func Render(w io.Writer, s Snapshot, now time.Time) error {
	var b strings.Builder
	st := &s.Stats
	renderHeader(&b, s.Port, st)
	renderFix(&b, st, now)
	renderSky(&b, st.Sky)
	renderSentences(&b, s)
	_, err := io.WriteString(w, b.String())
	return err
}

func renderHeader(b *strings.Builder, port string, st *gps.Stats) {
	fmt.Fprintf(b, "GPS %s: %s\n", port, connection(st))
	if !st.Connected && st.LastError != "" {
		for i, line := range wrap(clip(st.LastError, 3*66), 66) {
			label := "  last error: "
			if i > 0 {
				label = "              "
			}
			fmt.Fprintf(b, "%s%s\n", label, line)
		}
	}
	switch len(st.Texts) {
	case 0:
		b.WriteString("Receiver   (no TXT identity received)\n")
	default:
		for i, t := range st.Texts {
			label := "Receiver  "
			if i > 0 {
				label = "          "
			}
			fmt.Fprintf(b, "%s %s\n", label, clip(t, 68))
		}
	}
}

// connection says whether the port is open, at what rate, and how that
// rate was chosen.
func connection(st *gps.Stats) string {
	var s string
	switch {
	case !st.Connected:
		s = "not connected, retrying"
	case st.Hunting:
		s = fmt.Sprintf("connected, hunting for the rate: trying %d", st.Baud)
	case st.AutoBaud && st.Detected == st.Baud:
		s = fmt.Sprintf("connected at %d baud (auto-detected)", st.Baud)
	case st.AutoBaud:
		s = fmt.Sprintf("connected at %d baud (auto)", st.Baud)
	default:
		s = fmt.Sprintf("connected at %d baud", st.Baud)
	}
	if !st.Connected && st.AutoBaud && st.Detected != 0 {
		s += fmt.Sprintf(" (last at %d baud)", st.Detected)
	}
	return fmt.Sprintf("%s; reconnects %d", s, st.Reconnects)
}

func renderFix(b *strings.Builder, st *gps.Stats, now time.Time) {
	f := &st.Latest
	b.WriteString("\n")
	if st.LatestAt.IsZero() {
		b.WriteString("Fix        none yet: no epoch decoded\n")
	} else {
		fmt.Fprintf(b, "Fix        %s, status %s, epoch %s ago\n", modeName(f.Mode), f.Status, age(now, st.LatestAt))
	}
	last := "never"
	if !st.LastFixAt.IsZero() {
		last = age(now, st.LastFixAt) + " ago"
	}
	fmt.Fprintf(b, "Last fix   %s\n", last)
	if st.LatestAt.IsZero() {
		return
	}
	gpsTime := "unknown (no date yet)"
	if !f.Time.IsZero() {
		gpsTime = f.Time.UTC().Format("2006-01-02 15:04:05.000 UTC")
	}
	fmt.Fprintf(b, "Time       %s\n", gpsTime)
	if f.HasPosition() {
		fmt.Fprintf(b, "Position   %s  %s\n", coord(f.Lat, 'N', 'S'), coord(f.Lon, 'E', 'W'))
	} else {
		b.WriteString("Position   -\n")
	}
	fmt.Fprintf(b, "Altitude   %s MSL, %s HAE\n", num(f.AltMSL, "%.1f m"), num(f.AltHAE, "%.1f m"))
	speed := "-"
	if !math.IsNaN(f.Speed) {
		speed = fmt.Sprintf("%.2f m/s (%.1f km/h)", f.Speed, f.Speed*3.6)
	}
	fmt.Fprintf(b, "Motion     %s, track %s\n", speed, num(f.Track, "%.1f deg"))
	fmt.Fprintf(b, "Satellites %s used, %s in view\n", count(f.Sats), count(f.SatsInView))
	fmt.Fprintf(b, "DOP        HDOP %s  PDOP %s  VDOP %s\n", num(f.HDOP, "%.2f"), num(f.PDOP, "%.2f"), num(f.VDOP, "%.2f"))
}

func modeName(m nmea.Mode) string {
	switch m {
	case nmea.ModeNoFix:
		return "no fix"
	case nmea.Mode2D:
		return "2D fix"
	case nmea.Mode3D:
		return "3D fix"
	}
	return "mode unknown"
}

// snrBarMax is the carrier to noise at which the bar is full: 50 dB-Hz is
// a strong signal under open sky; 30 and below is marginal.
const (
	snrBarMax   = 50
	snrBarWidth = 25
)

func renderSky(b *strings.Builder, sky []nmea.Satellite) {
	used := 0
	for _, s := range sky {
		if s.Used {
			used++
		}
	}
	fmt.Fprintf(b, "\nSky        %d satellite signals, %d used\n", len(sky), used)
	if len(sky) == 0 {
		return
	}
	sats := slices.Clone(sky)
	slices.SortFunc(sats, func(a, b nmea.Satellite) int {
		return cmp.Or(cmp.Compare(a.System, b.System), cmp.Compare(a.PRN, b.PRN), cmp.Compare(a.Signal, b.Signal))
	})
	b.WriteString("  system    PRN sig elev azim SNR\n")
	for _, s := range sats {
		mark := ""
		if s.Used {
			mark = " used"
		}
		bar := ""
		if s.SNR > 0 {
			bar = " " + strings.Repeat("#", min(s.SNR, snrBarMax)*snrBarWidth/snrBarMax)
		}
		system := s.System
		if system == "" {
			system = "?"
		}
		line := fmt.Sprintf("  %-8s %4d %3s %4s %4s %3s%-*s%s", system, s.PRN, signal(s.Signal),
			count(s.Elevation), count(s.Azimuth), count(s.SNR), snrBarWidth+1, bar, mark)
		b.WriteString(strings.TrimRight(line, " "))
		b.WriteString("\n")
	}
}

func signal(id int) string {
	if id == 0 {
		return ""
	}
	return fmt.Sprint(id)
}

func renderSentences(b *strings.Builder, s Snapshot) {
	st := &s.Stats
	counts := sentenceCounts(*st)
	over := "rates after the next sample"
	if s.Span > 0 {
		over = fmt.Sprintf("per second over the last %s", s.Span.Round(100*time.Millisecond))
	}
	fmt.Fprintf(b, "\nSentences  %s\n", over)
	for _, typ := range slices.Sorted(maps.Keys(counts)) {
		rate := "-"
		if s.Span > 0 {
			rate = fmt.Sprintf("%.1f/s", s.Rates[typ])
		}
		fmt.Fprintf(b, "  %-8s %8s %10d total\n", typ, rate, counts[typ])
	}
	if len(counts) == 0 {
		b.WriteString("  none\n")
	}
	rejects := "none"
	if len(st.Rejects) > 0 {
		var parts []string
		for _, r := range slices.Sorted(maps.Keys(st.Rejects)) {
			parts = append(parts, fmt.Sprintf("%s %d", r, st.Rejects[r]))
		}
		rejects = strings.Join(parts, ", ")
	}
	fmt.Fprintf(b, "Rejects    %s\n", clip(rejects, 68))
	fmt.Fprintf(b, "Bytes      %d\n", st.Bytes)
}

func age(now, t time.Time) string {
	d := now.Sub(t)
	if d < 0 {
		d = 0
	}
	if d < time.Minute {
		return fmt.Sprintf("%.1fs", d.Seconds())
	}
	return d.Round(time.Second).String()
}

func coord(v float64, pos, neg byte) string {
	h := pos
	if v < 0 {
		h, v = neg, -v
	}
	return fmt.Sprintf("%.6f %c", v, h)
}

// num formats v, or "-" when it is unknown (NaN).
func num(v float64, format string) string {
	if math.IsNaN(v) {
		return "-"
	}
	return fmt.Sprintf(format, v)
}

// count formats n, or "-" when it is unknown (negative).
func count(n int) string {
	if n < 0 {
		return "-"
	}
	return fmt.Sprint(n)
}

// clip cuts s to n runes, so a long TXT or error keeps the frame's width.
func clip(s string, n int) string {
	s = strings.Map(func(r rune) rune {
		if r < ' ' || (r >= 0x7f && r < 0xa0) {
			return '?' // never let the receiver's bytes drive the terminal
		}
		return r
	}, s)
	if r := []rune(s); len(r) > n {
		return string(r[:n-3]) + "..."
	}
	return s
}

// wrap breaks s into lines of at most n runes, at spaces where it can.
func wrap(s string, n int) []string {
	var lines []string
	for len([]rune(s)) > n {
		r := []rune(s)
		cut := strings.LastIndex(string(r[:n+1]), " ")
		if cut <= 0 {
			cut = len(string(r[:n]))
		}
		lines = append(lines, strings.TrimRight(s[:cut], " "))
		s = strings.TrimLeft(s[cut:], " ")
	}
	return append(lines, s)
}
