package display

// Board is what a sign shows, in display terms.
type Board struct {
	Title string // the stop's name
	Clock string // "08:15"
	// Banner, when set, is a line across the top in the warning colour:
	// "LIVE TIMES MAY BE OUT OF DATE", "SCHEDULED TIMES ONLY", "STOP CLOSED".
	Banner string
	// Alert is the service alert to show now (a sign with several rotates
	// them, one per frame); empty: none.
	Alert string
	Rows  []Row
	// Empty is what to say when there are no rows ("No departures").
	Empty string
}

// Row is one departure.
type Row struct {
	Route    string // route short name
	Headsign string
	When     string // "Due", "5 min", "08:15"
	Live     bool   // a realtime time, not the timetable's
	Stale    bool   // a realtime time the sign could not refresh
}
