package gtfs

import (
	"errors"
	"io/fs"
	"strings"
)

// Service is a set of dates on which trips run, from calendar.txt (a weekly
// pattern between Start and End) and calendar_dates.txt (exceptions). A
// service only in calendar_dates.txt has a zero Start and End and no Days.
type Service struct {
	ID         string
	Days       [7]bool // indexed by time.Weekday
	Start, End Date    // inclusive
	Added      map[Date]bool
	Removed    map[Date]bool
}

// RunsOn reports whether the service runs on service date d.
func (s *Service) RunsOn(d Date) bool {
	switch {
	case s.Removed[d]:
		return false
	case s.Added[d]:
		return true
	}
	return s.Days[d.Weekday()] && d.Compare(s.Start) >= 0 && d.Compare(s.End) <= 0
}

// ServiceRunsOn reports whether the service serviceID runs on service date d.
// An unknown service never runs.
func (f *Feed) ServiceRunsOn(serviceID string, d Date) bool {
	s := f.Services[serviceID]
	return s != nil && s.RunsOn(d)
}

var weekdayCols = [7]string{"sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"}

// loadServices reads calendar.txt and calendar_dates.txt; at least one of
// them must exist.
func (l *loader) loadServices() error {
	l.feed.Services = map[string]*Service{}
	found := 0
	t, err := l.openTable("calendar.txt", append([]string{"service_id", "start_date", "end_date"}, weekdayCols[:]...)...)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return err
	default:
		found++
		err := l.readCalendar(t)
		t.close()
		if err != nil {
			return err
		}
	}
	t, err = l.openTable("calendar_dates.txt", "service_id", "date", "exception_type")
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return err
	default:
		found++
		err := l.readCalendarDates(t)
		t.close()
		if err != nil {
			return err
		}
	}
	if found == 0 {
		return &ParseError{File: "calendar.txt", Err: errors.New("missing: a feed needs calendar.txt, calendar_dates.txt or both")}
	}
	return nil
}

func (l *loader) readCalendar(t *table) error {
	for {
		ok, err := t.next()
		if err != nil {
			return err
		}
		if !ok {
			return nil
		}
		id := t.id("service_id")
		if id == "" {
			l.add(t.fieldError("service_id", id, "empty"))
			continue
		}
		if _, dup := l.feed.Services[id]; dup {
			l.add(t.fieldError("service_id", id, "defined twice"))
			continue
		}
		s := &Service{ID: id}
		for wd, col := range weekdayCols {
			switch v := t.get(col); v {
			case "1":
				s.Days[wd] = true
			case "0":
			default:
				l.add(t.fieldError(col, v, "want 0 or 1"))
			}
		}
		var err1, err2 error
		if s.Start, err1 = ParseDate(t.get("start_date")); err1 != nil {
			l.add(t.fieldError("start_date", t.get("start_date"), "%v", err1))
		}
		if s.End, err2 = ParseDate(t.get("end_date")); err2 != nil {
			l.add(t.fieldError("end_date", t.get("end_date"), "%v", err2))
		}
		if err1 == nil && err2 == nil && s.End.Compare(s.Start) < 0 {
			l.warnf(t.file, t.line, "service %s ends (%s) before it starts (%s): it never runs by weekday", id, s.End, s.Start)
		}
		l.feed.Services[id] = s
	}
}

func (l *loader) readCalendarDates(t *table) error {
	for {
		ok, err := t.next()
		if err != nil {
			return err
		}
		if !ok {
			return nil
		}
		id := t.get("service_id")
		if id == "" {
			l.add(t.fieldError("service_id", id, "empty"))
			continue
		}
		d, err := ParseDate(t.get("date"))
		if err != nil {
			l.add(t.fieldError("date", t.get("date"), "%v", err))
			continue
		}
		s := l.feed.Services[id]
		if s == nil {
			s = &Service{ID: strings.Clone(id)}
			l.feed.Services[s.ID] = s
		}
		switch v := t.get("exception_type"); v {
		case "1":
			if s.Added == nil {
				s.Added = map[Date]bool{}
			}
			s.Added[d] = true
			delete(s.Removed, d)
		case "2":
			if s.Removed == nil {
				s.Removed = map[Date]bool{}
			}
			s.Removed[d] = true
			delete(s.Added, d)
		default:
			l.add(t.fieldError("exception_type", v, "want 1 (added) or 2 (removed)"))
		}
	}
}
