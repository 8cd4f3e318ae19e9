// Package profile describes what real GPS receivers send: which sentences,
// from which talkers, in what order per epoch, which only once a second or
// less, what they print at power-up, their default baud rate and how many
// decimals they write. The descriptions follow the logs of real receivers
// in gpsd's regression suite (u-blox, SiRF, MediaTek, Quectel); they are
// written from the formats, not copied from the logs.
package profile

import (
	"fmt"
	"slices"
	"strings"

	"github.com/headway-transit/headway/drivers/nmea"
)

// Satellite systems a profile tracks.
const (
	GPS     = nmea.SystemGPS
	GLONASS = nmea.SystemGLONASS
)

// Sentence is one sentence of an epoch.
type Sentence struct {
	Talker string // "GP", "GN", "GL"
	Type   string // nmea.TypeRMC, TypeGGA, TypeGNS, TypeGLL, TypeVTG, TypeGSA, TypeGSV, TypeZDA
	// System restricts GSA, GSV and GGA to one system's satellites (GSA
	// lists those used, GSV those in view, GGA counts those used); ""
	// means all the profile tracks.
	System string
	// Every sends the sentence once every Every seconds, on the epochs at
	// the start of a second, however fast the rate; 0 sends it every
	// epoch. MediaTek and SiRF receivers send GSV every 5 s by default.
	Every int
}

// Profile is one make of receiver.
type Profile struct {
	Name        string
	Description string
	Epoch       []Sentence // in the order the receiver sends them
	// Boot holds the bodies (between '$' and '*') of the sentences sent
	// at power-up, before the first epoch: TXT banners, proprietary
	// identity and acknowledgement lines.
	Boot    []string
	Systems []string // satellite systems tracked: GPS, and GLONASS for multi-GNSS receivers
	Baud    int      // default serial rate
	Format  nmea.Format
	// GNSModes is the mode field of GNS, one letter per system.
	GNSModes string
}

// Generic is the name of the plain profile: GPRMC then GPGGA, default
// decimals, as the simulator sent before it had profiles.
const Generic = "generic"

// All returns every profile, Generic first.
func All() []Profile {
	return []Profile{
		{
			Name:        Generic,
			Description: "RMC then GGA, GPS talker: the minimum an agent needs",
			Epoch:       []Sentence{{Talker: "GP", Type: nmea.TypeRMC}, {Talker: "GP", Type: nmea.TypeGGA}},
			Systems:     []string{GPS},
			Baud:        9600,
		},
		{
			// u-blox 6/7/8: GN talker for the combined solution, one GNGSA
			// per system, GSV under each system's own talker, GLL last.
			// Times with two decimals, minutes with five. The TXT banner
			// names the company, hardware, firmware and antenna state.
			Name:        "ublox-m8",
			Description: "u-blox NEO-M8N (GPS+GLONASS): GNRMC GNVTG GNGGA GNGSA×2 GPGSV GLGSV GNGLL, TXT banner",
			Epoch: []Sentence{
				{Talker: "GN", Type: nmea.TypeRMC},
				{Talker: "GN", Type: nmea.TypeVTG},
				{Talker: "GN", Type: nmea.TypeGGA},
				{Talker: "GN", Type: nmea.TypeGSA, System: GPS},
				{Talker: "GN", Type: nmea.TypeGSA, System: GLONASS},
				{Talker: "GP", Type: nmea.TypeGSV, System: GPS, Every: 1},
				{Talker: "GL", Type: nmea.TypeGSV, System: GLONASS, Every: 1},
				{Talker: "GN", Type: nmea.TypeGLL},
			},
			Boot: []string{
				"GPTXT,01,01,02,u-blox AG - www.u-blox.com",
				"GPTXT,01,01,02,HW UBX-M8030 00080000",
				"GPTXT,01,01,02,ROM CORE 3.01 (107888)",
				"GPTXT,01,01,02,FWVER=SPG 3.01",
				"GPTXT,01,01,02,PROTVER=18.00",
				"GPTXT,01,01,02,GPS;GLO;GAL;BDS",
				"GPTXT,01,01,02,SBAS;IMES;QZSS",
				"GPTXT,01,01,02,GNSS OTP=GPS;GLO",
				"GPTXT,01,01,02,ANTSUPERV=AC SD PDoS SR",
				"GPTXT,01,01,02,ANTSTATUS=OK",
			},
			Systems: []string{GPS, GLONASS},
			Baud:    9600,
			Format:  nmea.Format{TimeDecimals: 2, MinuteDecimals: 5, DOPDecimals: 2, SpeedDecimals: 3, AltDecimals: 1},
		},
		{
			// SiRFstar IV (e.g. GlobalSat BU-353S4): GGA first, GSA, GSV
			// every 5 s, RMC last; three decimals of a second, four of a
			// minute, one of the DOPs; 4800 baud.
			Name:        "sirf-star4",
			Description: "SiRFstar IV (GPS): GPGGA GPGSA [GPGSV every 5 s] GPRMC, 4800 baud",
			Epoch: []Sentence{
				{Talker: "GP", Type: nmea.TypeGGA},
				{Talker: "GP", Type: nmea.TypeGSA},
				{Talker: "GP", Type: nmea.TypeGSV, Every: 5},
				{Talker: "GP", Type: nmea.TypeRMC},
			},
			Boot: []string{
				"PSRFTXT,Version:GSD4e_4.1.2-P1 R+ 11/15/2011 319-Nov 15 2011-23:04",
				"PSRFTXT,TOW:  0",
				"PSRFTXT,WK:   1",
				"PSRFTXT,POS:  6378137 0 0",
				"PSRFTXT,CLK:  96250",
				"PSRFTXT,CHNL: 48",
				"PSRFTXT,Baud rate: 4800",
			},
			Systems: []string{GPS},
			Baud:    4800,
			Format:  nmea.Format{TimeDecimals: 3, MinuteDecimals: 4, DOPDecimals: 1, SpeedDecimals: 2, AltDecimals: 1},
		},
		{
			// MediaTek MT3339 (Adafruit Ultimate GPS and many modules):
			// GGA GSA GSV RMC VTG, GSV at most once a second; PMTK011 and
			// PMTK010 (startup) at power-up.
			Name:        "mtk3339",
			Description: "MediaTek MT3339 (GPS): GPGGA GPGSA GPGSV GPRMC GPVTG, PMTK at boot",
			Epoch: []Sentence{
				{Talker: "GP", Type: nmea.TypeGGA},
				{Talker: "GP", Type: nmea.TypeGSA},
				{Talker: "GP", Type: nmea.TypeGSV, Every: 1},
				{Talker: "GP", Type: nmea.TypeRMC},
				{Talker: "GP", Type: nmea.TypeVTG},
			},
			Boot:    []string{"PMTK011,MTKGPS", "PMTK010,001"},
			Systems: []string{GPS},
			Baud:    9600,
			Format:  nmea.Format{TimeDecimals: 3, MinuteDecimals: 4, DOPDecimals: 2, SpeedDecimals: 2, AltDecimals: 1},
		},
		{
			// Quectel L70 (MediaTek inside): RMC VTG GGA GSA GSV GLL by
			// default, ZDA when enabled, as here; PMTK startup and the
			// PQVERNO version line at power-up.
			Name:        "quectel-l70",
			Description: "Quectel L70 (GPS): GPZDA GPRMC GPVTG GPGGA GPGSA GPGSV GPGLL, PMTK/PQVERNO at boot",
			Epoch: []Sentence{
				{Talker: "GP", Type: nmea.TypeZDA},
				{Talker: "GP", Type: nmea.TypeRMC},
				{Talker: "GP", Type: nmea.TypeVTG},
				{Talker: "GP", Type: nmea.TypeGGA},
				{Talker: "GP", Type: nmea.TypeGSA},
				{Talker: "GP", Type: nmea.TypeGSV, Every: 1},
				{Talker: "GP", Type: nmea.TypeGLL},
			},
			Boot:    []string{"PMTK011,MTKGPS", "PMTK010,001", "PMTK705,AXN_2.51_3339_19071200,0002,QUECTEL-L70,1.0"},
			Systems: []string{GPS},
			Baud:    9600,
			Format:  nmea.Format{TimeDecimals: 3, MinuteDecimals: 4, DOPDecimals: 2, SpeedDecimals: 2, AltDecimals: 1},
		},
	}
}

// Names returns the profile names, Generic first.
func Names() []string {
	var out []string
	for _, p := range All() {
		out = append(out, p.Name)
	}
	return out
}

// Lookup returns the profile called name; "" is Generic.
func Lookup(name string) (Profile, error) {
	if name == "" {
		name = Generic
	}
	all := All()
	if i := slices.IndexFunc(all, func(p Profile) bool { return p.Name == name }); i >= 0 {
		return all[i], nil
	}
	return Profile{}, fmt.Errorf("unknown receiver profile %q: want one of %s", name, strings.Join(Names(), ", "))
}

// Tracks reports whether p tracks satellites of system.
func (p Profile) Tracks(system string) bool { return slices.Contains(p.Systems, system) }
