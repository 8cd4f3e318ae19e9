package receiver

import (
	"math"
	"time"

	"github.com/headway-transit/headway/drivers/nmea"
	"github.com/headway-transit/headway/firmware-sim/internal/faults"
	"github.com/headway-transit/headway/firmware-sim/internal/motion"
	"github.com/headway-transit/headway/internal/geo"
)

// noiseTau is the correlation time of the position noise: real receivers'
// errors wander over tens of seconds rather than jumping each epoch.
const noiseTau = 60 * time.Second

// measure is what the receiver makes of the true state s this epoch.
func (r *Receiver) measure(s motion.State, fe faults.Epoch) nmea.Fix {
	e := r.emu
	r.stepNoise()
	since := s.Time.Sub(e.t0)
	cold := since < e.opts.ColdStart.D()
	tracked := !fe.FixLoss && !(cold && since < e.opts.ColdStart.D()/2)
	e.view = e.sky.view(s.Time, tracked, e.view)
	used := 0
	for _, v := range e.view {
		if v.used {
			used++
		}
	}
	nan := math.NaN()
	e.pdop, e.hdop, e.vdop = dops(e.view)
	f := nmea.Fix{Time: s.Time.Add(fe.ClockOffset).UTC(), Mode: nmea.ModeNoFix, Lat: nan, Lon: nan,
		AltMSL: nan, AltHAE: nan, Speed: nan, Track: nan, HDOP: nan, PDOP: nan, VDOP: nan, Sats: used}
	if cold && since < e.opts.ColdStart.D()/2 {
		f.Time = time.Time{} // no time yet: a cold receiver leaves the fields empty
	}
	if cold || fe.FixLoss || used < 4 || math.IsNaN(e.hdop) {
		f.Sats = 0
		e.pdop, e.hdop, e.vdop = nan, nan, nan
		for i := range e.view {
			e.view[i].used = false
		}
		return f
	}
	p := s.Point()
	if d := math.Hypot(e.north, e.east); d > 0 {
		p = geo.Offset(p, math.Atan2(e.east, e.north)*180/math.Pi, d)
	}
	if fe.JumpDist > 0 {
		p = geo.Offset(p, fe.JumpBearing, fe.JumpDist)
	}
	f.Mode = nmea.Mode3D
	f.Lat, f.Lon = p.Lat, p.Lon
	f.AltMSL = e.opts.AltMSL + e.up
	f.AltHAE = f.AltMSL + e.opts.GeoidSep
	f.Speed, f.Track = s.Speed, s.Track
	f.HDOP, f.PDOP, f.VDOP = e.hdop, e.pdop, e.vdop
	return f
}

// stepNoise advances the Gauss-Markov position error by one epoch. It
// draws every epoch, fix or not, so faults do not shift the noise.
func (r *Receiver) stepNoise() {
	e := r.emu
	sigma := e.opts.NoiseM
	if sigma <= 0 {
		return
	}
	rho := math.Exp(-e.interval.Seconds() / noiseTau.Seconds())
	step := func(x, sd float64) float64 {
		if e.epochs == 0 {
			x = sd * e.noise.NormFloat64()
		} else {
			x = rho*x + sd*math.Sqrt(1-rho*rho)*e.noise.NormFloat64()
		}
		return max(-3*sd, min(3*sd, x))
	}
	e.north = step(e.north, sigma)
	e.east = step(e.east, sigma)
	e.up = step(e.up, 1.5*sigma)
}

// appendEpoch appends the profile's sentences for f.
func (r *Receiver) appendEpoch(dst []byte, f nmea.Fix) []byte {
	e := r.emu
	ft := e.prof.Format
	rate := int(time.Second / e.interval)
	fixType := 1
	if f.Mode == nmea.Mode3D {
		fixType = 3
	}
	for _, sn := range e.prof.Epoch {
		if sn.Every > 0 && e.epochs%(sn.Every*rate) != 0 {
			continue
		}
		start := len(dst)
		switch sn.Type {
		case nmea.TypeRMC:
			dst = nmea.AppendRMCFormat(dst, sn.Talker, f, ft)
		case nmea.TypeGGA:
			dst = nmea.AppendGGAFormat(dst, sn.Talker, f, ft)
		case nmea.TypeGNS:
			dst = nmea.AppendGNS(dst, sn.Talker, f, e.prof.GNSModes, ft)
		case nmea.TypeGLL:
			dst = nmea.AppendGLL(dst, sn.Talker, f, ft)
		case nmea.TypeVTG:
			dst = nmea.AppendVTG(dst, sn.Talker, f, ft)
		case nmea.TypeZDA:
			dst = nmea.AppendZDA(dst, sn.Talker, f.Time, ft)
		case nmea.TypeGSA:
			dst = nmea.AppendGSA(dst, sn.Talker, gsa(e.view, sn.System, fixType, e.pdop, e.hdop, e.vdop), ft)
		case nmea.TypeGSV:
			dst = appendGSV(dst, sn.Talker, sn.System, e.view, r.sentence)
			continue // each part went through the faults already
		default:
			continue
		}
		dst = r.sentence(dst, start)
	}
	return dst
}
