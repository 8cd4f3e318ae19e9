package nmea

import (
	"strings"
	"testing"
	"time"
)

func TestParseTypes(t *testing.T) {
	tests := []struct {
		name  string
		body  string
		check func(t *testing.T, s Sentence)
	}{
		{"GNS 4.11", "GNGNS,091547.00,5114.50897,N,00012.28663,W,AANN,10,0.83,111.1,45.6,,,V", func(t *testing.T, s Sentence) {
			g := s.GNS
			if g.Time != 9*time.Hour+15*time.Minute+47*time.Second || string(g.Modes[:g.NModes]) != "AANN" || g.Sats != 10 || g.NavStatus != 'V' {
				t.Errorf("GNS = %+v", g)
			}
			checkFloat(t, "Lat", g.Lat, 51+14.50897/60, 1e-12)
			checkFloat(t, "AltMSL", g.AltMSL, 111.1, 1e-9)
			checkFloat(t, "GeoidSep", g.GeoidSep, 45.6, 1e-9)
		}},
		{"GLL 2.3", "GPGLL,5504.4343,N,01025.5386,E,200004,A,D", func(t *testing.T, s Sentence) {
			if g := s.GLL; !g.Valid || g.FAAMode != 'D' || g.Time != 20*time.Hour+4*time.Second {
				t.Errorf("GLL = %+v", g)
			}
		}},
		{"GLL 1.5 without time", "GPGLL,4916.45,N,12311.12,W", func(t *testing.T, s Sentence) {
			if g := s.GLL; g.Valid || g.Time != NoTime {
				t.Errorf("GLL = %+v", g)
			}
		}},
		{"VTG 2.3", "GPVTG,054.7,T,034.4,M,005.5,N,010.2,K,A", func(t *testing.T, s Sentence) {
			v := s.VTG
			checkFloat(t, "TrackTrue", v.TrackTrue, 54.7, 0)
			checkFloat(t, "SpeedKnots", v.SpeedKnots, 5.5, 0)
			checkFloat(t, "SpeedKmh", v.SpeedKmh, 10.2, 0)
			if v.FAAMode != 'A' {
				t.Errorf("FAAMode = %q", v.FAAMode)
			}
		}},
		{"VTG 1.5 without units", "GPVTG,054.7,034.4,005.5,010.2", func(t *testing.T, s Sentence) {
			checkFloat(t, "SpeedKnots", s.VTG.SpeedKnots, 5.5, 0)
			checkFloat(t, "TrackMag", s.VTG.TrackMag, 34.4, 0)
		}},
		{"GSA 2.x", "GPGSA,A,3,17,28,06,01,30,20,26,13,,,,,1.8,1.1,1.5", func(t *testing.T, s Sentence) {
			g := s.GSA
			if !g.Auto || g.FixType != 3 || g.NPRNs != 8 || g.PRNs[0] != 17 || g.SystemID != 0 {
				t.Errorf("GSA = %+v", g)
			}
			checkFloat(t, "PDOP", g.PDOP, 1.8, 0)
			checkFloat(t, "VDOP", g.VDOP, 1.5, 0)
		}},
		{"GSA 4.11 system id", "GNGSA,A,3,80,71,73,79,69,,,,,,,,1.83,1.09,1.47,2", func(t *testing.T, s Sentence) {
			if g := s.GSA; g.SystemID != 2 || g.NPRNs != 5 {
				t.Errorf("GSA = %+v", g)
			}
			checkFloat(t, "HDOP", s.GSA.HDOP, 1.09, 0)
		}},
		{"GSA with a fourth DOP", "BDGSA,A,3,02,03,04,,,,,,,,,,2.1,1.1,1.8,1.2", func(t *testing.T, s Sentence) {
			if g := s.GSA; g.NPRNs != 3 || g.SystemID != 0 {
				t.Errorf("GSA = %+v", g)
			}
			checkFloat(t, "HDOP", s.GSA.HDOP, 1.1, 0)
		}},
		{"GSA with 14 satellites", "GNGSA,A,3,1,2,3,4,5,6,7,8,9,10,11,12,13,14,1.5,0.9,1.2,1", func(t *testing.T, s Sentence) {
			if g := s.GSA; g.NPRNs != 14 || g.SystemID != 1 {
				t.Errorf("GSA = %+v", g)
			}
			checkFloat(t, "VDOP", s.GSA.VDOP, 1.2, 0)
		}},
		{"GLL odd status is no fix", "GPGLL,3728.0549,N,12213.8639,W,014413.076,N,V", func(t *testing.T, s Sentence) {
			if g := s.GLL; g.Valid || g.FAAMode != 'V' {
				t.Errorf("GLL = %+v", g)
			}
		}},
		{"GSV 4.11 signal id", "GPGSV,3,1,10,13,00,000,39,15,76,248,44,17,25,106,,19,,,34,1", func(t *testing.T, s Sentence) {
			g := s.GSV
			if g.Total != 3 || g.Num != 1 || g.InView != 10 || g.NSats != 4 || g.SignalID != 1 {
				t.Fatalf("GSV = %+v", g)
			}
			if g.Sats[2] != (GSVSat{17, 25, 106, -1}) || g.Sats[3] != (GSVSat{19, -1, -1, 34}) {
				t.Errorf("sats = %+v", g.Sats)
			}
		}},
		{"GSV short last part", "GPGSV,3,3,09,15,08,176,00", func(t *testing.T, s Sentence) {
			if g := s.GSV; g.NSats != 1 || g.Sats[0].PRN != 15 {
				t.Errorf("GSV = %+v", g)
			}
		}},
		{"GSV none in view", "GPGSV,1,1,00,,,,,,,,,,,,,,,,", func(t *testing.T, s Sentence) {
			if g := s.GSV; g.NSats != 0 || g.InView != 0 {
				t.Errorf("GSV = %+v", g)
			}
		}},
		{"ZDA", "GPZDA,201530.00,04,07,2002,-05,00", func(t *testing.T, s Sentence) {
			if z := s.ZDA; z.Date != (Date{2002, 7, 4}) || z.ZoneHours != -5 {
				t.Errorf("ZDA = %+v", z)
			}
		}},
		{"TXT with commas", "GPTXT,01,01,02,ROM CORE 5.00, Jan 09 2006", func(t *testing.T, s Sentence) {
			if string(s.TXT.Text) != "ROM CORE 5.00, Jan 09 2006" || s.TXT.ID != 2 {
				t.Errorf("TXT = %+v %q", s.TXT, s.TXT.Text)
			}
		}},
		{"RMC 4.1 nav status", "GNRMC,091547.00,A,5114.50897,N,00012.28663,W,0.004,77.52,091202,,,A,V", func(t *testing.T, s Sentence) {
			if s.RMC.FAAMode != 'A' || s.RMC.NavStatus != 'V' {
				t.Errorf("RMC = %+v", s.RMC)
			}
		}},
		{"any talker", "QZGSV,1,1,01,193,45,120,40", func(t *testing.T, s Sentence) {
			if s.Talker != "QZ" || s.Type != TypeGSV || s.GSV.NSats != 1 {
				t.Errorf("sentence = %+v", s)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := ParseSentence([]byte(sentence(t, tt.body)))
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, s)
		})
	}
}

func TestParseTypesRejects(t *testing.T) {
	tests := []struct{ name, body, reason string }{
		{"GSA fix type 4", "GPGSA,A,4,17,,,,,,,,,,,,1.8,1.1,1.5", ReasonValue},
		{"GSA too short", "GPGSA,A,3,17", ReasonFields},
		{"GSV part past total", "GPGSV,2,3,08,01,40,083,46", ReasonValue},
		{"GSV elevation 91", "GPGSV,1,1,01,01,91,083,46", ReasonValue},
		{"GNS bad mode", "GNGNS,091547.00,5114.50897,N,00012.28663,W,A1,10,0.83,111.1,45.6,,", ReasonValue},
		{"ZDA two-digit year", "GPZDA,201530.00,04,07,02,,", ReasonValue},
		{"TXT control byte", "GPTXT,01,01,02,a\x01b", ReasonValue},
		{"RMC lower-case mode", "GPRMC,123519,A,4807.038,N,01131.000,E,022.4,084.4,230394,003.1,W,a", ReasonValue},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseSentence([]byte(sentence(t, tt.body)))
			pe, ok := err.(*ParseError)
			if !ok || pe.Reason != tt.reason {
				t.Errorf("err = %v, want reason %s", err, tt.reason)
			}
		})
	}
}

// multiGNSSEpoch is a u-blox M10-style NMEA 4.11 epoch at time hhmmss.
func multiGNSSEpoch(tb testing.TB, hhmmss string) string {
	lines := []string{
		"GNRMC," + hhmmss + ".00,A,5114.50897,N,00012.28663,W,10.5,77.52,271126,,,D,V",
		"GNVTG,77.52,T,,M,10.5,N,19.4,K,D",
		"GNGGA," + hhmmss + ".00,5114.50897,N,00012.28663,W,2,12,0.83,111.1,M,45.6,M,,",
		"GNGSA,A,3,02,05,13,15,18,,,,,,,,1.52,0.83,1.27,1",
		"GNGSA,A,3,65,71,,,,,,,,,,,1.52,0.83,1.27,2",
		"GNGSA,A,3,11,12,,,,,,,,,,,1.52,0.83,1.27,3",
		"GNGSA,A,3,19,20,29,,,,,,,,,,1.52,0.83,1.27,4",
		"GPGSV,2,1,07,02,40,083,46,05,21,158,41,13,66,292,45,15,50,210,44,1",
		"GPGSV,2,2,07,18,12,045,38,24,03,330,,46,30,200,40,1",
		"GPGSV,1,1,03,02,40,083,40,05,21,158,35,13,66,292,41,8",
		"GLGSV,1,1,03,65,50,100,40,71,30,250,38,72,05,020,,1",
		"GAGSV,1,1,02,11,45,120,41,12,60,300,43,7",
		"GBGSV,1,1,03,19,70,010,45,20,40,140,42,29,20,220,39,1",
		"GNGLL,5114.50897,N,00012.28663,W," + hhmmss + ".00,A,D",
		"GNZDA," + hhmmss + ".00,27,11,2026,00,00",
		"GNTXT,01,01,02,ANTSTATUS=OK",
	}
	var b strings.Builder
	for _, l := range lines {
		b.WriteString(sentence(tb, l))
	}
	return b.String()
}

func TestDecoderMultiGNSS(t *testing.T) {
	input := "$PUBX,41,1,0007,0003,9600,0*14\r\n" + sentence(t, "GNTXT,01,01,02,u-blox AG - www.u-blox.com") +
		multiGNSSEpoch(t, "070000") + multiGNSSEpoch(t, "070001")
	d := NewDecoder(strings.NewReader(input))
	// The first epoch is returned once RMC and GGA are in, before its GSA
	// and GSV: the Decoder has not yet learned where this receiver's
	// epochs end. The second is returned whole.
	if f, err := d.Next(); err != nil || f.Status != StatusDGPS || f.SatsInView != -1 {
		t.Fatalf("first fix %+v, %v", f, err)
	}
	f, err := d.Next()
	if err != nil {
		t.Fatal(err)
	}
	if want := utc("2026-11-27T07:00:01Z"); !f.Time.Equal(want) || f.Mode != Mode3D || f.Status != StatusDGPS {
		t.Errorf("fix = %v %v %v", f.Time, f.Mode, f.Status)
	}
	checkFloat(t, "PDOP", f.PDOP, 1.52, 0)
	checkFloat(t, "VDOP", f.VDOP, 1.27, 0)
	checkFloat(t, "HDOP", f.HDOP, 0.83, 0)
	checkFloat(t, "AltHAE", f.AltHAE, 111.1+45.6, 1e-9)
	checkFloat(t, "Speed", f.Speed, 10.5*knot, 1e-9)
	if f.Sats != 12 || f.SatsInView != 15 {
		t.Errorf("Sats = %d, SatsInView = %d, want 12, 15", f.Sats, f.SatsInView)
	}
	sky := d.Sky()
	if len(sky) != 18 {
		t.Errorf("Sky has %d entries, want 18 (15 satellites, 3 on two signals): %+v", len(sky), sky)
	}
	used := map[string]bool{}
	for _, s := range sky {
		if s.Used {
			used[s.System+itoa(s.PRN)] = true
		}
	}
	for _, k := range []string{"GPS2", "GPS18", "GLONASS65", "Galileo11", "BeiDou29"} {
		if !used[k] {
			t.Errorf("%s not used; used = %v", k, used)
		}
	}
	if used["GPS24"] || used["SBAS46"] {
		t.Errorf("unused satellites marked used: %v", used)
	}
	if got := d.Texts(); strings.Join(got, "|") != "u-blox AG - www.u-blox.com|ANTSTATUS=OK" {
		t.Errorf("Texts = %q", got)
	}
}

func TestDecoderStatus(t *testing.T) {
	rmc := func(status, mode string) string {
		return sentence(t, "GPRMC,120000,"+status+",0100.0000,N,00100.0000,E,1.0,90.0,010125,,,"+mode)
	}
	gga := func(q string) string {
		return sentence(t, "GPGGA,120000,0100.0000,N,00100.0000,E,"+q+",05,1.2,50.0,M,10.0,M,,")
	}
	tests := []struct {
		name   string
		input  string
		mode   Mode
		status Status
	}{
		{"GPS", rmc("A", "A") + gga("1"), Mode3D, StatusGPS},
		{"RTK fixed", rmc("A", "R") + gga("4"), Mode3D, StatusRTKFixed},
		{"RTK float", rmc("A", "F") + gga("5"), Mode3D, StatusRTKFloat},
		{"dead reckoning", rmc("A", "E") + gga("6"), Mode3D, StatusDR},
		{"estimated RMC taints a GPS GGA", rmc("A", "E") + gga("1"), Mode3D, StatusDR},
		{"simulated as Garmin demo mode", rmc("V", "S") + gga("8"), Mode3D, StatusSimulated},
		{"simulated RMC only", rmc("A", "S"), Mode2D, StatusSimulated},
		{"manual", gga("7"), Mode3D, StatusManual},
		{"RMC 2.2 without mode", rmc("A", ""), Mode2D, StatusGPS},
		{"no fix", rmc("V", "N") + gga("0"), ModeNoFix, StatusUnknown},
		{"GSA 2D wins over altitude", sentence(t, "GPGSA,A,2,01,02,03,,,,,,,,,,2.0,1.0,1.7") + rmc("A", "A") + gga("1"), Mode2D, StatusGPS},
		{"GNS per system", sentence(t, "GNGNS,120000,0100.0000,N,00100.0000,E,ANR,10,0.8,50.0,10.0,,"), Mode3D, StatusRTKFixed},
		{"GLL only", sentence(t, "GPGLL,0100.0000,N,00100.0000,E,120000,A,D"), Mode2D, StatusDGPS},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fixes, _ := decodeAll(t, tt.input)
			if len(fixes) != 1 {
				t.Fatalf("got %d fixes: %+v", len(fixes), fixes)
			}
			if f := fixes[0]; f.Mode != tt.mode || f.Status != tt.status || !f.HasPosition() && tt.mode >= Mode2D {
				t.Errorf("mode %v status %v position %v, want %v %v", f.Mode, f.Status, f.HasPosition(), tt.mode, tt.status)
			}
		})
	}
}

func TestDecoderRollover(t *testing.T) {
	rmc := func(date string) string {
		return sentence(t, "GPRMC,120000,A,0100.0000,N,00100.0000,E,1.0,90.0,"+date+",,,A")
	}
	zda := func(y string) string { return sentence(t, "GPZDA,120000.00,11,09,"+y+",,") }
	tests := []struct {
		name  string
		input string
		opts  []Option
		want  string
	}{
		{"current date kept", rmc("270426"), nil, "2026-04-27T12:00:00Z"},
		// A receiver that missed the 2019 rollover, on 2026-04-27.
		{"rollover bug corrected", rmc("110906"), nil, "2026-04-27T12:00:00Z"},
		{"ZDA date corrected", zda("2006") + sentence(t, "GPGGA,120000.00,0100.0000,N,00100.0000,E,1,05,1.2,50.0,M,10.0,M,,"), nil, "2026-04-27T12:00:00Z"},
		{"two rollovers", rmc("220899"), nil, "2038-11-21T12:00:00Z"},
		{"old log kept with an early pivot", rmc("260810"), []Option{RolloverPivot(utc("2000-01-01T00:00:00Z"))}, "2010-08-26T12:00:00Z"},
		{"old log moved by the default pivot", rmc("260810"), nil, "2030-04-11T12:00:00Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fixes, _ := decodeAll(t, tt.input, tt.opts...)
			if len(fixes) != 1 || !fixes[0].Time.Equal(utc(tt.want)) {
				t.Errorf("fixes = %+v, want time %s", fixes, tt.want)
			}
		})
	}
}

// TestDecoderAllocs checks the hot path: once a Decoder has seen a
// receiver's sentences, decoding more of them allocates nothing.
func TestDecoderAllocs(t *testing.T) {
	var stream []byte
	for s := range 60 {
		stream = append(stream, multiGNSSEpoch(t, "0700"+string(rune('0'+s/10))+string(rune('0'+s%10)))...)
	}
	d := NewDecoder(&repeatReader{data: stream})
	for range 120 {
		if _, err := d.Next(); err != nil {
			t.Fatal(err)
		}
	}
	if n := testing.AllocsPerRun(200, func() {
		if _, err := d.Next(); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Errorf("%v allocations per epoch, want 0", n)
	}
}

// TestDecoderConcurrentViews reads Sky, Texts and Stats while Next runs;
// run under -race it checks they are safe to call concurrently.
func TestDecoderConcurrentViews(t *testing.T) {
	var input strings.Builder
	for s := range 50 {
		input.WriteString(multiGNSSEpoch(t, "0700"+string(rune('0'+s/10))+string(rune('0'+s%10))))
	}
	d := NewDecoder(strings.NewReader(input.String()))
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			if _, err := d.Next(); err != nil {
				return
			}
		}
	}()
	for {
		select {
		case <-done:
			if len(d.Sky()) == 0 || len(d.Texts()) == 0 || d.Stats().Fixes != 50 {
				t.Errorf("after decoding: %d satellites, texts %q, %d fixes", len(d.Sky()), d.Texts(), d.Stats().Fixes)
			}
			return
		default:
			_, _, _ = d.Sky(), d.Texts(), d.Stats()
		}
	}
}
