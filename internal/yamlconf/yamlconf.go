// Package yamlconf loads Headway's YAML config files strictly: unknown keys
// are errors (a typo must not silently fall back to a default), and after
// decoding the config validates itself, so every error names the file and
// the field.
package yamlconf

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Validator is implemented by config types that check their own fields.
// Errors should name the field, as in "mqtt.url: scheme must be tcp or tls".
type Validator interface {
	Validate() error
}

// MaxSize bounds a config file; anything larger is not a config.
const MaxSize = 1 << 20

// Load decodes the YAML file at path into v (which should hold the defaults
// already) and then, if v is a Validator, validates it. Each problem found
// is on a line of its own, naming the file, and the line when it is known:
//
//	config hub.yaml: line 3: stat_every: unknown field, did you mean state_every?
func Load(path string, v any) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, MaxSize+1))
	if err != nil {
		return fmt.Errorf("config %s: %w", path, err)
	}
	if len(b) > MaxSize {
		return fmt.Errorf("config %s: larger than %d bytes", path, MaxSize)
	}
	if err := Decode(b, v); err != nil {
		errs := problems(err)
		for i, e := range errs {
			errs[i] = fmt.Errorf("config %s: %w", path, e)
		}
		if len(errs) == 1 {
			return errs[0]
		}
		return errors.Join(errs...)
	}
	return nil
}

// Decode is Load without the file: strict decoding, then validation. Its
// error joins one error per problem.
func Decode(b []byte, v any) error {
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return validate(v, nil)
		}
		return syntaxError(err, b)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		if err == nil {
			return &FieldError{Line: extra.Line, Err: errors.New("a second YAML document starts here (---): a config file holds one")}
		}
		return syntaxError(err, b)
	}

	// Check the document against v's type first, for messages in the
	// file's terms; then decode it strictly for real.
	c := newChecker(reflect.TypeOf(v))
	c.check(&doc, reflect.TypeOf(v), "")
	if len(c.errs) > 0 {
		return errors.Join(c.errs...)
	}
	dec = yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(v); err != nil && !errors.Is(err, io.EOF) {
		return decodeError(err, b)
	}
	return validate(v, c.lines)
}

// validate runs v's Validate, if it has one, and adds to each error the
// line of the field it names, if the file has that field.
func validate(v any, lines map[string]int) error {
	val, ok := v.(Validator)
	if !ok {
		return nil
	}
	err := val.Validate()
	if err == nil {
		return nil
	}
	errs := problems(err)
	for i, e := range errs {
		field, _, ok := strings.Cut(e.Error(), ": ")
		if line, known := lines[field]; ok && known {
			errs[i] = &FieldError{Line: line, Err: e}
		}
	}
	return errors.Join(errs...)
}

// problems splits an error made by errors.Join into the errors joined
// (recursively), so that each can be given the file and line.
func problems(err error) []error {
	j, ok := err.(interface{ Unwrap() []error })
	if !ok {
		return []error{err}
	}
	var msgs []string
	var out []error
	for _, e := range j.Unwrap() {
		if e == nil {
			continue
		}
		msgs = append(msgs, e.Error())
		out = append(out, problems(e)...)
	}
	// fmt.Errorf with several %w unwraps the same way but reads as one
	// sentence: keep those whole.
	if strings.Join(msgs, "\n") != err.Error() {
		return []error{err}
	}
	return out
}

// Duration is a time.Duration written in Go syntax in YAML ("90s", "1m30s").
type Duration time.Duration

// UnmarshalText parses Go duration syntax.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("%q is not a duration (write it like 90s or 1m30s)", b)
	}
	*d = Duration(v)
	return nil
}

// MarshalText writes d in Go duration syntax.
func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

// D returns d as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }
