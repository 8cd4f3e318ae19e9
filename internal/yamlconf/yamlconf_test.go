package yamlconf

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

type sample struct {
	Name  string `yaml:"name"`
	Count int    `yaml:"count"`
}

func (s *sample) Validate() error {
	if s.Count < 0 {
		return errors.New("count: must not be negative")
	}
	return nil
}

func TestLoad(t *testing.T) {
	tests := []struct {
		name    string
		yaml    string
		want    sample
		wantErr string
	}{
		{name: "good", yaml: "name: a\ncount: 2\n", want: sample{"a", 2}},
		{name: "defaults kept", yaml: "name: b\n", want: sample{"b", 7}},
		{name: "empty file keeps defaults", yaml: "", want: sample{"", 7}},
		{name: "unknown key", yaml: "name: a\ncuont: 2\n", wantErr: "field cuont not found"},
		{name: "wrong type", yaml: "count: many\n", wantErr: "cannot unmarshal"},
		{name: "invalid", yaml: "count: -1\n", wantErr: "count: must not be negative"},
		{name: "two documents", yaml: "name: a\n---\nname: b\n", wantErr: "more than one YAML document"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "c.yaml")
			if err := os.WriteFile(path, []byte(tc.yaml), 0o644); err != nil {
				t.Fatal(err)
			}
			got := sample{Count: 7}
			err := Load(path, &got)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !strings.Contains(err.Error(), path) {
					t.Fatalf("err = %v, want it to name %q and the file", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestLoadMissingFile(t *testing.T) {
	err := Load(filepath.Join(t.TempDir(), "nope.yaml"), &sample{})
	if err == nil || !strings.Contains(err.Error(), "nope.yaml") {
		t.Fatalf("err = %v, want it to name the file", err)
	}
}

func FuzzDecode(f *testing.F) {
	f.Add([]byte("name: a\ncount: 2\n"))
	f.Add([]byte("{name: [1,2]}"))
	f.Fuzz(func(t *testing.T, b []byte) {
		var s sample
		_ = Decode(b, &s)
	})
}
