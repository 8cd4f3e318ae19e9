// Package alpha speaks the Alpha Sign Communications Protocol (Adaptive
// Micro Systems, "Alpha Sign Communications Protocol", pn 9708-8061), the
// serial protocol most LED bus-stop signs understand: Write TEXT file
// packets, one text file per line of the sign, each with its display
// position, mode and colours. Encode builds packets; Decoder reads them
// back (firmware-sim's LED sign emulator, and FuzzDecode).
package alpha

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Control characters of the protocol.
const (
	nul = 0x00
	soh = 0x01
	stx = 0x02
	etx = 0x03
	eot = 0x04
	esc = 0x1b
	// colorCode starts a colour change inside text: 0x1C then a colour.
	colorCode = 0x1c
)

// Type codes and commands used.
const (
	TypeAll        = 'Z' // every sign type
	CmdWriteText   = 'A'
	DefaultAddress = "00" // broadcast
)

// Display positions (ESC then one of these).
const (
	PosMiddle = 0x20
	PosTop    = 0x22
	PosBottom = 0x26
	PosFill   = 0x30
)

// Modes.
const (
	ModeRotate = 'a'
	ModeHold   = 'b'
	ModeFlash  = 'c'
	ModeRollUp = 'e'
)

// Colours.
const (
	Red     = '1'
	Green   = '2'
	Amber   = '3'
	Rainbow = '9'
)

// Text is one Write TEXT file packet: File is the file label ('A'..'Z',
// '0'..'9'), Segments the text in its colours.
type Text struct {
	Address  string // two hex digits; "00" every sign
	File     byte
	Position byte
	Mode     byte
	Segments []Segment
}

// Segment is text in one colour.
type Segment struct {
	Color byte
	Text  string
}

// String is the text as a sign shows it, colours in brackets:
// "[green]1 University 3 min".
func (t Text) String() string {
	var b strings.Builder
	for _, s := range t.Segments {
		fmt.Fprintf(&b, "[%s]%s", colorName(s.Color), s.Text)
	}
	return b.String()
}

func colorName(c byte) string {
	switch c {
	case Red:
		return "red"
	case Green:
		return "green"
	case Amber:
		return "amber"
	case Rainbow:
		return "rainbow"
	}
	return "color-" + string(c)
}

// MaxText bounds a text file's characters (the signs' default file size).
const MaxText = 125

// Encode builds t's packet: the wake-up NULs, SOH, type and address, STX,
// the command, the file, the mode, the text, ETX, the checksum (four hex
// digits of the sum of the bytes from STX through ETX), EOT.
func Encode(t Text) ([]byte, error) {
	addr := t.Address
	if addr == "" {
		addr = DefaultAddress
	}
	if len(addr) != 2 || !isHex(addr[0]) || !isHex(addr[1]) {
		return nil, fmt.Errorf("alpha: address %q: want two hex digits", addr)
	}
	if !(t.File >= 'A' && t.File <= 'Z' || t.File >= '0' && t.File <= '9') {
		return nil, fmt.Errorf("alpha: file label %q: want A-Z or 0-9", t.File)
	}
	var body bytes.Buffer
	body.WriteByte(stx)
	body.WriteByte(CmdWriteText)
	body.WriteByte(t.File)
	body.WriteByte(esc)
	body.WriteByte(cmpByte(t.Position, PosFill))
	body.WriteByte(cmpByte(t.Mode, ModeHold))
	n := 0
	for _, s := range t.Segments {
		body.WriteByte(colorCode)
		body.WriteByte(cmpByte(s.Color, Amber))
		for _, r := range s.Text {
			if n == MaxText {
				break
			}
			c := byte('?') // the signs' character set is ASCII
			if r >= 0x20 && r < 0x7f {
				c = byte(r)
			}
			body.WriteByte(c)
			n++
		}
	}
	body.WriteByte(etx)
	sum := 0
	for _, c := range body.Bytes() {
		sum += int(c)
	}
	var out bytes.Buffer
	out.Write([]byte{nul, nul, nul, nul, nul, soh, TypeAll})
	out.WriteString(addr)
	out.Write(body.Bytes())
	fmt.Fprintf(&out, "%04X", sum&0xffff)
	out.WriteByte(eot)
	return out.Bytes(), nil
}

func cmpByte(b, def byte) byte {
	if b == 0 {
		return def
	}
	return b
}

func isHex(c byte) bool { return c >= '0' && c <= '9' || c >= 'A' && c <= 'F' || c >= 'a' && c <= 'f' }

// maxPacket bounds what the decoder buffers for one packet.
const maxPacket = 4096

// Decoder reads packets from a serial line.
type Decoder struct{ r *bufio.Reader }

// NewDecoder reads from r.
func NewDecoder(r io.Reader) *Decoder { return &Decoder{r: bufio.NewReader(r)} }

// ErrChecksum is a packet whose checksum does not match: a garbled line.
var ErrChecksum = errors.New("alpha: checksum mismatch")

// Next returns the next Write TEXT packet. Bytes before an SOH are noise
// and skipped; a malformed packet is an error naming what was wrong, and
// the decoder goes on from the next SOH.
func (d *Decoder) Next() (Text, error) {
	for {
		c, err := d.r.ReadByte()
		if err != nil {
			return Text{}, err
		}
		if c == soh {
			break
		}
	}
	var pkt []byte
	for {
		c, err := d.r.ReadByte()
		if err != nil {
			return Text{}, fmt.Errorf("alpha: packet cut short: %w", err)
		}
		if c == eot {
			break
		}
		if c == soh {
			return Text{}, errors.New("alpha: packet cut short: a new SOH before EOT")
		}
		if len(pkt) == maxPacket {
			return Text{}, fmt.Errorf("alpha: packet longer than %d bytes", maxPacket)
		}
		pkt = append(pkt, c)
	}
	return parse(pkt)
}

// parse reads one packet between SOH and EOT.
func parse(p []byte) (Text, error) {
	var t Text
	if len(p) < 3 {
		return t, errors.New("alpha: packet too short for a type and address")
	}
	t.Address = string(p[1:3])
	if !isHex(p[1]) || !isHex(p[2]) {
		return t, fmt.Errorf("alpha: address %q is not two hex digits", t.Address)
	}
	p = p[3:]
	if len(p) < 1 || p[0] != stx {
		return t, errors.New("alpha: no STX after the address")
	}
	body := p
	// With a checksum: ... ETX hhhh.
	if i := bytes.LastIndexByte(p, etx); i >= 0 {
		if len(p)-i-1 != 4 {
			return t, errors.New("alpha: ETX not followed by a 4-digit checksum")
		}
		var want int
		if _, err := fmt.Sscanf(string(p[i+1:]), "%04X", &want); err != nil {
			return t, fmt.Errorf("alpha: checksum %q: %w", p[i+1:], err)
		}
		sum := 0
		for _, c := range p[:i+1] {
			sum += int(c)
		}
		if sum&0xffff != want {
			return t, ErrChecksum
		}
		body = p[:i]
	}
	body = body[1:] // STX
	if len(body) < 2 || body[0] != CmdWriteText {
		return t, fmt.Errorf("alpha: command %q is not Write TEXT", string(body[:min(1, len(body))]))
	}
	t.File = body[1]
	body = body[2:]
	if len(body) >= 3 && body[0] == esc {
		t.Position, t.Mode = body[1], body[2]
		body = body[3:]
	}
	cur := Segment{Color: Amber}
	for i := 0; i < len(body); i++ {
		c := body[i]
		switch {
		case c == colorCode && i+1 < len(body):
			if cur.Text != "" {
				t.Segments = append(t.Segments, cur)
			}
			cur = Segment{Color: body[i+1]}
			i++
		case c >= 0x20 && c < 0x7f:
			cur.Text += string(c)
		}
	}
	if cur.Text != "" {
		t.Segments = append(t.Segments, cur)
	}
	return t, nil
}
