package gps

import (
	"strings"
	"testing"

	"github.com/headway-transit/headway/drivers/nmea"
)

// TestSkyKept checks that the sky and the receiver's texts of a lost
// session stay in Stats until the next session has its own: receivers
// send their identity mostly at power-up.
func TestSkyKept(t *testing.T) {
	var log []byte
	for _, body := range []string{
		"GPGSV,1,1,02,05,45,120,42,12,70,300,47",
		"GPTXT,01,01,02,ANTSTATUS=OK",
	} {
		log = nmea.AppendChecksum(log, []byte(body))
	}
	old := nmea.NewDecoder(strings.NewReader(string(log)))
	for {
		if _, err := old.Next(); err != nil {
			break
		}
	}
	var s sky
	s.keep(old)
	fresh := nmea.NewDecoder(strings.NewReader(""))
	tests := []struct {
		name string
		dec  *nmea.Decoder
	}{
		{name: "disconnected", dec: nil},
		{name: "new session, nothing yet", dec: fresh},
		{name: "same session", dec: old},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sats, texts := s.current(tt.dec)
			if len(sats) != 2 || len(texts) != 1 || texts[0] != "ANTSTATUS=OK" {
				t.Errorf("current = %+v, %q; want 2 satellites and the text", sats, texts)
			}
		})
	}
}
