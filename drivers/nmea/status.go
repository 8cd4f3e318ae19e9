package nmea

// Status says how a fix was obtained. Its values are gpsd's TPV "status"
// numbers, so a TPV writer can print it as is. Whether there is a fix at
// all is [Mode]'s business: a fix with Mode below Mode2D has StatusUnknown.
type Status int

const (
	// StatusUnknown: no fix, or no sentence said how it was obtained.
	StatusUnknown Status = 0
	// StatusGPS: an autonomous GNSS fix (GGA quality 1, FAA mode 'A').
	StatusGPS Status = 1
	// StatusDGPS: a fix corrected by differential data, SBAS included
	// (GGA quality 2, FAA mode 'D').
	StatusDGPS Status = 2
	// StatusRTKFixed: RTK with integer ambiguities fixed, centimetres
	// (GGA quality 4, FAA mode 'R').
	StatusRTKFixed Status = 3
	// StatusRTKFloat: RTK with float ambiguities, decimetres
	// (GGA quality 5, FAA mode 'F').
	StatusRTKFloat Status = 4
	// StatusDR: dead reckoning, an estimate carried on from the last fix
	// without satellites (GGA quality 6, FAA mode 'E'). Not a measurement.
	StatusDR Status = 5
	// StatusGNSSDR: GNSS combined with dead reckoning. No NMEA field
	// reports it; it is here to keep gpsd's numbering.
	StatusGNSSDR Status = 6
	// StatusManual: a position typed in by hand or surveyed, not measured
	// now (GGA quality 7, FAA mode 'M'). gpsd calls it "time".
	StatusManual Status = 7
	// StatusSimulated: the receiver's demo or simulator mode
	// (GGA quality 8, FAA mode 'S'). Not a real position.
	StatusSimulated Status = 8
	// StatusPPS: a precise (P-code, military) fix (GGA quality 3,
	// FAA mode 'P').
	StatusPPS Status = 9
)

func (s Status) String() string {
	switch s {
	case StatusUnknown:
		return "unknown"
	case StatusGPS:
		return "gps"
	case StatusDGPS:
		return "dgps"
	case StatusRTKFixed:
		return "rtk-fixed"
	case StatusRTKFloat:
		return "rtk-float"
	case StatusDR:
		return "dead-reckoning"
	case StatusGNSSDR:
		return "gnss-dr"
	case StatusManual:
		return "manual"
	case StatusSimulated:
		return "simulated"
	case StatusPPS:
		return "pps"
	}
	return "status(" + itoa(int(s)) + ")"
}

// Measured reports whether s stands for a position measured from
// satellites now. Dead reckoning, manual and simulated positions are not:
// a vehicle must not publish them as where it is.
func (s Status) Measured() bool {
	switch s {
	case StatusGPS, StatusDGPS, StatusRTKFixed, StatusRTKFloat, StatusGNSSDR, StatusPPS:
		return true
	}
	return false
}

// statusFromQuality maps a GGA quality indicator; ok is false for 0 (no
// fix) and values the standard does not define.
func statusFromQuality(q int) (Status, bool) {
	switch q {
	case 1:
		return StatusGPS, true
	case 2:
		return StatusDGPS, true
	case 3:
		return StatusPPS, true
	case 4:
		return StatusRTKFixed, true
	case 5:
		return StatusRTKFloat, true
	case 6:
		return StatusDR, true
	case 7:
		return StatusManual, true
	case 8:
		return StatusSimulated, true
	}
	return StatusUnknown, false
}

// statusFromFAA maps an NMEA 2.3+ FAA mode indicator (RMC, GLL, VTG, and
// each character of GNS). ok is false for 'N' (not valid) and unknown
// letters; a missing indicator (0) is not ok either.
func statusFromFAA(m byte) (Status, bool) {
	switch m {
	case 'A':
		return StatusGPS, true
	case 'D':
		return StatusDGPS, true
	case 'P':
		return StatusPPS, true
	case 'R':
		return StatusRTKFixed, true
	case 'F':
		return StatusRTKFloat, true
	case 'E':
		return StatusDR, true
	case 'M':
		return StatusManual, true
	case 'S':
		return StatusSimulated, true
	}
	return StatusUnknown, false
}

// rank orders statuses by how good a measurement they are, for choosing
// the best among several systems in a GNS mode string. Non-measurements
// rank lowest so that one real system outweighs an estimate.
func (s Status) rank() int {
	switch s {
	case StatusRTKFixed:
		return 6
	case StatusRTKFloat:
		return 5
	case StatusDGPS, StatusPPS:
		return 4
	case StatusGPS, StatusGNSSDR:
		return 3
	case StatusDR:
		return 2
	case StatusManual:
		return 1
	}
	return 0
}
