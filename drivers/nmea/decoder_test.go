package nmea

import (
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"testing"
	"testing/iotest"
	"time"
)

// decodeAll runs a Decoder over input to the end and returns its fixes.
func decodeAll(tb testing.TB, input string, opts ...Option) ([]Fix, Stats) {
	tb.Helper()
	d := NewDecoder(strings.NewReader(input), opts...)
	var fixes []Fix
	for {
		f, err := d.Next()
		if errors.Is(err, io.EOF) {
			return fixes, d.Stats()
		}
		if err != nil {
			tb.Fatalf("Next: %v", err)
		}
		fixes = append(fixes, f)
	}
}

func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestDecoderMergesEpoch(t *testing.T) {
	input := rmcExample + "\r\n" + ggaExample + "\r\n"
	// The textbook example is from 1994, before the default pivot.
	fixes, stats := decodeAll(t, input, RolloverPivot(utc("1990-01-01T00:00:00Z")))
	if len(fixes) != 1 {
		t.Fatalf("got %d fixes, want 1: %+v", len(fixes), fixes)
	}
	f := fixes[0]
	if want := utc("1994-03-23T12:35:19Z"); !f.Time.Equal(want) {
		t.Errorf("Time = %v, want %v", f.Time, want)
	}
	if f.Mode != Mode3D || !f.HasPosition() {
		t.Errorf("Mode = %v, HasPosition = %v, want 3d with position", f.Mode, f.HasPosition())
	}
	checkFloat(t, "Lat", f.Lat, 48.1173, 1e-12)
	checkFloat(t, "Lon", f.Lon, 11+31.0/60, 1e-12)
	checkFloat(t, "AltMSL", f.AltMSL, 545.4, 1e-9)
	checkFloat(t, "AltHAE", f.AltHAE, 545.4+46.9, 1e-9)
	checkFloat(t, "Speed", f.Speed, 22.4*1852/3600, 1e-9)
	checkFloat(t, "Track", f.Track, 84.4, 0)
	checkFloat(t, "HDOP", f.HDOP, 0.9, 0)
	if f.Sats != 8 {
		t.Errorf("Sats = %d, want 8", f.Sats)
	}
	if stats.Sentences["RMC"] != 1 || stats.Sentences["GGA"] != 1 || stats.Fixes != 1 {
		t.Errorf("stats = %+v", stats)
	}
}

func TestDecoderEpochs(t *testing.T) {
	rmc := func(tod, status, lat, date string) string {
		return sentence(t, "GPRMC,"+tod+","+status+","+lat+",N,00100.0000,E,1.0,90.0,"+date+",,,A")
	}
	gga := func(tod, quality, alt string) string {
		return sentence(t, "GPGGA,"+tod+",0100.0000,N,00100.0000,E,"+quality+",05,1.2,"+alt+",M,10.0,M,,")
	}
	type want struct {
		time string // "" for the zero time
		mode Mode
	}
	tests := []struct {
		name  string
		input string
		want  []want
	}{
		{
			name:  "GGA before RMC",
			input: gga("120000", "1", "50.0") + rmc("120000", "A", "0100.0000", "010125"),
			want:  []want{{"2025-01-01T12:00:00Z", Mode3D}},
		},
		{
			name: "three epochs",
			input: rmc("120000", "A", "0100.0000", "010125") + gga("120000", "1", "50.0") +
				rmc("120001", "A", "0100.0000", "010125") + gga("120001", "1", "50.0") +
				rmc("120002", "A", "0100.0000", "010125") + gga("120002", "1", "50.0"),
			want: []want{{"2025-01-01T12:00:00Z", Mode3D}, {"2025-01-01T12:00:01Z", Mode3D}, {"2025-01-01T12:00:02Z", Mode3D}},
		},
		{
			name:  "RMC only epochs are 2D",
			input: rmc("120000", "A", "0100.0000", "010125") + rmc("120001", "A", "0100.0000", "010125"),
			want:  []want{{"2025-01-01T12:00:00Z", Mode2D}, {"2025-01-01T12:00:01Z", Mode2D}},
		},
		{
			name:  "GGA before any date has no time",
			input: gga("115959", "1", "50.0") + rmc("120000", "A", "0100.0000", "010125") + gga("120001", "1", ""),
			want:  []want{{"", Mode3D}, {"2025-01-01T12:00:00Z", Mode2D}, {"2025-01-01T12:00:01Z", Mode2D}},
		},
		{
			name:  "RMC void",
			input: rmc("120000", "V", "", "010125"),
			want:  []want{{"2025-01-01T12:00:00Z", ModeNoFix}},
		},
		{
			name:  "GGA fix overrides RMC void",
			input: rmc("120000", "V", "", "010125") + gga("120000", "1", ""),
			want:  []want{{"2025-01-01T12:00:00Z", Mode2D}},
		},
		{
			name:  "GGA quality 0 is no fix",
			input: rmc("120000", "A", "0100.0000", "010125") + gga("120000", "0", "50.0"),
			want:  []want{{"2025-01-01T12:00:00Z", ModeNoFix}},
		},
		{
			name:  "duplicate sentence after emission is not emitted again",
			input: rmc("120000", "A", "0100.0000", "010125") + gga("120000", "1", "50.0") + gga("120000", "1", "50.0"),
			want:  []want{{"2025-01-01T12:00:00Z", Mode3D}},
		},
		{
			name:  "sentences without time group together",
			input: sentence(t, "GPRMC,,V,,,,,,,,,,N") + sentence(t, "GPGGA,,,,,,0,00,99.99,,,,,,"),
			want:  []want{{"", ModeNoFix}},
		},
		{
			name: "midnight rollover without RMC",
			input: rmc("235959", "A", "0100.0000", "311225") + gga("235959", "1", "50.0") +
				gga("235959.500", "1", "50.0") + gga("000000", "1", "50.0") + gga("000001", "1", "50.0"),
			want: []want{
				{"2025-12-31T23:59:59Z", Mode3D}, {"2025-12-31T23:59:59.5Z", Mode3D},
				{"2026-01-01T00:00:00Z", Mode3D}, {"2026-01-01T00:00:01Z", Mode3D},
			},
		},
		{
			name: "midnight rollover with RMC",
			input: rmc("235959", "A", "0100.0000", "280224") + gga("235959", "1", "50.0") +
				rmc("000000", "A", "0100.0000", "290224") + gga("000000", "1", "50.0"),
			want: []want{{"2024-02-28T23:59:59Z", Mode3D}, {"2024-02-29T00:00:00Z", Mode3D}},
		},
		{
			name: "rollover at end of February",
			input: rmc("235959", "A", "0100.0000", "290224") +
				gga("000000", "1", "50.0") + gga("000001", "1", "50.0"),
			want: []want{{"2024-02-29T23:59:59Z", Mode2D}, {"2024-03-01T00:00:00Z", Mode3D}, {"2024-03-01T00:00:01Z", Mode3D}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fixes, _ := decodeAll(t, tt.input)
			if len(fixes) != len(tt.want) {
				t.Fatalf("got %d fixes, want %d: %+v", len(fixes), len(tt.want), fixes)
			}
			for i, w := range tt.want {
				f := fixes[i]
				var wt time.Time
				if w.time != "" {
					wt = utc(w.time)
				}
				if !f.Time.Equal(wt) || f.Mode != w.mode {
					t.Errorf("fix %d: time %v mode %v, want %v %v", i, f.Time, f.Mode, wt, w.mode)
				}
				if f.Mode < Mode2D && (!math.IsNaN(f.Lat) || f.HasPosition()) {
					t.Errorf("fix %d: no fix but position %v,%v", i, f.Lat, f.Lon)
				}
			}
		})
	}
}

// TestDecoderNoLatency checks that an epoch is returned as soon as its RMC
// and GGA are in, without waiting for the next epoch's first sentence.
func TestDecoderNoLatency(t *testing.T) {
	pr, pw := io.Pipe()
	d := NewDecoder(pr)
	go func() {
		// Write, then block: the decoder must not need more input.
		_, _ = io.WriteString(pw, rmcExample+"\r\n"+ggaExample+"\r\n")
	}()
	done := make(chan Fix, 1)
	go func() {
		f, err := d.Next()
		if err != nil {
			t.Errorf("Next: %v", err)
		}
		done <- f
	}()
	select {
	case f := <-done:
		if !f.HasPosition() {
			t.Errorf("fix without position: %+v", f)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Next did not return the complete epoch")
	}
	pw.Close()
	if _, err := d.Next(); !errors.Is(err, io.EOF) {
		t.Errorf("Next after close = %v, want io.EOF", err)
	}
}

func TestDecoderRejects(t *testing.T) {
	good := rmcExample + "\r\n" + ggaExample + "\r\n"
	tests := []struct {
		name     string
		input    string
		rejects  map[string]uint64
		comments uint64
		ignored  map[string]uint64
	}{
		{
			name:     "comments are skipped silently",
			input:    "# Name: test\n#\n" + good,
			comments: 2,
		},
		{
			name:    "garbage line",
			input:   "\x00\xff binary noise\n" + good,
			rejects: map[string]uint64{ReasonGarbage: 1},
		},
		{
			name:    "garbage before dollar resyncs",
			input:   "4.4343,N,01025.5386,E,200002,A,D*48" + rmcExample + "\n" + ggaExample + "\n",
			rejects: map[string]uint64{ReasonGarbage: 1},
		},
		{
			name:  "leading blanks are not garbage",
			input: "  " + rmcExample + "\n\n\n" + ggaExample + "\n",
		},
		{
			name:    "sentence cut by another",
			input:   "$GPGGA,123518,4807.0" + rmcExample + "\n" + ggaExample + "\n",
			rejects: map[string]uint64{ReasonTruncated: 1},
		},
		{
			name:    "too long line",
			input:   "$GPTXT," + strings.Repeat("A", 300) + "*00\n" + good,
			rejects: map[string]uint64{ReasonTooLong: 1},
		},
		{
			name:    "line longer than the read buffer",
			input:   strings.Repeat("$", readBufferSize*3) + "\n" + good,
			rejects: map[string]uint64{ReasonTooLong: 1},
		},
		{
			name:    "bad checksum",
			input:   strings.Replace(good, "*6A", "*6B", 1) + good,
			rejects: map[string]uint64{ReasonChecksum: 1},
		},
		{
			name:    "missing checksum",
			input:   strings.Replace(good, "*6A", "", 1) + good,
			rejects: map[string]uint64{ReasonNoChecksum: 1},
		},
		{
			name:    "truncated at end of input",
			input:   good + "$GPRMC,123520,A,48",
			rejects: map[string]uint64{ReasonTruncated: 1},
		},
		{
			name:    "other types are ignored, not rejected",
			input:   good + sentence(t, "GPBOD,,T,,M,,") + sentence(t, "PGRME,15.0,M,45.0,M,25.0,M"),
			ignored: map[string]uint64{"BOD": 1, "PGRME": 1},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fixes, stats := decodeAll(t, tt.input)
			if len(fixes) != 1 || !fixes[0].HasPosition() {
				t.Errorf("got fixes %+v, want the one good epoch", fixes)
			}
			checkCounts(t, "Rejects", stats.Rejects, tt.rejects)
			checkCounts(t, "Ignored", stats.Ignored, tt.ignored)
			if stats.Comments != tt.comments {
				t.Errorf("Comments = %d, want %d", stats.Comments, tt.comments)
			}
			if stats.Bytes != uint64(len(tt.input)) {
				t.Errorf("Bytes = %d, want %d", stats.Bytes, len(tt.input))
			}
		})
	}
}

func checkCounts(tb testing.TB, name string, got, want map[string]uint64) {
	tb.Helper()
	if len(got) != len(want) {
		tb.Errorf("%s = %v, want %v", name, got, want)
		return
	}
	for k, v := range want {
		if got[k] != v {
			tb.Errorf("%s = %v, want %v", name, got, want)
			return
		}
	}
}

func TestDecoderReadError(t *testing.T) {
	boom := errors.New("unplugged")
	r := io.MultiReader(strings.NewReader(rmcExample+"\r\n"), iotest.ErrReader(boom))
	d := NewDecoder(r)
	// The pending epoch is returned before the error.
	f, err := d.Next()
	if err != nil || !f.HasPosition() {
		t.Fatalf("Next = %+v, %v; want the RMC-only fix", f, err)
	}
	for range 2 {
		if _, err := d.Next(); !errors.Is(err, boom) || errors.Is(err, io.EOF) {
			t.Fatalf("Next = %v, want wrapped %v", err, boom)
		}
	}
}

func TestDecoderOneByteReads(t *testing.T) {
	input := "# log\n" + rmcExample + "\r\n" + ggaExample + "\r\n"
	d := NewDecoder(iotest.OneByteReader(strings.NewReader(input)))
	f, err := d.Next()
	if err != nil || f.Mode != Mode3D {
		t.Fatalf("Next = %+v, %v", f, err)
	}
	if _, err := d.Next(); err != io.EOF {
		t.Fatalf("Next = %v, want io.EOF", err)
	}
}

func TestStatsAdd(t *testing.T) {
	a := Stats{Bytes: 1, Sentences: map[string]uint64{"RMC": 1}}
	b := Stats{Bytes: 2, Sentences: map[string]uint64{"RMC": 2, "GGA": 1}, Rejects: map[string]uint64{"checksum": 1}}
	a.Add(b)
	if a.Bytes != 3 || a.Sentences["RMC"] != 3 || a.Sentences["GGA"] != 1 || a.Rejects["checksum"] != 1 {
		t.Errorf("Add = %+v", a)
	}
	c := a.Clone()
	c.Sentences["RMC"] = 100
	if a.Sentences["RMC"] != 3 {
		t.Error("Clone shares maps")
	}
}

// TestResetIsANewDecoder: a Decoder Reset onto an input decodes it exactly
// as a new one would: nothing of the input before (its satellites, texts,
// counts, learned epoch ender, date) shows.
func TestResetIsANewDecoder(t *testing.T) {
	// GGA closes this input's epochs (the Decoder learns it), and its
	// last epoch is 23:59:59 on 2026-12-06.
	first := sentence(t, "GPTXT,01,01,02,ANTENNA OK") +
		sentence(t, "GPGSV,1,1,04,01,40,083,46,02,17,308,41,12,07,344,39,14,22,228,45") +
		sentence(t, "GPGSA,A,3,01,02,12,14,,,,,,,,,2.5,1.3,2.1") +
		sentence(t, "GPRMC,235958.00,A,4807.038,N,01131.000,E,022.4,084.4,061226,,,A") +
		sentence(t, "GPGGA,235958.00,4807.038,N,01131.000,E,1,04,1.3,545.4,M,46.9,M,,") +
		sentence(t, "GPRMC,235959.00,A,4807.038,N,01131.000,E,022.4,084.4,061226,,,A") +
		sentence(t, "GPGGA,235959.00,4807.038,N,01131.000,E,1,04,1.3,545.4,M,46.9,M,,") +
		"$GPRMC,bad*00\r\n"
	// A GGA of 23:59:58 (late, for a Decoder that remembers the epoch
	// before; dated, for one that remembers the date), then RMC closing
	// the epochs (a Decoder expecting GGA to close them returns fixes
	// without RMC's speed).
	second := sentence(t, "GPGGA,235958.00,4807.100,N,01131.100,E,1,06,0.9,545.4,M,46.9,M,,") +
		sentence(t, "GPGGA,000001.00,4807.100,N,01131.100,E,1,06,0.9,545.4,M,46.9,M,,") +
		sentence(t, "GPRMC,000001.00,A,4807.100,N,01131.100,E,022.4,084.4,071226,,,A") +
		sentence(t, "GPGGA,000002.00,4807.200,N,01131.200,E,1,06,0.9,545.4,M,46.9,M,,") +
		sentence(t, "GPRMC,000002.00,A,4807.200,N,01131.200,E,022.4,084.4,071226,,,A")
	type result struct {
		Fixes []Fix
		Stats Stats
		Sky   []Satellite
		Texts []string
	}
	decode := func(d *Decoder) result {
		var r result
		for {
			f, err := d.Next()
			if err != nil {
				break
			}
			r.Fixes = append(r.Fixes, f)
		}
		r.Stats, r.Sky, r.Texts = d.Stats(), d.Sky(), d.Texts()
		return r
	}
	pivot := RolloverPivot(time.Date(2021, 1, 1, 0, 0, 0, 0, time.UTC))
	reused := NewDecoder(strings.NewReader(first), pivot)
	if got := decode(reused); len(got.Fixes) == 0 || len(got.Sky) == 0 || len(got.Texts) == 0 {
		t.Fatalf("the first input should give a fix, satellites and a text: %+v", got)
	}
	reused.Reset(strings.NewReader(second))
	got := decode(reused)
	want := decode(NewDecoder(strings.NewReader(second), pivot))
	if len(want.Fixes) == 0 {
		t.Fatal("the second input gave no fix")
	}
	// Printed, as NaN (no speed) is not DeepEqual to itself.
	if g, w := fmt.Sprintf("%+v", got), fmt.Sprintf("%+v", want); g != w {
		t.Errorf("after Reset:\n got %s\nwant %s", g, w)
	}
}
