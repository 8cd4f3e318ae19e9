package nmea

import (
	"bytes"
	"math"
	"testing"
)

func TestFormatZeroMatchesDefault(t *testing.T) {
	nan := math.NaN()
	for _, f := range []Fix{
		{Time: utc("2026-11-27T07:00:01.250Z"), Mode: Mode3D, Lat: 52.520008, Lon: -13.404954,
			AltMSL: 34.56, AltHAE: 74.06, Speed: 12.5, Track: 271.25, HDOP: 0.87, Sats: 11},
		{Time: utc("2026-11-27T07:00:01Z"), Mode: ModeNoFix, Lat: nan, Lon: nan, AltMSL: nan, AltHAE: nan,
			Speed: nan, Track: nan, HDOP: nan, Sats: -1},
	} {
		if got, want := AppendRMCFormat(nil, "GN", f, Format{}), AppendRMC(nil, "GN", f); !bytes.Equal(got, want) {
			t.Errorf("AppendRMCFormat = %q, want %q", got, want)
		}
		if got, want := AppendGGAFormat(nil, "GN", f, Format{}), AppendGGA(nil, "GN", f); !bytes.Equal(got, want) {
			t.Errorf("AppendGGAFormat = %q, want %q", got, want)
		}
	}
}

func TestAppendMoreRoundTrip(t *testing.T) {
	fix := Fix{Time: utc("2026-11-27T07:00:01.200Z"), Mode: Mode3D, Lat: -33.4489, Lon: 151.2093,
		AltMSL: 12.5, AltHAE: 35, Speed: 9.75, Track: 123.45, HDOP: 0.9, Sats: 9}
	ublox := Format{TimeDecimals: 2, MinuteDecimals: 5}
	sirf := Format{TimeDecimals: 3, MinuteDecimals: 4, DOPDecimals: 1, SpeedDecimals: 2}
	gsa := GSA{Auto: true, FixType: 3, PDOP: 1.6, HDOP: 0.9, VDOP: 1.3, SystemID: 1}
	copy(gsa.PRNs[:], []int{1, 3, 11, 14, 22})
	gsa.NPRNs = 5
	gsv := GSV{Total: 1, Num: 1, InView: 3, NSats: 3, Sats: [4]GSVSat{
		{PRN: 1, Elevation: 53, Azimuth: 280, SNR: 36}, {PRN: 3, Elevation: 5, Azimuth: 1, SNR: -1}, {PRN: 11, Elevation: 40, Azimuth: 245, SNR: 29}}}
	tests := []struct {
		name   string
		line   []byte
		want   string // exact output
		typ    string
		checks func(t *testing.T, s Sentence)
	}{
		{"GLL", AppendGLL(nil, "GN", fix, ublox), "$GNGLL,3326.93400,S,15112.55800,E,070001.20,A,A*", TypeGLL, func(t *testing.T, s Sentence) {
			checkFloat(t, "lat", s.GLL.Lat, fix.Lat, 1e-6)
			if !s.GLL.Valid || s.GLL.Time != 7*3600e9+1.2e9 {
				t.Errorf("GLL %+v", s.GLL)
			}
		}},
		{"VTG", AppendVTG(nil, "GP", fix, sirf), "$GPVTG,123.45,T,,M,18.95,N,35.10,K,A*", TypeVTG, func(t *testing.T, s Sentence) {
			checkFloat(t, "knots", s.VTG.SpeedKnots*knot, fix.Speed, 0.01)
		}},
		{"ZDA", AppendZDA(nil, "GP", fix.Time, sirf), "$GPZDA,070001.200,27,11,2026,00,00*", TypeZDA, func(t *testing.T, s Sentence) {
			if s.ZDA.Date.Year != 2026 || s.ZDA.Date.Day != 27 {
				t.Errorf("ZDA %+v", s.ZDA)
			}
		}},
		{"GNS", AppendGNS(nil, "GN", fix, "AA", ublox), "$GNGNS,070001.20,3326.93400,S,15112.55800,E,AA,09,0.90,12.50,22.50,,,S*", TypeGNS, func(t *testing.T, s Sentence) {
			checkFloat(t, "alt", s.GNS.AltMSL, 12.5, 1e-9)
		}},
		{"GSA", AppendGSA(nil, "GN", gsa, sirf), "$GNGSA,A,3,01,03,11,14,22,,,,,,,,1.6,0.9,1.3,1*", TypeGSA, func(t *testing.T, s Sentence) {
			if s.GSA.NPRNs != 5 || s.GSA.SystemID != 1 || s.GSA.FixType != 3 {
				t.Errorf("GSA %+v", s.GSA)
			}
		}},
		{"GSV", AppendGSV(nil, "GP", gsv), "$GPGSV,1,1,03,01,53,280,36,03,05,001,,11,40,245,29*", TypeGSV, func(t *testing.T, s Sentence) {
			if s.GSV.NSats != 3 || s.GSV.Sats[1].SNR != -1 || s.GSV.Sats[2].Azimuth != 245 {
				t.Errorf("GSV %+v", s.GSV)
			}
		}},
		{"TXT", AppendTXT(nil, "GP", TXT{Total: 1, Num: 1, ID: 2, Text: []byte("ANTSTATUS=OK, $*")}), "$GPTXT,01,01,02,ANTSTATUS=OK    *", TypeTXT, func(t *testing.T, s Sentence) {
			if string(s.TXT.Text) != "ANTSTATUS=OK    " {
				t.Errorf("TXT %q", s.TXT.Text)
			}
		}},
		{"RMC sirf", AppendRMCFormat(nil, "GP", fix, sirf), "$GPRMC,070001.200,A,3326.9340,S,15112.5580,E,18.95,123.45,271126,,,A*", TypeRMC, nil},
		{"GGA ublox", AppendGGAFormat(nil, "GN", fix, ublox), "$GNGGA,070001.20,3326.93400,S,15112.55800,E,1,09,0.90,12.50,M,22.50,M,,*", TypeGGA, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !bytes.HasPrefix(tt.line, []byte(tt.want)) || !bytes.HasSuffix(tt.line, []byte("\r\n")) || len(tt.line) != len(tt.want)+4 {
				t.Errorf("got  %q\nwant %qHH\\r\\n", tt.line, tt.want)
			}
			s, err := ParseSentence(tt.line)
			if err != nil {
				t.Fatalf("ParseSentence(%q): %v", tt.line, err)
			}
			if s.Type != tt.typ {
				t.Fatalf("type %q, want %q", s.Type, tt.typ)
			}
			if tt.checks != nil {
				tt.checks(t, s)
			}
		})
	}
}

// A no-fix epoch as a cold receiver sends it decodes as no fix, not as
// rejects.
func TestAppendMoreNoFix(t *testing.T) {
	nan := math.NaN()
	f := Fix{Time: utc("2026-11-27T07:00:01Z"), Mode: ModeNoFix, Lat: nan, Lon: nan, AltMSL: nan, AltHAE: nan,
		Speed: nan, Track: nan, HDOP: nan, Sats: 0}
	var b []byte
	b = AppendRMCFormat(b, "GN", f, Format{})
	b = AppendVTG(b, "GN", f, Format{})
	b = AppendGGAFormat(b, "GN", f, Format{})
	b = AppendGSA(b, "GN", GSA{Auto: true, FixType: 1, PDOP: nan, HDOP: nan, VDOP: nan}, Format{})
	b = AppendGLL(b, "GN", f, Format{})
	b = AppendGNS(b, "GN", f, "AA", Format{})
	b = AppendZDA(b, "GN", f.Time, Format{})
	fixes, stats := decodeAll(t, string(b))
	if len(stats.Rejects) > 0 {
		t.Fatalf("rejects %v in\n%s", stats.Rejects, b)
	}
	if len(fixes) != 1 || fixes[0].Mode != ModeNoFix || !fixes[0].Time.Equal(f.Time) {
		t.Errorf("fixes %+v", fixes)
	}
}

func TestAppendMoreAllocs(t *testing.T) {
	f := Fix{Time: utc("2026-11-27T07:00:01.250Z"), Mode: Mode3D, Lat: 52.5, Lon: 13.4,
		AltMSL: 34.5, AltHAE: 74, Speed: 12.5, Track: 271.25, HDOP: 0.87, Sats: 11}
	g := GSA{Auto: true, FixType: 3, NPRNs: 2, PRNs: [maxGSAPRNs]int{1, 2}, PDOP: 1, HDOP: 1, VDOP: 1}
	v := GSV{Total: 1, Num: 1, InView: 1, NSats: 1, Sats: [4]GSVSat{{PRN: 1, Elevation: 2, Azimuth: 3, SNR: 4}}}
	txt := TXT{Total: 1, Num: 1, ID: 2, Text: []byte("hello")}
	ft := Format{TimeDecimals: 2, MinuteDecimals: 4}
	buf := make([]byte, 0, 2048)
	allocs := testing.AllocsPerRun(100, func() {
		b := AppendRMCFormat(buf[:0], "GN", f, ft)
		b = AppendGGAFormat(b, "GN", f, ft)
		b = AppendGNS(b, "GN", f, "AA", ft)
		b = AppendGLL(b, "GN", f, ft)
		b = AppendVTG(b, "GN", f, ft)
		b = AppendZDA(b, "GN", f.Time, ft)
		b = AppendGSA(b, "GN", g, ft)
		b = AppendGSV(b, "GP", v)
		buf = AppendTXT(b, "GP", txt)
	})
	if allocs != 0 {
		t.Errorf("Append* allocate %v times", allocs)
	}
}
