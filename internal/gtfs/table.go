package gtfs

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strings"
)

// table reads one GTFS CSV file row by row, finding columns by header name.
type table struct {
	file string
	f    fs.File
	r    *csv.Reader
	cols map[string]int
	rec  []string
	line int
}

// openTable opens name in fsys. It returns an error wrapping fs.ErrNotExist
// when the file is absent, so callers can tell optional files apart.
func openTable(fsys fs.FS, name string, required ...string) (*table, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return nil, err
	}
	r := csv.NewReader(f)
	r.FieldsPerRecord = -1
	r.LazyQuotes = true // real feeds carry stray quotes inside fields
	r.ReuseRecord = true
	t := &table{file: name, f: f, r: r, cols: map[string]int{}}
	hdr, err := r.Read()
	if err == io.EOF {
		f.Close()
		return nil, &ParseError{File: name, Err: errors.New("empty file: want a header line")}
	}
	if err != nil {
		f.Close()
		return nil, t.csvError(err)
	}
	for i, h := range hdr {
		if i == 0 {
			h = strings.TrimPrefix(h, "\ufeff")
		}
		h = strings.ToLower(strings.TrimSpace(h))
		if _, dup := t.cols[h]; !dup && h != "" {
			t.cols[h] = i
		}
	}
	var missing []string
	for _, c := range required {
		if _, ok := t.cols[c]; !ok {
			missing = append(missing, c)
		}
	}
	if len(missing) > 0 {
		f.Close()
		return nil, &ParseError{File: name, Line: 1, Err: fmt.Errorf("missing required column %s", strings.Join(missing, ", "))}
	}
	return t, nil
}

func (t *table) close() { t.f.Close() }

func (t *table) has(col string) bool { _, ok := t.cols[col]; return ok }

// next reads the next row, skipping rows with no content. It returns false at
// the end of the file or on an error, which it returns as well.
func (t *table) next() (bool, error) {
	for {
		rec, err := t.r.Read()
		if err == io.EOF {
			return false, nil
		}
		if err != nil {
			return false, t.csvError(err)
		}
		t.line, _ = t.r.FieldPos(0)
		empty := true
		for i, v := range rec {
			rec[i] = strings.TrimSpace(v)
			if rec[i] != "" {
				empty = false
			}
		}
		if empty {
			continue
		}
		t.rec = rec
		return true, nil
	}
}

// get returns the trimmed value of col in the current row, or "" when the
// column or the cell is absent.
func (t *table) get(col string) string {
	i, ok := t.cols[col]
	if !ok || i >= len(t.rec) {
		return ""
	}
	return t.rec[i]
}

// id returns the value of col as a string that does not pin the whole
// record's memory, for values the feed keeps.
func (t *table) id(col string) string { return strings.Clone(t.get(col)) }

func (t *table) csvError(err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return &ParseError{File: t.file, Line: pe.Line, Err: pe.Err}
	}
	return &ParseError{File: t.file, Err: err}
}

// fieldError is an error about one field of the current row.
func (t *table) fieldError(col, value, format string, args ...any) error {
	return &ParseError{File: t.file, Line: t.line, Err: fmt.Errorf("%s %q: %s", col, value, fmt.Sprintf(format, args...))}
}
