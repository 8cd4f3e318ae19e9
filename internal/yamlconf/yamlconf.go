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
// already) and then, if v is a Validator, validates it.
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
		return fmt.Errorf("config %s: %w", path, err)
	}
	return nil
}

// Decode is Load without the file: strict decoding, then validation.
func Decode(b []byte, v any) error {
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(v); err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	var extra any
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return errors.New("more than one YAML document")
	}
	if val, ok := v.(Validator); ok {
		if err := val.Validate(); err != nil {
			return err
		}
	}
	return nil
}

// Duration is a time.Duration written in Go syntax in YAML ("90s", "1m30s").
type Duration time.Duration

// UnmarshalText parses Go duration syntax.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// MarshalText writes d in Go duration syntax.
func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

// D returns d as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }
