// Package gtfscheck is the logic of `hub gtfs check FEED`: it loads a GTFS
// feed as the hub does, then prints what is in it and every problem found,
// each naming its file and line, so an operator can fix a feed before the
// hub serves it.
package gtfscheck

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/headway-transit/headway/internal/gtfs"
)

// ErrFeed is returned (wrapped) when the feed has errors, so the command
// exits non-zero.
var ErrFeed = errors.New("the feed has errors")

const usage = `usage: hub gtfs check [-progress] FEED

Loads FEED (a .zip file or a folder) as the hub does and prints a summary
and every problem found. Exits 1 when the feed has errors; warnings alone
do not fail it. Progress goes to stderr when it is a terminal or with
-progress.
`

// Command runs `hub gtfs ...` with the arguments after "gtfs".
func Command(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "check" {
		fmt.Fprint(stderr, usage)
		return errors.New("gtfs: want the check subcommand")
	}
	fs := flag.NewFlagSet("gtfs check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, usage) }
	showProgress := fs.Bool("progress", false, "report progress on stderr even when it is not a terminal")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return errors.New("gtfs check: want one FEED")
	}
	var progress io.Writer
	if *showProgress || isTerminal(stderr) {
		progress = stderr
	}
	return Run(ctx, fs.Arg(0), stdout, progress)
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(interface{ Stat() (os.FileInfo, error) })
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// Run checks the feed at path, writing the summary and problems to out and,
// when progress is not nil, a line per file read to progress. It returns an
// error wrapping ErrFeed when the feed has errors.
func Run(ctx context.Context, path string, out, progress io.Writer) error {
	start := time.Now()
	var opts gtfs.Options
	if progress != nil {
		opts.Progress = func(p gtfs.Progress) {
			verb := "reading"
			if p.Done {
				verb = "read"
			}
			fmt.Fprintf(progress, "%s %s: %d rows, %s\n", verb, p.File, p.Rows, p.Elapsed.Round(time.Millisecond))
		}
	}
	feed, err := gtfs.LoadWith(ctx, path, opts)
	if progress != nil {
		fmt.Fprintf(progress, "checked %s in %s\n", path, time.Since(start).Round(time.Millisecond))
	}
	if ctxErr := ctx.Err(); ctxErr != nil {
		return ctxErr
	}
	fmt.Fprintf(out, "feed         %s\n", path)
	var fe *gtfs.FeedError
	switch {
	case err == nil:
		summarize(out, feed)
		printProblems(out, nil, feed.Warnings)
		return nil
	case errors.As(err, &fe):
		printProblems(out, fe.Errors, fe.Warnings)
		return fmt.Errorf("gtfs check %s: %w (%s)", path, ErrFeed, plural(len(fe.Errors), "error"))
	default:
		// Not a feed at all: absent, unreadable, not a zip.
		printProblems(out, []error{err}, nil)
		return fmt.Errorf("gtfs check: %w", err)
	}
}

func summarize(w io.Writer, f *gtfs.Feed) {
	var agencies []string
	for _, a := range f.Agencies {
		agencies = append(agencies, a.Name)
	}
	fmt.Fprintf(w, "agencies     %d: %s\n", len(f.Agencies), strings.Join(agencies, ", "))
	fmt.Fprintf(w, "time zone    %s\n", f.Location)
	stations := 0
	for _, s := range f.Stops {
		if s.LocationType == 1 {
			stations++
		}
	}
	fmt.Fprintf(w, "stops        %d (%d stations)\n", len(f.Stops), stations)
	fmt.Fprintf(w, "routes       %d\n", len(f.Routes))
	stopTimes, runs, straight := 0, 0, 0
	for _, tr := range f.Trips {
		stopTimes += len(tr.StopTimes)
		if tr.Template != nil {
			runs++
		}
		if tr.ShapeID == "" {
			straight++
		}
	}
	fmt.Fprintf(w, "trips        %d (%d of them runs of frequency trips)\n", len(f.Trips), runs)
	fmt.Fprintf(w, "stop times   %d\n", stopTimes)
	fmt.Fprintf(w, "shapes       %d (%d trips without one: straight lines between stops)\n", len(f.Shapes), straight)
	windows := 0
	for _, t := range f.Templates {
		windows += len(t.Frequencies)
	}
	fmt.Fprintf(w, "frequencies  %d trips in %d windows, expanded into %d runs\n", len(f.Templates), windows, runs)
	fmt.Fprintf(w, "services     %d\n", len(f.Services))
	if first, last, ok := serviceRange(f); ok {
		fmt.Fprintf(w, "service days %s to %s\n", first, last)
	} else {
		fmt.Fprintf(w, "service days none\n")
	}
}

// serviceRange returns the first and last dates any service runs.
func serviceRange(f *gtfs.Feed) (first, last gtfs.Date, ok bool) {
	see := func(d gtfs.Date) {
		if !ok || d.Compare(first) < 0 {
			first = d
		}
		if !ok || d.Compare(last) > 0 {
			last = d
		}
		ok = true
	}
	for _, s := range f.Services {
		weekly := false
		for _, on := range s.Days {
			weekly = weekly || on
		}
		if weekly && s.End.Compare(s.Start) >= 0 {
			// The range runs from the first to the last day the weekly
			// pattern and the removals leave.
			for d := s.Start; d.Compare(s.End) <= 0; d = d.AddDays(1) {
				if s.RunsOn(d) {
					see(d)
					break
				}
			}
			for d := s.End; d.Compare(s.Start) >= 0; d = d.AddDays(-1) {
				if s.RunsOn(d) {
					see(d)
					break
				}
			}
		}
		for d := range s.Added {
			see(d)
		}
	}
	return first, last, ok
}

func printProblems(w io.Writer, errs []error, warnings []string) {
	fmt.Fprintf(w, "problems     %s, %s\n", plural(len(errs), "error"), plural(len(warnings), "warning"))
	msgs := make([]string, 0, len(errs))
	for _, e := range errs {
		msgs = append(msgs, e.Error())
	}
	sort.Stable(byPlace(msgs))
	for _, m := range msgs {
		fmt.Fprintf(w, "error: %s\n", m)
	}
	warnings = append([]string(nil), warnings...)
	sort.Stable(byPlace(warnings))
	for _, m := range warnings {
		fmt.Fprintf(w, "warning: %s\n", m)
	}
}

// byPlace orders problems by file, then line, leaving a trailing
// "... and N more" where it is.
type byPlace []string

func (p byPlace) Len() int      { return len(p) }
func (p byPlace) Swap(i, j int) { p[i], p[j] = p[j], p[i] }
func (p byPlace) Less(i, j int) bool {
	fi, li := place(p[i])
	fj, lj := place(p[j])
	if fi != fj {
		return fi < fj
	}
	return li < lj
}

func place(msg string) (string, int) {
	if strings.HasPrefix(msg, "...") {
		return "\xff", 0
	}
	file, rest, _ := strings.Cut(msg, ":")
	line := 0
	for _, c := range rest {
		if c < '0' || c > '9' {
			break
		}
		line = line*10 + int(c-'0')
	}
	return file, line
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}
