package gtfs

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strings"
	"time"
	"unicode/utf8"
)

// table reads one GTFS CSV file row by row, finding columns by header name.
// It checks the file's encoding and shape as it goes: what it can work
// around (a byte order mark, mixed line ends, rows with missing cells) it
// reports as warnings when the file is closed; what it cannot (UTF-16,
// invalid UTF-8, NUL bytes) is an error.
type table struct {
	file   string
	l      *loader
	f      fs.File
	eol    *lineEnds
	r      *csv.Reader
	header []string
	cols   map[string]int
	rec    []string
	line   int
	rows   int
	start  time.Time

	short, extra         int // rows with fewer / more (empty) cells than the header
	shortLine, extraLine int // the first of each
	shortLen, extraLen   int
	ctrlLine             int // first line with a control character
	ctrlChar             rune
	ctrlCol              string
}

// openTable opens name in the feed. It returns an error wrapping
// fs.ErrNotExist when the file is absent, so callers can tell optional files
// apart.
func (l *loader) openTable(name string, required ...string) (*table, error) {
	f, err := l.fsys.Open(name)
	if err != nil {
		return nil, err
	}
	t := &table{file: name, l: l, f: f, cols: map[string]int{}, start: time.Now()}
	br := bufio.NewReaderSize(f, 64<<10)
	if err := t.checkStart(br); err != nil {
		f.Close()
		return nil, err
	}
	t.eol = &lineEnds{r: br, line: 1}
	r := csv.NewReader(t.eol)
	r.FieldsPerRecord = -1
	r.LazyQuotes = true // real feeds carry stray quotes inside fields
	r.ReuseRecord = true
	t.r = r
	hdr, err := r.Read()
	if err == io.EOF {
		f.Close()
		return nil, &ParseError{File: name, Err: errors.New("empty file: want a header line")}
	}
	if err != nil {
		f.Close()
		return nil, t.csvError(err)
	}
	t.line = 1
	t.header = make([]string, len(hdr))
	for i, h := range hdr {
		t.header[i] = fmt.Sprintf("header cell %d", i+1)
		if utf8.ValidString(h) {
			t.header[i] = "column " + strings.TrimSpace(h)
		}
		if err := t.checkCell(i, h); err != nil {
			f.Close()
			return nil, err
		}
		h = strings.ToLower(strings.TrimSpace(h))
		if _, dup := t.cols[h]; !dup && h != "" {
			t.cols[h] = i
		}
		t.header[i] = h
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

// checkStart looks at the first bytes of the file for encodings the CSV
// reader would misread, and skips a UTF-8 byte order mark.
func (t *table) checkStart(br *bufio.Reader) error {
	head, _ := br.Peek(4 << 10)
	switch {
	case len(head) >= 2 && (head[0] == 0xFE && head[1] == 0xFF || head[0] == 0xFF && head[1] == 0xFE):
		order := "big-endian"
		if head[0] == 0xFF {
			order = "little-endian"
		}
		return &ParseError{File: t.file, Line: 1, Err: fmt.Errorf("encoded as UTF-16 (%s byte order mark %02X %02X): GTFS files must be UTF-8; re-save the file as UTF-8", order, head[0], head[1])}
	case len(head) >= 3 && head[0] == 0xEF && head[1] == 0xBB && head[2] == 0xBF:
		br.Discard(3)
		t.l.warnf(t.file, 1, "starts with a UTF-8 byte order mark; accepted, but GTFS files should be plain UTF-8")
		head = head[3:]
	case len(head) >= 4 && (head[0] == 0 || head[1] == 0) && (head[2] == 0 || head[3] == 0):
		return &ParseError{File: t.file, Line: 1, Err: errors.New("starts with NUL bytes, as UTF-16 or UTF-32 without a byte order mark does: GTFS files must be UTF-8")}
	}
	if i := strings.IndexByte(string(head), '\r'); i >= 0 && strings.IndexByte(string(head), '\n') < 0 && i+1 < len(head) {
		return &ParseError{File: t.file, Line: 1, Err: errors.New(`ends lines with a lone CR "\r" (classic Mac OS): GTFS files need LF or CR LF line ends`)}
	}
	return nil
}

// close closes the file and reports what the table worked around.
func (t *table) close() {
	t.f.Close()
	l, e := t.l, t.eol
	if t.short > 0 {
		l.warnf(t.file, t.shortLine, "%s with fewer cells than the header (%d instead of %d, first on this line); the missing cells are read as empty",
			plural(t.short, "row", "rows"), t.shortLen, len(t.header))
	}
	if t.extra > 0 {
		l.warnf(t.file, t.extraLine, "%s with more cells than the header (%d instead of %d, first on this line); the extra cells are empty and ignored",
			plural(t.extra, "row", "rows"), t.extraLen, len(t.header))
	}
	if t.ctrlLine > 0 {
		l.warnf(t.file, t.ctrlLine, "%s contains the control character %U; spaces and control characters at the ends of a value are dropped", t.ctrlCol, t.ctrlChar)
	}
	if e.oddCount > 0 {
		l.warnf(t.file, e.oddLine, "unusual line end %q (%s in the file, first on this line); accepted, but lines should end in LF or CR LF", e.odd, plural(e.oddCount, "time", "times"))
	}
	if e.lf > 0 && e.crlf > 0 {
		l.warnf(t.file, 0, `mixes line ends: %d CR LF "\r\n" (%s) and %d LF "\n" (%s); accepted, but a file should use one kind`,
			e.crlf, linesList(e.crlfEx, e.crlf), e.lf, linesList(e.lfEx, e.lf))
	}
	if l.progress != nil {
		l.progress(Progress{File: t.file, Rows: t.rows, Elapsed: time.Since(t.start), Done: true})
	}
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

func linesList(ex []int, n int) string {
	var sb strings.Builder
	if len(ex) == 1 {
		sb.WriteString("line ")
	} else {
		sb.WriteString("lines ")
	}
	for i, x := range ex {
		if i > 0 {
			sb.WriteString(", ")
		}
		fmt.Fprint(&sb, x)
	}
	if n > len(ex) {
		sb.WriteString(", ...")
	}
	return sb.String()
}

func (t *table) has(col string) bool { _, ok := t.cols[col]; return ok }

// progressEvery is how many rows a table reads between progress reports.
const progressEvery = 1 << 20

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
			if err := t.checkCell(i, v); err != nil {
				t.l.add(err)
			}
			rec[i] = strings.TrimSpace(v)
			if rec[i] != "" {
				empty = false
			}
		}
		if empty {
			continue
		}
		t.rows++
		if t.l.progress != nil && t.rows%progressEvery == 0 {
			t.l.progress(Progress{File: t.file, Rows: t.rows, Elapsed: time.Since(t.start)})
		}
		if err := t.checkLength(rec); err != nil {
			t.l.add(err)
		}
		t.rec = rec
		return true, nil
	}
}

// checkLength counts rows whose length differs from the header's. Missing
// cells at the end read as empty, which is what their writer meant; extra
// cells are harmless when empty, but with values in them the row's columns
// cannot be trusted (often a value with an unquoted comma).
func (t *table) checkLength(rec []string) error {
	switch n := len(rec); {
	case n < len(t.header):
		if t.short == 0 {
			t.shortLine, t.shortLen = t.line, n
		}
		t.short++
	case n > len(t.header):
		for i := len(t.header); i < n; i++ {
			if rec[i] != "" {
				return &ParseError{File: t.file, Line: t.line, Err: fmt.Errorf("%d cells, the header has %d, and cell %d holds %q: a value with an unquoted comma? Quote it", n, len(t.header), i+1, rec[i])}
			}
		}
		if t.extra == 0 {
			t.extraLine, t.extraLen = t.line, n
		}
		t.extra++
	}
	return nil
}

// checkCell checks the raw value of cell i of the current row (or header).
func (t *table) checkCell(i int, v string) error {
	if isASCIIPrint(v) {
		return nil
	}
	line := t.line
	if t.r != nil && t.header != nil {
		line, _ = t.r.FieldPos(i)
	}
	col := fmt.Sprintf("cell %d", i+1)
	if i < len(t.header) && t.header[i] != "" {
		col = t.header[i]
	}
	if !utf8.ValidString(v) {
		b, at := firstInvalid(v)
		return &ParseError{File: t.file, Line: line, Err: fmt.Errorf("%s: invalid UTF-8 (byte 0x%02X at offset %d of %q): GTFS files must be UTF-8", col, b, at, strings.ToValidUTF8(v, "\uFFFD"))}
	}
	if strings.IndexByte(v, 0) >= 0 {
		return &ParseError{File: t.file, Line: line, Err: fmt.Errorf("%s: contains a NUL byte: %q", col, v)}
	}
	if t.ctrlLine == 0 {
		for _, c := range v {
			// Line ends are lineEnds' business; tabs are plain spacing.
			if (c < 0x20 || c == 0x7F) && c != '\t' && c != '\r' && c != '\n' {
				t.ctrlLine, t.ctrlChar, t.ctrlCol = line, c, col
				break
			}
		}
	}
	return nil
}

func isASCIIPrint(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7F {
			return false
		}
	}
	return true
}

func firstInvalid(s string) (byte, int) {
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n <= 1 {
			return s[i], i
		}
		i += n
	}
	return 0, -1
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

// lineEnds passes a file through, counting its kinds of line end: a file
// should use one, LF or CR LF.
type lineEnds struct {
	r    io.Reader
	line int // current line, from 1
	crs  int // CRs just before the current byte

	lf, crlf     int
	lfEx, crlfEx []int // the first few lines of each
	odd          string
	oddLine      int
	oddCount     int
}

const lineExamples = 5

func (e *lineEnds) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	for _, c := range p[:n] {
		switch c {
		case '\r':
			e.crs++
			continue
		case '\n':
			switch e.crs {
			case 0:
				e.lf++
				if len(e.lfEx) < lineExamples {
					e.lfEx = append(e.lfEx, e.line)
				}
			case 1:
				e.crlf++
				if len(e.crlfEx) < lineExamples {
					e.crlfEx = append(e.crlfEx, e.line)
				}
			default:
				e.oddEnd(strings.Repeat("\r", e.crs) + "\n")
			}
			e.line++
		default:
			if e.crs > 0 {
				e.oddEnd(strings.Repeat("\r", e.crs))
			}
		}
		e.crs = 0
	}
	return n, err
}

func (e *lineEnds) oddEnd(s string) {
	if e.oddCount == 0 {
		e.odd, e.oddLine = s, e.line
	}
	e.oddCount++
}
