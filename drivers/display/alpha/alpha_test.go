package alpha

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
)

func TestRoundTrip(t *testing.T) {
	in := Text{File: 'B', Position: PosTop, Mode: ModeHold, Segments: []Segment{{Green, "1 University"}, {Amber, " 3 min"}}}
	b, err := Encode(in)
	if err != nil {
		t.Fatal(err)
	}
	// Wake-up NULs, SOH, "Z00", STX, "AB", ESC, position, mode ...
	if !bytes.HasPrefix(b, []byte("\x00\x00\x00\x00\x00\x01Z00\x02AB\x1b\x22b\x1c2")) || b[len(b)-1] != eot {
		t.Fatalf("packet % x", b)
	}
	// Noise on the line before it, another packet after it.
	b2, _ := Encode(Text{File: 'C', Segments: []Segment{{Red, "STOP CLOSED"}}})
	d := NewDecoder(bytes.NewReader(append(append([]byte("garbage\xff"), b...), b2...)))
	got, err := d.Next()
	if err != nil {
		t.Fatal(err)
	}
	if got.File != 'B' || got.Position != PosTop || got.Mode != ModeHold || got.String() != "[green]1 University[amber] 3 min" {
		t.Errorf("%+v %s", got, got)
	}
	got, err = d.Next()
	if err != nil || got.String() != "[red]STOP CLOSED" || got.Position != PosFill {
		t.Errorf("%+v %v", got, err)
	}
	if _, err := d.Next(); !errors.Is(err, io.EOF) {
		t.Errorf("after the last packet: %v", err)
	}
}

func TestRefuses(t *testing.T) {
	good, _ := Encode(Text{File: 'A', Segments: []Segment{{Green, "ok"}}})
	bad := bytes.Clone(good)
	bad[len(bad)-8] ^= 0x01 // a bit flipped in the text
	for _, c := range []struct {
		name string
		b    []byte
		want string
	}{
		{"checksum", bad, "checksum mismatch"},
		{"cut", good[:len(good)-3], "cut short"},
		{"address", []byte("\x01ZXY\x02AA\x04"), "not two hex digits"},
		{"command", []byte("\x01Z00\x02E$\x04"), "is not Write TEXT"},
		{"no stx", []byte("\x01Z00AA\x04"), "no STX"},
	} {
		if _, err := NewDecoder(bytes.NewReader(c.b)).Next(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err %v, want %q", c.name, err, c.want)
		}
	}
	if _, err := Encode(Text{File: '#'}); err == nil {
		t.Error("file label # encoded")
	}
	long, _ := Encode(Text{File: 'A', Segments: []Segment{{Green, strings.Repeat("x", 300) + "é"}}})
	got, err := NewDecoder(bytes.NewReader(long)).Next()
	if err != nil || len(got.Segments[0].Text) != MaxText {
		t.Errorf("a long text: %d characters, %v", len(got.Segments[0].Text), err)
	}
}

func FuzzDecode(f *testing.F) {
	good, _ := Encode(Text{File: 'A', Segments: []Segment{{Green, "1 University 3 min"}}})
	f.Add(good)
	f.Add([]byte("\x01Z00\x02AA\x1b0b\x1c"))
	f.Fuzz(func(t *testing.T, b []byte) {
		d := NewDecoder(bytes.NewReader(b))
		for range 100 {
			tx, err := d.Next()
			if errors.Is(err, io.EOF) || (err != nil && strings.Contains(err.Error(), "cut short")) {
				return
			}
			if err == nil && len(tx.Address) != 2 {
				t.Fatalf("address %q", tx.Address)
			}
		}
	})
}
