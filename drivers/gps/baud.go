package gps

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Auto is the Config.Baud that makes a Receiver hunt for the receiver's
// rate instead of using a fixed one.
const Auto = 0

// DefaultBaud is the rate Auto tries first when no rate has worked yet:
// most receivers sold today ship at 9600.
const DefaultBaud = 9600

// Rates returns the baud rates Auto tries and ParseBaud accepts.
func Rates() []int { return []int{4800, 9600, 19200, 38400, 57600, 115200} }

// Hunting: at each rate the Receiver listens for probeWindow and moves on
// unless probeSentences checksummed sentences arrived. Receivers talk at
// least once a second, so a window of 1.5 s holds at least one burst of
// sentences. At a wrong rate the UART delivers framing noise that never
// passes a checksum (the decoder counts it as garbage and checksum
// rejects), so a single window tells the rates apart; a whole sweep takes
// at most 9 s.
const (
	probeWindow    = 1500 * time.Millisecond
	probeSentences = 2
)

// ParseBaud parses a command line or config baud rate: "auto" (or "")
// gives Auto, a number must be one of Rates.
func ParseBaud(s string) (int, error) {
	s = strings.TrimSpace(s)
	if s == "" || strings.EqualFold(s, "auto") {
		return Auto, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || !slices.Contains(Rates(), n) {
		return 0, fmt.Errorf("baud rate %q: want auto or one of %v", s, Rates())
	}
	return n, nil
}

// huntOrder returns the rates to try: the one that worked last (or
// DefaultBaud) first, then the others in ascending order.
func huntOrder(lastGood int) []int {
	if lastGood == 0 {
		lastGood = DefaultBaud
	}
	order := []int{lastGood}
	for _, b := range Rates() {
		if b != lastGood {
			order = append(order, b)
		}
	}
	return order
}
