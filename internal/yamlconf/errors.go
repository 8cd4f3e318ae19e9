package yamlconf

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// ErrUnknownField is the cause of a FieldError for a key the config has no
// field for.
var ErrUnknownField = errors.New("unknown field")

// FieldError is one problem in a config file, in the file's terms: the
// line (0 when the field is not in the file) and the field's path as the
// file spells it ("mqtt.urls[1]"; empty for the file as a whole).
type FieldError struct {
	Line  int
	Field string
	Err   error
}

func (e *FieldError) Error() string {
	var b strings.Builder
	if e.Line > 0 {
		fmt.Fprintf(&b, "line %d: ", e.Line)
	}
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	b.WriteString(e.Err.Error())
	return b.String()
}

func (e *FieldError) Unwrap() error { return e.Err }

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// syntaxError rewords an error of the YAML parser.
func syntaxError(err error, b []byte) error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	line := 0
	if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
		line, msg = atoi(m[1]), m[2]
	}
	// The parser's words say what it expected, not what was likely meant.
	for _, l := range []int{line, line + 1} {
		if line > 0 && hasTab(b, l) {
			return &FieldError{Line: l, Err: errors.New("not valid YAML: a tab indents this line (YAML indents with spaces only)")}
		}
	}
	msg = "not valid YAML: " + msg
	switch {
	case strings.Contains(msg, "mapping values are not allowed"):
		msg += ` (two ": " on one line? quote a value that holds one)`
	case strings.Contains(msg, "did not find expected key"):
		msg += " (is the indentation off?)"
	}
	if line == 0 {
		return errors.New(msg)
	}
	return &FieldError{Line: line, Err: errors.New(msg)}
}

func hasTab(b []byte, line int) bool {
	lines := bytes.Split(b, []byte("\n"))
	if line < 1 || line > len(lines) {
		return false
	}
	l := lines[line-1]
	return bytes.IndexByte(l[:len(l)-len(bytes.TrimLeft(l, " \t"))], '\t') >= 0
}

// yaml.v3's decoding errors, which name Go types. The checker reports
// these first in the file's words; these patterns are the fail-safe for
// anything it lets through.
var (
	yamlUnknown = regexp.MustCompile("^line (\\d+): field (.*) not found in type .*$")
	yamlTwice   = regexp.MustCompile("^line (\\d+): field (.*) already set in type .*$")
	yamlType    = regexp.MustCompile("^line (\\d+): cannot unmarshal !!(\\w+)( `.*`)? into .*$")
)

// decodeError rewords what yaml.v3's decoder returned, without Go type names.
func decodeError(err error, b []byte) error {
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		return syntaxError(err, b)
	}
	var errs []error
	for _, s := range te.Errors {
		if m := yamlUnknown.FindStringSubmatch(s); m != nil {
			errs = append(errs, &FieldError{Line: atoi(m[1]), Field: m[2], Err: ErrUnknownField})
		} else if m := yamlTwice.FindStringSubmatch(s); m != nil {
			errs = append(errs, &FieldError{Line: atoi(m[1]), Field: m[2], Err: errors.New("given twice")})
		} else if m := yamlType.FindStringSubmatch(s); m != nil {
			what := strings.TrimSpace(m[3])
			if what == "" {
				what = map[string]string{"map": "key: value lines", "seq": "a list"}[m[2]]
			}
			errs = append(errs, &FieldError{Line: atoi(m[1]), Err: fmt.Errorf("%s is not the kind of value this field takes", what)})
		} else {
			errs = append(errs, errors.New(s))
		}
	}
	return errors.Join(errs...)
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}
