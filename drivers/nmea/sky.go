package nmea

// Satellite is one satellite of the sky picture. Unknown numbers are -1.
type Satellite struct {
	System    string // "GPS", "GLONASS", "Galileo", "BeiDou", "QZSS", "NavIC", "SBAS"; "" when no rule tells
	PRN       int    // as the receiver numbers it in GSV (e.g. 65-96 for GLONASS on older receivers)
	Signal    int    // NMEA 4.1+ signal id (e.g. GPS 1 L1 C/A, 8 L5); 0 when not given. A satellite tracked on two signals appears once per signal.
	Elevation int    // degrees
	Azimuth   int    // degrees true
	SNR       int    // carrier to noise, dB-Hz; -1 when not tracked
	Used      bool   // listed in the last epoch's GSA as used in the fix
}

// System names, as in [Satellite].System.
const (
	SystemGPS     = "GPS"
	SystemGLONASS = "GLONASS"
	SystemGalileo = "Galileo"
	SystemBeiDou  = "BeiDou"
	SystemQZSS    = "QZSS"
	SystemNavIC   = "NavIC"
	SystemSBAS    = "SBAS"
)

// systems indexes the system names for compact storage; 0 is unknown.
var systems = [...]string{"", SystemGPS, SystemGLONASS, SystemGalileo, SystemBeiDou, SystemQZSS, SystemNavIC, SystemSBAS}

const (
	sysUnknown = iota
	sysGPS
	sysGLONASS
	sysGalileo
	sysBeiDou
	sysQZSS
	sysNavIC
	sysSBAS
)

// systemOf decides a satellite's system: from the NMEA 4.1 system id when
// given, else from a single-system talker, else from the PRN ranges that
// NMEA 4.0 and the receivers' extensions use for mixed ("GP", "GN") lists.
func systemOf(talker string, systemID, prn int) int {
	switch systemID {
	case 1:
		if prn >= 33 && prn <= 64 {
			return sysSBAS // SBAS is reported under the GPS system id
		}
		return sysGPS
	case 2:
		return sysGLONASS
	case 3:
		return sysGalileo
	case 4:
		return sysBeiDou
	case 5:
		return sysQZSS
	case 6:
		return sysNavIC
	}
	switch talker {
	case "GL":
		return sysGLONASS
	case "GA":
		return sysGalileo
	case "GB", "BD":
		return sysBeiDou
	case "GQ", "QZ":
		return sysQZSS
	case "GI", "IN":
		return sysNavIC
	}
	switch {
	case prn >= 1 && prn <= 32:
		return sysGPS
	case prn >= 33 && prn <= 64, prn >= 120 && prn <= 158:
		return sysSBAS
	case prn >= 65 && prn <= 96:
		return sysGLONASS
	case prn >= 193 && prn <= 200:
		return sysQZSS
	case prn >= 201 && prn <= 264, prn >= 401 && prn <= 463:
		return sysBeiDou
	case prn >= 301 && prn <= 336:
		return sysGalileo
	}
	if talker == "GP" {
		return sysGPS
	}
	return sysUnknown
}

// Bounds of the sky state, so that GSV handling never allocates.
const (
	maxSkyGroups  = 16 // talker x signal combinations
	maxGroupSats  = 36 // 9 parts of 4
	maxUsed       = 64
	maxTexts      = 8
	maxTextLength = 80
)

// skyGroup is the GSV picture of one talker and signal.
type skyGroup struct {
	talker  string
	signal  int
	stamp   uint64 // when it was last completed; 0 when never
	sats    [maxGroupSats]Satellite
	n       int
	staging [maxGroupSats]Satellite
	nStage  int
	next    int // the part expected next; 0 when not assembling
}

type usedSat struct {
	sys int8
	prn int16
}

// sky is the satellites picture, guarded by Decoder.mu.
type sky struct {
	groups  [maxSkyGroups]skyGroup
	ngroups int
	stamp   uint64

	used     [maxUsed]usedSat // of the last epoch that had a GSA
	nused    int
	building [maxUsed]usedSat // of the epoch being assembled
	nbuild   int

	texts  [maxTexts]string // most recent last
	ntexts int
}

// reset forgets every satellite and text. The arrays are left as they
// are: only what the counts cover is ever read, and group initialises a
// group it takes.
func (s *sky) reset() {
	s.ngroups, s.stamp, s.nused, s.nbuild, s.ntexts = 0, 0, 0, 0, 0
}

// addGSV adds one GSV part. A group's picture is replaced once all its
// parts have arrived in order; a part out of order abandons the group's
// assembly until its next part 1.
func (s *sky) addGSV(talker string, g *GSV) {
	gr := s.group(talker, g.SignalID)
	if g.Num == 1 {
		gr.nStage, gr.next = 0, 1
	}
	if gr.next != g.Num {
		gr.next = 0
		return
	}
	for _, v := range g.Sats[:g.NSats] {
		if gr.nStage == maxGroupSats {
			break
		}
		gr.staging[gr.nStage] = Satellite{
			System: systems[systemOf(talker, 0, v.PRN)], PRN: v.PRN, Signal: g.SignalID,
			Elevation: v.Elevation, Azimuth: v.Azimuth, SNR: v.SNR,
		}
		gr.nStage++
	}
	gr.next++
	if g.Num < g.Total {
		return
	}
	gr.next = 0
	gr.n = copy(gr.sats[:], gr.staging[:gr.nStage])
	// Groups not completed since this one last was are no longer in the
	// receiver's rotation (a system switched off, a signal lost): drop them.
	prev := gr.stamp
	s.stamp++
	gr.stamp = s.stamp
	if prev == 0 {
		return
	}
	for i := 0; i < s.ngroups; i++ {
		if o := &s.groups[i]; o.stamp != 0 && o.stamp < prev {
			o.stamp, o.n = 0, 0
		}
	}
}

// group returns the group of talker and signal, reusing the least recently
// completed slot when all are taken.
func (s *sky) group(talker string, signal int) *skyGroup {
	oldest := 0
	for i := 0; i < s.ngroups; i++ {
		g := &s.groups[i]
		if g.talker == talker && g.signal == signal {
			return g
		}
		if g.stamp < s.groups[oldest].stamp {
			oldest = i
		}
	}
	i := s.ngroups
	if i == maxSkyGroups {
		i = oldest
	} else {
		s.ngroups++
	}
	g := &s.groups[i]
	*g = skyGroup{talker: talker, signal: signal}
	return g
}

// addGSA records the satellites a GSA lists as used in this epoch.
func (s *sky) addGSA(talker string, g *GSA) {
	for _, prn := range g.PRNs[:g.NPRNs] {
		if s.nbuild == maxUsed {
			return
		}
		s.building[s.nbuild] = usedSat{sys: int8(systemOf(talker, g.SystemID, prn)), prn: int16(prn)}
		s.nbuild++
	}
}

// endEpoch makes the used list of the epoch just merged current, if it
// had a GSA (hadGSA); receivers that send GSA less often keep the last.
func (s *sky) endEpoch(hadGSA bool) {
	if hadGSA {
		s.used, s.nused = s.building, s.nbuild
	}
	s.nbuild = 0
}

func (s *sky) isUsed(sat *Satellite) bool {
	for _, u := range s.used[:s.nused] {
		if int(u.prn) == sat.PRN && systems[u.sys] == sat.System {
			return true
		}
	}
	return false
}

// inView counts the distinct satellites of the current picture; -1
// before the first complete one.
func (s *sky) inView() int {
	var seen [len(systems)][1024 / 64]uint64
	n, any := 0, false
	for i := 0; i < s.ngroups; i++ {
		g := &s.groups[i]
		if g.stamp == 0 {
			continue
		}
		any = true
		for _, sat := range g.sats[:g.n] {
			sys, prn := sysIndex(sat.System), sat.PRN
			if prn < 0 || prn >= 1024 {
				n++
				continue
			}
			if seen[sys][prn/64]&(1<<(prn%64)) == 0 {
				seen[sys][prn/64] |= 1 << (prn % 64)
				n++
			}
		}
	}
	if !any {
		return -1
	}
	return n
}

func sysIndex(name string) int {
	for i, s := range systems {
		if s == name {
			return i
		}
	}
	return 0
}

func (s *sky) satellites() []Satellite {
	n := 0
	for i := 0; i < s.ngroups; i++ {
		if s.groups[i].stamp != 0 {
			n += s.groups[i].n
		}
	}
	out := make([]Satellite, 0, n)
	for i := 0; i < s.ngroups; i++ {
		g := &s.groups[i]
		if g.stamp == 0 {
			continue
		}
		for _, sat := range g.sats[:g.n] {
			sat.Used = s.isUsed(&sat)
			out = append(out, sat)
		}
	}
	return out
}

// addText remembers a receiver's text, most recent last, without
// duplicates. It allocates only for a text not already held.
func (s *sky) addText(b []byte) {
	if len(b) > maxTextLength {
		b = b[:maxTextLength]
	}
	for len(b) > 0 && b[len(b)-1] == ' ' {
		b = b[:len(b)-1]
	}
	if len(b) == 0 {
		return
	}
	for i := 0; i < s.ntexts; i++ {
		if s.texts[i] == string(b) {
			t := s.texts[i]
			copy(s.texts[i:s.ntexts-1], s.texts[i+1:s.ntexts])
			s.texts[s.ntexts-1] = t
			return
		}
	}
	if s.ntexts == maxTexts {
		copy(s.texts[:], s.texts[1:])
		s.ntexts--
	}
	s.texts[s.ntexts] = string(b)
	s.ntexts++
}
