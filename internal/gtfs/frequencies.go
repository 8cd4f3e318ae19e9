package gtfs

import (
	"errors"
	"io/fs"
	"sort"
	"strconv"
)

// maxRuns bounds the runs of one frequency trip: a bus every minute for a
// week, far beyond real service, and a guard against a typo in
// headway_secs filling the memory.
const maxRuns = 7 * 24 * 60

// RunID is the Trip.ID of the run of frequency trip tripID whose first
// departure is start (seconds since the start of the service day).
func RunID(tripID string, start int) string { return tripID + "@" + FormatTime(start) }

func (l *loader) loadFrequencies() error {
	l.feed.Templates = map[string]*Trip{}
	t, err := l.openTable("frequencies.txt", "trip_id", "start_time", "end_time", "headway_secs")
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	type window struct {
		f    Frequency
		line int
	}
	windows := map[*Trip][]window{}
	runs := map[*Trip]int{}
	err = each(t, func() {
		tr := l.feed.Trips[t.get("trip_id")]
		if tr == nil {
			l.add(t.fieldError("trip_id", t.get("trip_id"), "not in trips.txt"))
			return
		}
		var f Frequency
		var err error
		if f.Start, err = ParseTime(t.get("start_time")); err != nil {
			l.add(t.fieldError("start_time", t.get("start_time"), "%v", err))
			return
		}
		if f.End, err = ParseTime(t.get("end_time")); err != nil {
			l.add(t.fieldError("end_time", t.get("end_time"), "%v", err))
			return
		}
		if f.End <= f.Start {
			l.add(t.fieldError("end_time", t.get("end_time"), "not after start_time %s", t.get("start_time")))
			return
		}
		if f.HeadwaySecs, err = strconv.Atoi(t.get("headway_secs")); err != nil || f.HeadwaySecs <= 0 {
			l.add(t.fieldError("headway_secs", t.get("headway_secs"), "want a positive number of seconds"))
			return
		}
		switch v := t.get("exact_times"); v {
		case "", "0":
		case "1":
			f.ExactTimes = true
		default:
			l.add(t.fieldError("exact_times", v, "want 0 or 1"))
			return
		}
		runs[tr] += (f.End - f.Start + f.HeadwaySecs - 1) / f.HeadwaySecs
		if runs[tr] > maxRuns {
			l.add(t.fieldError("headway_secs", t.get("headway_secs"), "trip %s would run more than %d times a day", tr.ID, maxRuns))
			return
		}
		windows[tr] = append(windows[tr], window{f, t.line})
	})
	for tr, ws := range windows {
		sort.SliceStable(ws, func(i, j int) bool { return ws[i].f.Start < ws[j].f.Start })
		for i, w := range ws {
			if i > 0 && w.f.Start < ws[i-1].f.End {
				l.errorf("frequencies.txt", w.line, "start_time %q: trip %s already runs until %s (line %d); a trip's frequencies must not overlap",
					FormatTime(w.f.Start), tr.ID, FormatTime(ws[i-1].f.End), ws[i-1].line)
			}
			tr.Frequencies = append(tr.Frequencies, w.f)
		}
	}
	return err
}

// expandFrequencies replaces each trip of frequencies.txt by its runs, so
// that everything reading Feed.Trips and Feed.Calls (boards, timetables,
// tracking) sees the departures the feed describes rather than the template's
// placeholder times.
func (l *loader) expandFrequencies() error {
	ids := make([]string, 0, len(l.feed.Trips))
	for id, tr := range l.feed.Trips {
		if len(tr.Frequencies) > 0 {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	for _, id := range ids {
		tmpl := l.feed.Trips[id]
		delete(l.feed.Trips, id)
		l.feed.Templates[id] = tmpl
		first := tmpl.StopTimes[0].Departure
		for i := range tmpl.Frequencies {
			f := &tmpl.Frequencies[i]
			for s := f.Start; s < f.End; s += f.HeadwaySecs {
				run := *tmpl
				run.ID = RunID(id, s)
				run.Frequencies, run.Runs = nil, nil
				run.Template, run.Frequency = tmpl, f
				if _, clash := l.feed.Trips[run.ID]; clash {
					l.errorf("trips.txt", l.tripLines[run.ID], "trip_id %q: also the id of a run of frequency trip %s; rename it", run.ID, id)
					return nil
				}
				run.StopTimes = make([]StopTime, len(tmpl.StopTimes))
				for k, st := range tmpl.StopTimes {
					st.Arrival += s - first
					st.Departure += s - first
					st.Arrival = max(st.Arrival, 0) // a first stop's dwell before a 00:00:00 start
					run.StopTimes[k] = st
				}
				l.feed.Trips[run.ID] = &run
				tmpl.Runs = append(tmpl.Runs, &run)
			}
		}
	}
	return nil
}
