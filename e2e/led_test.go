package e2e

import (
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/headway-transit/headway/drivers/display"
	"github.com/headway-transit/headway/drivers/gps"
)

// TestLEDSign: the LED output (drivers/display, Alpha protocol) drives
// firmware-sim's emulated LED sign through a real PTY: what the board says
// is what the sign prints, a change re-sent, only the line that changed.
func TestLEDSign(t *testing.T) {
	skipShort(t)
	link := filepath.Join(t.TempDir(), "sign")
	sign := start(t, "led-sign", bins.sim, "sign", "-link", link, "-lines", "3")
	eventually(t, 10*time.Second, "the emulated sign's PTY", func() bool { return strings.Contains(sign.output(), "LED sign (3 lines") })
	led := &display.LED{Lines: 3, Width: 24, Open: func() (io.ReadWriteCloser, error) { return gps.Open(link, 9600) }}
	defer led.Close()
	b := display.Board{Banner: "LIVE TIMES MAY BE OUT OF DATE", Rows: []display.Row{
		{Route: "1", Headsign: "University", When: "3 min", Live: true, Stale: true},
		{Route: "2", Headsign: "Lighthouse", When: "08:27"}}}
	if err := led.Show(b, time.Now()); err != nil {
		t.Fatal(err)
	}
	want := []string{"sign: A [red]LIVE TIMES MAY BE OUT...", "sign: B [red]1 University       3 min", "sign: C [amber]2 Lighthouse       08:27"}
	eventually(t, 10*time.Second, "the sign showing the board", func() bool {
		out := sign.output()
		for _, w := range want {
			if !strings.Contains(out, w) {
				return false
			}
		}
		return true
	})
	b.Banner, b.Rows[0].Stale, b.Rows[0].When = "", false, "Due"
	if err := led.Show(b, time.Now()); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "the sign showing the change", func() bool {
		return strings.Contains(sign.output(), "sign: A [green]1 University         Due")
	})
	if led.Errors != 0 {
		t.Errorf("%d write errors", led.Errors)
	}
}
