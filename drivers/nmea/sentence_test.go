package nmea

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"
)

func TestParseSentenceChecksum(t *testing.T) {
	tests := []struct {
		name   string
		line   string
		reason string // "" for success
		is     error
	}{
		{name: "good", line: rmcExample},
		{name: "good with CRLF", line: rmcExample + "\r\n"},
		{name: "good with LF", line: rmcExample + "\n"},
		{name: "lower-case hex", line: "$GPGSA,A,3,17,28,06,01,30,20,26,13,,,,,1.8,1.1,1.5*33"},
		{name: "bad", line: rmcExample[:len(rmcExample)-2] + "6B", reason: ReasonChecksum, is: ErrChecksum},
		{name: "corrupted body", line: "$GPRMC,123519,A,4807.038,N,01131.000,E,022.4,084.4,230394,003.2,W*6A", reason: ReasonChecksum, is: ErrChecksum},
		{name: "missing", line: rmcExample[:len(rmcExample)-3], reason: ReasonNoChecksum, is: ErrNoChecksum},
		{name: "star without digits", line: rmcExample[:len(rmcExample)-2], reason: ReasonChecksum, is: ErrChecksum},
		{name: "one digit", line: rmcExample[:len(rmcExample)-1], reason: ReasonChecksum, is: ErrChecksum},
		{name: "not hex", line: rmcExample[:len(rmcExample)-2] + "G1", reason: ReasonChecksum, is: ErrChecksum},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseSentence([]byte(tt.line))
			checkParseError(t, err, tt.reason, tt.is)
		})
	}
}

func checkParseError(tb testing.TB, err error, reason string, is error) {
	tb.Helper()
	if reason == "" {
		if err != nil {
			tb.Fatalf("unexpected error: %v", err)
		}
		return
	}
	var pe *ParseError
	if !errors.As(err, &pe) {
		tb.Fatalf("error = %v, want *ParseError with reason %q", err, reason)
	}
	if pe.Reason != reason {
		tb.Errorf("reason = %q, want %q (%v)", pe.Reason, reason, err)
	}
	if is != nil && !errors.Is(err, is) {
		tb.Errorf("error %v does not wrap %v", err, is)
	}
	if pe.Sentence == "" && reason != ReasonGarbage {
		tb.Errorf("ParseError.Sentence is empty: %v", err)
	}
}

func TestParseSentenceErrors(t *testing.T) {
	long := "GPTXT," + strings.Repeat("X", MaxLineLength)
	tests := []struct {
		name   string
		line   string
		reason string
	}{
		{name: "empty", line: "", reason: ReasonGarbage},
		{name: "no dollar", line: "GPRMC,123519,A*00", reason: ReasonGarbage},
		{name: "too long", line: sentence(t, long), reason: ReasonTooLong},
		{name: "lower-case address", line: sentence(t, "gprmc,123519,A"), reason: ReasonAddress},
		{name: "one-letter address", line: sentence(t, "G,1"), reason: ReasonAddress},
		{name: "address with symbol", line: sentence(t, "GP-MC,1"), reason: ReasonAddress},
		{name: "address too long", line: sentence(t, "GPABCDEFGHIJ,1"), reason: ReasonAddress},
		{name: "empty address", line: sentence(t, ",1,2"), reason: ReasonAddress},
		{name: "RMC too few fields", line: sentence(t, "GPRMC,123519,A,4807.038,N"), reason: ReasonFields},
		{name: "GGA too few fields", line: sentence(t, "GPGGA,123519,4807.038,N,01131.000,E,1"), reason: ReasonFields},
		{name: "bad time", line: sentence(t, "GPRMC,12x519,A,4807.038,N,01131.000,E,022.4,084.4,230394,,"), reason: ReasonValue},
		{name: "hour 24", line: sentence(t, "GPRMC,243519,A,4807.038,N,01131.000,E,022.4,084.4,230394,,"), reason: ReasonValue},
		{name: "bad status", line: sentence(t, "GPRMC,123519,X,4807.038,N,01131.000,E,022.4,084.4,230394,,"), reason: ReasonValue},
		{name: "minutes 60", line: sentence(t, "GPRMC,123519,A,4860.000,N,01131.000,E,022.4,084.4,230394,,"), reason: ReasonValue},
		{name: "latitude 91", line: sentence(t, "GPRMC,123519,A,9100.000,N,01131.000,E,022.4,084.4,230394,,"), reason: ReasonValue},
		{name: "longitude 181", line: sentence(t, "GPRMC,123519,A,4807.038,N,18100.000,E,022.4,084.4,230394,,"), reason: ReasonValue},
		{name: "void RMC tolerates placeholder position", line: sentence(t, "GPRMC,000416.984,V,36000.0000,N,72000.0000,E,0.0,,260120,,"), reason: ""},
		{name: "GGA without fix tolerates placeholder position", line: sentence(t, "GPGGA,235946.005,8960.000000,N,00000.000000,E,0,0,,137.000,M,13.000,M,,"), reason: ""},
		{name: "GGA with fix rejects bad position", line: sentence(t, "GPGGA,235946.005,8960.000000,N,00000.000000,E,1,0,,137.000,M,13.000,M,,"), reason: ReasonValue},
		{name: "bad hemisphere", line: sentence(t, "GPRMC,123519,A,4807.038,E,01131.000,E,022.4,084.4,230394,,"), reason: ReasonValue},
		{name: "negative latitude", line: sentence(t, "GPRMC,123519,A,-4807.038,N,01131.000,E,022.4,084.4,230394,,"), reason: ReasonValue},
		{name: "exponent speed", line: sentence(t, "GPRMC,123519,A,4807.038,N,01131.000,E,1e3,084.4,230394,,"), reason: ReasonValue},
		{name: "NaN track", line: sentence(t, "GPRMC,123519,A,4807.038,N,01131.000,E,022.4,NaN,230394,,"), reason: ReasonValue},
		{name: "month 13", line: sentence(t, "GPRMC,123519,A,4807.038,N,01131.000,E,022.4,084.4,231394,,"), reason: ReasonValue},
		{name: "quality 2 digits", line: sentence(t, "GPGGA,123519,4807.038,N,01131.000,E,11,08,0.9,545.4,M,46.9,M,,"), reason: ReasonValue},
		{name: "bad altitude", line: sentence(t, "GPGGA,123519,4807.038,N,01131.000,E,1,08,0.9,5.4.5,M,46.9,M,,"), reason: ReasonValue},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseSentence([]byte(tt.line))
			checkParseError(t, err, tt.reason, nil)
		})
	}
}

func TestParseRMC(t *testing.T) {
	nan := math.NaN()
	tests := []struct {
		name string
		line string
		want RMC
	}{
		{
			name: "north east",
			line: rmcExample,
			want: RMC{
				Time:  12*time.Hour + 35*time.Minute + 19*time.Second,
				Valid: true,
				// 48°07.038' = 48 + 7.038/60; 11°31.000' = 11 + 31/60.
				Lat: 48.1173, Lon: 11.516666666666667,
				SpeedKnots: 22.4, Track: 84.4,
				Date: Date{1994, time.March, 23},
			},
		},
		{
			name: "south east",
			line: sentence(t, "GPRMC,030719.000,A,3747.0873,S,17518.8938,E,0.69,181.39,311214,,,A"),
			want: RMC{
				Time:  3*time.Hour + 7*time.Minute + 19*time.Second,
				Valid: true,
				// -(37 + 47.0873/60), 175 + 18.8938/60
				Lat: -37.78478833333333, Lon: 175.31489666666667,
				SpeedKnots: 0.69, Track: 181.39,
				Date:    Date{2014, time.December, 31},
				FAAMode: 'A',
			},
		},
		{
			name: "north west milliseconds",
			line: sentence(t, "GNRMC,132820.607,A,4134.49821229,N,09345.03351845,W,3.252,92.308,180320,11.5985,E,D"),
			want: RMC{
				Time:  13*time.Hour + 28*time.Minute + 20*time.Second + 607*time.Millisecond,
				Valid: true,
				// 41 + 34.49821229/60, -(93 + 45.03351845/60)
				Lat: 41.574970204833336, Lon: -93.75055864083333,
				SpeedKnots: 3.252, Track: 92.308,
				Date:    Date{2020, time.March, 18},
				FAAMode: 'D',
			},
		},
		{
			name: "south west",
			line: sentence(t, "GPRMC,000000,A,3356.4560,S,07040.1230,W,,,010180,,"),
			want: RMC{
				Valid: true,
				// -(33 + 56.456/60), -(70 + 40.123/60)
				Lat: -33.94093333333333, Lon: -70.66871666666667,
				SpeedKnots: nan, Track: nan,
				Date: Date{1980, time.January, 1},
			},
		},
		{
			name: "void, empty",
			line: sentence(t, "GPRMC,,V,,,,,,,,,,N"),
			want: RMC{Time: NoTime, Lat: nan, Lon: nan, SpeedKnots: nan, Track: nan, FAAMode: 'N'},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := ParseSentence([]byte(tt.line))
			if err != nil {
				t.Fatal(err)
			}
			if s.Type != "RMC" {
				t.Fatalf("Type = %q, want RMC", s.Type)
			}
			got, want := s.RMC, tt.want
			if got.Time != want.Time || got.Valid != want.Valid || got.Date != want.Date || got.FAAMode != want.FAAMode {
				t.Errorf("got time %v valid %v date %v mode %q, want %v %v %v %q",
					got.Time, got.Valid, got.Date, got.FAAMode, want.Time, want.Valid, want.Date, want.FAAMode)
			}
			checkFloat(t, "Lat", got.Lat, want.Lat, 1e-12)
			checkFloat(t, "Lon", got.Lon, want.Lon, 1e-12)
			checkFloat(t, "SpeedKnots", got.SpeedKnots, want.SpeedKnots, 0)
			checkFloat(t, "Track", got.Track, want.Track, 0)
		})
	}
}

func TestParseGGA(t *testing.T) {
	nan := math.NaN()
	tests := []struct {
		name   string
		line   string
		talker string
		want   GGA
	}{
		{
			name:   "north east",
			line:   ggaExample,
			talker: "GP",
			want: GGA{
				Time: 12*time.Hour + 35*time.Minute + 19*time.Second,
				Lat:  48.1173, Lon: 11.516666666666667,
				Quality: 1, Sats: 8, HDOP: 0.9, AltMSL: 545.4, GeoidSep: 46.9,
			},
		},
		{
			name:   "south west negative separation",
			line:   sentence(t, "GNGGA,235959.50,3356.4560,S,07040.1230,W,4,19,0.7,-12.5,M,-31.442,M,6.0,0002"),
			talker: "GN",
			want: GGA{
				Time: 23*time.Hour + 59*time.Minute + 59*time.Second + 500*time.Millisecond,
				Lat:  -33.94093333333333, Lon: -70.66871666666667,
				Quality: 4, Sats: 19, HDOP: 0.7, AltMSL: -12.5, GeoidSep: -31.442,
			},
		},
		{
			name:   "no fix",
			line:   sentence(t, "GPGGA,,,,,,0,00,99.99,,,,,,"),
			talker: "GP",
			want:   GGA{Time: NoTime, Lat: nan, Lon: nan, Quality: 0, Sats: 0, HDOP: 99.99, AltMSL: nan, GeoidSep: nan},
		},
		{
			name:   "old receiver stops after altitude",
			line:   sentence(t, "BDGGA,010203,0100.0000,N,00100.0000,E,1,,,100.0,M"),
			talker: "BD",
			want: GGA{
				Time: time.Hour + 2*time.Minute + 3*time.Second,
				Lat:  1 + 0.0/60, Lon: 1,
				Quality: 1, Sats: -1, HDOP: nan, AltMSL: 100, GeoidSep: nan,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := ParseSentence([]byte(tt.line))
			if err != nil {
				t.Fatal(err)
			}
			if s.Type != "GGA" || s.Talker != tt.talker {
				t.Fatalf("Talker, Type = %q, %q, want %q, GGA", s.Talker, s.Type, tt.talker)
			}
			got, want := s.GGA, tt.want
			if got.Time != want.Time || got.Quality != want.Quality || got.Sats != want.Sats {
				t.Errorf("got time %v quality %d sats %d, want %v %d %d",
					got.Time, got.Quality, got.Sats, want.Time, want.Quality, want.Sats)
			}
			checkFloat(t, "Lat", got.Lat, want.Lat, 1e-12)
			checkFloat(t, "Lon", got.Lon, want.Lon, 1e-12)
			checkFloat(t, "HDOP", got.HDOP, want.HDOP, 0)
			checkFloat(t, "AltMSL", got.AltMSL, want.AltMSL, 0)
			checkFloat(t, "GeoidSep", got.GeoidSep, want.GeoidSep, 0)
		})
	}
}

func TestParseSentenceOtherTypes(t *testing.T) {
	tests := []struct {
		name, line, talker, typ string
	}{
		{name: "GSV", line: "$GPGSV,3,3,12,11,12,132,04,08,38,008,,02,35,348,,03,14,091,*73", talker: "GP", typ: "GSV"},
		{name: "unknown talker", line: sentence(t, "ZZXYZ,1,2"), talker: "ZZ", typ: "XYZ"},
		{name: "proprietary", line: sentence(t, "PGRME,15.0,M,45.0,M,25.0,M"), talker: "P", typ: "PGRME"},
		{name: "non-standard vendor", line: sentence(t, "SNRSTAT,1,1,0,0"), talker: "", typ: "SNRSTAT"},
		{name: "proprietary no fields", line: sentence(t, "PSRF"), talker: "P", typ: "PSRF"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := ParseSentence([]byte(tt.line))
			if err != nil {
				t.Fatal(err)
			}
			if s.Talker != tt.talker || s.Type != tt.typ {
				t.Errorf("Talker, Type = %q, %q, want %q, %q", s.Talker, s.Type, tt.talker, tt.typ)
			}
		})
	}
}
