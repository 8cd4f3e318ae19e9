package gtfs

import (
	"errors"
	"fmt"
	"time"
)

// Date is a calendar date with no time zone, as GTFS service dates are.
type Date struct {
	Y int
	M time.Month
	D int
}

// DateOf returns the calendar date of t in loc.
func DateOf(t time.Time, loc *time.Location) Date {
	y, m, d := t.In(loc).Date()
	return Date{y, m, d}
}

// ParseDate parses a GTFS date, YYYYMMDD.
func ParseDate(s string) (Date, error) {
	if len(s) != 8 {
		return Date{}, errors.New("want YYYYMMDD")
	}
	n := 0
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return Date{}, errors.New("want YYYYMMDD")
		}
		n = n*10 + int(c-'0')
	}
	d := Date{n / 10000, time.Month(n / 100 % 100), n % 100}
	if d.M < 1 || d.M > 12 || d.D < 1 || d.D > daysIn(d.Y, d.M) {
		return Date{}, errors.New("no such date")
	}
	return d, nil
}

func daysIn(y int, m time.Month) int {
	return time.Date(y, m+1, 0, 12, 0, 0, 0, time.UTC).Day()
}

// noonUTC is the date at noon UTC, the anchor for date arithmetic that no
// time zone rule can disturb.
func (d Date) noonUTC() time.Time { return time.Date(d.Y, d.M, d.D, 12, 0, 0, 0, time.UTC) }

// AddDays returns the date n days after d (before, for negative n).
func (d Date) AddDays(n int) Date {
	y, m, dd := d.noonUTC().AddDate(0, 0, n).Date()
	return Date{y, m, dd}
}

// Weekday returns the day of the week of d.
func (d Date) Weekday() time.Weekday { return d.noonUTC().Weekday() }

// Compare returns -1, 0 or +1 as d is before, equal to or after e.
func (d Date) Compare(e Date) int {
	switch {
	case d.Y != e.Y:
		return cmpInt(d.Y, e.Y)
	case d.M != e.M:
		return cmpInt(int(d.M), int(e.M))
	default:
		return cmpInt(d.D, e.D)
	}
}

func cmpInt(a, b int) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// String formats d as GTFS does, YYYYMMDD.
func (d Date) String() string { return fmt.Sprintf("%04d%02d%02d", d.Y, int(d.M), d.D) }

// ServiceDayStart returns the instant GTFS times on service date d count from:
// noon minus 12 hours in the feed's time zone. On days daylight saving time
// changes this is not midnight, which is the point: a 08:00:00 stop time is
// still 20 hours before noon-plus-eight.
func (f *Feed) ServiceDayStart(d Date) time.Time {
	return time.Date(d.Y, d.M, d.D, 12, 0, 0, 0, f.Location).Add(-12 * time.Hour)
}

// ArrivalAt returns the absolute arrival time at StopTimes[i] on the service
// day starting at dayStart (see Feed.ServiceDayStart).
func (t *Trip) ArrivalAt(dayStart time.Time, i int) time.Time {
	return dayStart.Add(time.Duration(t.StopTimes[i].Arrival) * time.Second)
}

// DepartureAt returns the absolute departure time from StopTimes[i] on the
// service day starting at dayStart.
func (t *Trip) DepartureAt(dayStart time.Time, i int) time.Time {
	return dayStart.Add(time.Duration(t.StopTimes[i].Departure) * time.Second)
}

// maxTimeHours bounds the hour field of a stop time. GTFS lets service days
// run past 24:00; a week is far beyond any real trip and keeps arithmetic safe.
const maxTimeHours = 7 * 24

// ParseTime parses a GTFS time, H:MM:SS or HH:MM:SS, into seconds since the
// start of the service day. Hours may exceed 23.
func ParseTime(s string) (int, error) {
	var h, m, sec int
	i := 0
	for i < len(s) && i < 4 && s[i] >= '0' && s[i] <= '9' {
		h = h*10 + int(s[i]-'0')
		i++
	}
	if i == 0 || i > 3 || len(s) != i+6 || s[i] != ':' || s[i+3] != ':' {
		return 0, errors.New("want H:MM:SS")
	}
	two := func(p string) (int, bool) {
		if p[0] < '0' || p[0] > '9' || p[1] < '0' || p[1] > '9' {
			return 0, false
		}
		return int(p[0]-'0')*10 + int(p[1]-'0'), true
	}
	var ok1, ok2 bool
	m, ok1 = two(s[i+1 : i+3])
	sec, ok2 = two(s[i+4 : i+6])
	switch {
	case !ok1 || !ok2:
		return 0, errors.New("want H:MM:SS")
	case h > maxTimeHours:
		return 0, fmt.Errorf("hours out of range (at most %d)", maxTimeHours)
	case m > 59:
		return 0, errors.New("minutes out of range")
	case sec > 59:
		return 0, errors.New("seconds out of range")
	}
	return h*3600 + m*60 + sec, nil
}

// FormatTime formats seconds since the start of a service day as GTFS does,
// HH:MM:SS.
func FormatTime(secs int) string {
	return fmt.Sprintf("%02d:%02d:%02d", secs/3600, secs/60%60, secs%60)
}
