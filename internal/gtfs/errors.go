package gtfs

import (
	"fmt"
	"strings"
)

// ParseError is a problem at a place in a feed file. Line is 0 when the
// problem is with the file as a whole.
type ParseError struct {
	File string
	Line int
	Err  error
}

func (e *ParseError) Error() string {
	if e.Line == 0 {
		return fmt.Sprintf("%s: %v", e.File, e.Err)
	}
	return fmt.Sprintf("%s:%d: %v", e.File, e.Line, e.Err)
}

func (e *ParseError) Unwrap() error { return e.Err }

// maxErrors bounds how many errors Load reports at once: enough to fix a feed
// in a few rounds without drowning the reader in a broken file's every line.
const maxErrors = 20

// maxWarnings bounds Feed.Warnings for the same reason.
const maxWarnings = 200

// problems collects errors and warnings while a feed loads.
type problems struct {
	errs      []error
	moreErrs  int
	warnings  []string
	moreWarns int
}

func (p *problems) errorf(file string, line int, format string, args ...any) {
	p.add(&ParseError{File: file, Line: line, Err: fmt.Errorf(format, args...)})
}

func (p *problems) add(err error) {
	if len(p.errs) < maxErrors {
		p.errs = append(p.errs, err)
	} else {
		p.moreErrs++
	}
}

func (p *problems) warnf(file string, line int, format string, args ...any) {
	if len(p.warnings) >= maxWarnings {
		p.moreWarns++
		return
	}
	pe := &ParseError{File: file, Line: line, Err: fmt.Errorf(format, args...)}
	p.warnings = append(p.warnings, pe.Error())
}

func (p *problems) failed() bool { return len(p.errs) > 0 }

// FeedError is the error Load returns for a feed it cannot use: the errors
// found (at most maxErrors, then a count of the rest) and the warnings found
// before it stopped, so that a checker can show every problem.
type FeedError struct {
	Errors   []error
	Warnings []string
}

func (e *FeedError) Error() string {
	msgs := make([]string, len(e.Errors))
	for i, err := range e.Errors {
		msgs[i] = err.Error()
	}
	return strings.Join(msgs, "\n")
}

func (e *FeedError) Unwrap() []error { return e.Errors }
