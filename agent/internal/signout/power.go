package signout

import (
	"context"
	"fmt"
	"time"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpioreg"
	"periph.io/x/host/v3"

	"github.com/headway-transit/headway/agent/internal/station"
)

// OpenPowerPin opens c's power-fail input on this machine's GPIO
// (periph.io/x/host: a Raspberry Pi's gpiochip), and the level that means
// the power is failing.
func OpenPowerPin(c station.PowerFailConfig) (gpio.PinIn, gpio.Level, error) {
	if _, err := host.Init(); err != nil {
		return nil, gpio.Low, fmt.Errorf("power_fail: periph host: %w", err)
	}
	p := gpioreg.ByName(c.Pin)
	if p == nil {
		return nil, gpio.Low, fmt.Errorf("power_fail: pin %s: not on this machine", c.Pin)
	}
	if c.Active == "high" {
		return p, gpio.High, nil
	}
	return p, gpio.Low, nil
}

// pinPoll bounds a wait for an edge: the level is read again at least this
// often, should an edge be missed.
const pinPoll = time.Second

// WatchPower follows pin until ctx is done and tells r whenever the power
// starts or stops failing (pin at active: failing). The pin is pulled to
// the other level, so an unplugged wire reads as power present.
func WatchPower(ctx context.Context, pin gpio.PinIn, active gpio.Level, r *Runner) error {
	pull := gpio.PullUp
	if active == gpio.High {
		pull = gpio.PullDown
	}
	if err := pin.In(pull, gpio.BothEdges); err != nil {
		return fmt.Errorf("power_fail: pin %s: %w", pin, err)
	}
	known, was := false, false
	for ctx.Err() == nil {
		failing := pin.Read() == active
		if !known || failing != was {
			r.PowerFail(failing)
			known, was = true, failing
		}
		pin.WaitForEdge(pinPoll)
	}
	return nil
}
