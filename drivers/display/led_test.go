package display

import (
	"errors"
	"io"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/headway-transit/headway/drivers/display/alpha"
	"github.com/headway-transit/headway/drivers/gps"
)

func TestLEDTexts(t *testing.T) {
	b := Board{Alert: "Route 2 diverted", Rows: []Row{{Route: "1", Headsign: "University", When: "3 min", Live: true}, {Route: "2", Headsign: "Lighthouse via the harbour", When: "08:27"}}}
	ts := LEDTexts(b, 4, 24)
	var got []string
	for _, x := range ts {
		got = append(got, string(x.File)+x.String())
	}
	want := []string{"A[red]! Route 2 diverted", "B[green]1 University       3 min", "C[amber]2 Lighthouse vi... 08:27", "D"}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("line %d: %q, want %q", i, got[i], want[i])
		}
	}
}

// An LED sign on a real PTY: the driver writes Alpha packets, the other
// end decodes them; unchanged lines are not sent again; a line that breaks
// is opened again.
func TestLEDOverPTY(t *testing.T) {
	master, slave, err := pty.Open()
	if err != nil {
		t.Skipf("no PTY: %v", err)
	}
	defer master.Close()
	// The slave stays open for the test: with no slave open, reading the
	// master fails (EIO) instead of waiting for the driver's first write.
	defer slave.Close()
	name := slave.Name()
	opens := 0
	led := &LED{Lines: 2, Width: 20, Open: func() (io.ReadWriteCloser, error) {
		opens++
		return gps.Open(name, 9600) // a serial line in raw mode, as on a sign

	}}
	defer led.Close()
	got := make(chan alpha.Text, 16)
	go func() {
		d := alpha.NewDecoder(master)
		for {
			x, err := d.Next()
			if errors.Is(err, io.EOF) || (err != nil && !errors.Is(err, alpha.ErrChecksum)) {
				return
			}
			if err == nil {
				got <- x
			}
		}
	}()
	now := time.Now()
	b := Board{Rows: []Row{{Route: "1", Headsign: "University", When: "Due", Live: true}}}
	if err := led.Show(b, now); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"[green]1 University     Due", ""} {
		select {
		case x := <-got:
			if x.String() != want {
				t.Errorf("%c: %q, want %q", x.File, x.String(), want)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("the sign got nothing")
		}
	}
	b.Rows[0].When = "1 min"
	if err := led.Show(b, now); err != nil {
		t.Fatal(err)
	}
	select {
	case x := <-got:
		if x.File != 'A' || x.String() != "[green]1 University   1 min" {
			t.Errorf("%c %q", x.File, x.String())
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the change did not reach the sign")
	}
	if led.Writes != 3 || led.Frames != 2 || opens != 1 {
		t.Errorf("writes %d frames %d opens %d: only the changed line is sent again", led.Writes, led.Frames, opens)
	}
}
