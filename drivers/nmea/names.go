package nmea

// Type and talker names are interned so that the decoder's hot path does
// not allocate a string per sentence.

// maxInterned bounds the names one Decoder remembers: a noisy line can pass
// the checksum by chance and carry a made-up address.
const maxInterned = 64

type interner struct {
	m map[string]string
}

// intern returns b as a string, shared for names seen before. A nil
// interner allocates for names it does not know.
func (in *interner) intern(b []byte) string {
	// Constant cases compile to comparisons, with no allocation.
	switch string(b) {
	case TypeRMC:
		return TypeRMC
	case TypeGGA:
		return TypeGGA
	case "GSA":
		return "GSA"
	case "GSV":
		return "GSV"
	case "VTG":
		return "VTG"
	case "GLL":
		return "GLL"
	case "ZDA":
		return "ZDA"
	case "GNS":
		return "GNS"
	case "GST":
		return "GST"
	case "TXT":
		return "TXT"
	}
	if in == nil {
		return string(b)
	}
	if s, ok := in.m[string(b)]; ok {
		return s
	}
	s := string(b)
	if len(in.m) < maxInterned {
		if in.m == nil {
			in.m = make(map[string]string)
		}
		in.m[s] = s
	}
	return s
}

func internTalker(b []byte, in *interner) string {
	switch string(b) {
	case "GP":
		return "GP"
	case "GN":
		return "GN"
	case "GL":
		return "GL"
	case "GA":
		return "GA"
	case "BD":
		return "BD"
	case "GB":
		return "GB"
	case "GQ":
		return "GQ"
	case "GI":
		return "GI"
	}
	return in.intern(b)
}
