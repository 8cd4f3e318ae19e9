package receiver

import (
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/headway-transit/headway/drivers/nmea"
	"github.com/headway-transit/headway/firmware-sim/internal/profile"
)

// A small deterministic constellation: each satellite rises, culminates at
// its own maximum elevation and sets once per passPeriod, crossing half the
// sky in azimuth, so the satellites used and the DOPs drift slowly, as over
// a real bus's trip. Positions depend only on the seed and the time.
const (
	passPeriod = 12 * time.Hour // above the horizon for half of it
	elevMask   = 10             // degrees: lower satellites are tracked, not used
	maxUsed    = 12             // per system, as one GSA lists
)

type satellite struct {
	system       string
	prn          int
	maxEl, phase float64 // degrees; fraction of passPeriod
	az0, azSweep float64 // degrees
	snrBias      int     // dB-Hz, a satellite's own strength
}

type satView struct {
	system string
	prn    int
	el, az int
	snr    int // -1 when not tracked
	used   bool
	elRad  float64
	azRad  float64
}

type sky struct{ sats []satellite }

func newSky(systems []string, rng *rand.Rand) *sky {
	s := &sky{}
	add := func(system string, prns []int, n int) {
		rng.Shuffle(len(prns), func(i, j int) { prns[i], prns[j] = prns[j], prns[i] })
		prns = prns[:n]
		slices.Sort(prns)
		for _, prn := range prns {
			s.sats = append(s.sats, satellite{
				system: system, prn: prn,
				maxEl: 20 + 68*rng.Float64(), phase: rng.Float64(),
				az0: 360 * rng.Float64(), azSweep: 120 + 120*rng.Float64(),
				snrBias: rng.IntN(7) - 3,
			})
		}
	}
	for _, sys := range systems {
		switch sys {
		case profile.GPS:
			add(sys, seq(1, 32), 24)
		case profile.GLONASS:
			add(sys, seq(65, 88), 18)
		}
	}
	return s
}

func seq(lo, hi int) []int {
	var out []int
	for i := lo; i <= hi; i++ {
		out = append(out, i)
	}
	return out
}

// view returns the satellites above the horizon at t, by system and PRN.
// tracked false (cold start, tunnel) leaves their SNR empty and none used.
func (s *sky) view(t time.Time, tracked bool, dst []satView) []satView {
	dst = dst[:0]
	periods := float64(t.UnixNano()) / float64(passPeriod)
	for _, sat := range s.sats {
		p := math.Mod(periods+sat.phase, 1)
		if p >= 0.5 {
			continue // below the horizon
		}
		el := sat.maxEl * math.Sin(2*math.Pi*p)
		az := math.Mod(sat.az0+sat.azSweep*2*p, 360)
		v := satView{system: sat.system, prn: sat.prn, el: int(el), az: int(az) % 360, snr: -1,
			elRad: el * math.Pi / 180, azRad: az * math.Pi / 180}
		if tracked && el >= 3 {
			v.snr = min(99, 22+int(26*math.Sin(v.elRad))+sat.snrBias)
		}
		dst = append(dst, v)
	}
	if !tracked {
		return dst
	}
	// Use the highest satellites above the mask, up to maxUsed per system.
	for _, sys := range []string{profile.GPS, profile.GLONASS} {
		var idx []int
		for i, v := range dst {
			if v.system == sys && v.el >= elevMask {
				idx = append(idx, i)
			}
		}
		slices.SortStableFunc(idx, func(a, b int) int { return dst[b].el - dst[a].el })
		for _, i := range idx[:min(len(idx), maxUsed)] {
			dst[i].used = true
		}
	}
	return dst
}

// dops computes PDOP, HDOP and VDOP from the geometry of the used
// satellites (one receiver clock for all systems). With fewer than four,
// or a singular geometry, they are NaN.
func dops(v []satView) (pdop, hdop, vdop float64) {
	nan := math.NaN()
	var m [4][4]float64
	n := 0
	for _, s := range v {
		if !s.used {
			continue
		}
		n++
		row := [4]float64{math.Cos(s.elRad) * math.Sin(s.azRad), math.Cos(s.elRad) * math.Cos(s.azRad), math.Sin(s.elRad), 1}
		for i := range 4 {
			for j := range 4 {
				m[i][j] += row[i] * row[j]
			}
		}
	}
	if n < 4 {
		return nan, nan, nan
	}
	q, ok := invert4(m)
	if !ok {
		return nan, nan, nan
	}
	return math.Sqrt(q[0][0] + q[1][1] + q[2][2]), math.Sqrt(q[0][0] + q[1][1]), math.Sqrt(q[2][2])
}

// invert4 inverts a symmetric positive matrix by Gauss-Jordan elimination
// with partial pivoting.
func invert4(m [4][4]float64) ([4][4]float64, bool) {
	var inv [4][4]float64
	for i := range 4 {
		inv[i][i] = 1
	}
	for c := range 4 {
		p := c
		for r := c + 1; r < 4; r++ {
			if math.Abs(m[r][c]) > math.Abs(m[p][c]) {
				p = r
			}
		}
		if math.Abs(m[p][c]) < 1e-12 {
			return inv, false
		}
		m[c], m[p] = m[p], m[c]
		inv[c], inv[p] = inv[p], inv[c]
		d := m[c][c]
		for j := range 4 {
			m[c][j] /= d
			inv[c][j] /= d
		}
		for r := range 4 {
			if r == c {
				continue
			}
			f := m[r][c]
			for j := range 4 {
				m[r][j] -= f * m[c][j]
				inv[r][j] -= f * inv[c][j]
			}
		}
	}
	return inv, true
}

// gsa returns the GSA of one system's used satellites ("" for all).
func gsa(v []satView, system string, fixType int, pdop, hdop, vdop float64) nmea.GSA {
	g := nmea.GSA{Auto: true, FixType: fixType, PDOP: pdop, HDOP: hdop, VDOP: vdop}
	for _, s := range v {
		if s.used && (system == "" || s.system == system) && g.NPRNs < 12 {
			g.PRNs[g.NPRNs] = s.prn
			g.NPRNs++
		}
	}
	return g
}

// appendGSV appends the GSV parts for one system's satellites in view ("":
// all), four to a part; with none in view, one empty part.
func appendGSV(dst []byte, talker, system string, v []satView, sentence func(dst []byte, start int) []byte) []byte {
	var sel [36]satView
	n := 0
	for _, s := range v {
		if (system == "" || s.system == system) && n < len(sel) {
			sel[n] = s
			n++
		}
	}
	total := max(1, (n+3)/4)
	for part := 1; part <= total; part++ {
		g := nmea.GSV{Total: total, Num: part, InView: n}
		for i := (part - 1) * 4; i < n && g.NSats < 4; i++ {
			s := sel[i]
			g.Sats[g.NSats] = nmea.GSVSat{PRN: s.prn, Elevation: s.el, Azimuth: s.az, SNR: s.snr}
			g.NSats++
		}
		start := len(dst)
		dst = sentence(nmea.AppendGSV(dst, talker, g), start)
	}
	return dst
}
