package predict

import (
	"math"
	"time"
)

// decaying is a sum whose terms weigh less as they age.
type decaying struct {
	sum, weight float64
	at          time.Time
}

func (d *decaying) add(x float64, at time.Time, tau time.Duration) {
	d.sum, d.weight = d.get(at, tau)
	d.sum += x
	d.weight++
	if at.After(d.at) {
		d.at = at
	}
}

// get returns the sum and weight as of now.
func (d *decaying) get(now time.Time, tau time.Duration) (sum, weight float64) {
	if !now.After(d.at) {
		return d.sum, d.weight
	}
	k := math.Exp(-float64(now.Sub(d.at)) / float64(tau))
	return d.sum * k, d.weight * k
}
