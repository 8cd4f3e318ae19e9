package yamlconf

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// conf has the shapes real configs have: nested structs, lists and maps of
// structs, durations, an inline struct.
type conf struct {
	Name       string          `yaml:"name"`
	Count      int             `yaml:"count"`
	StateEvery Duration        `yaml:"state_every"`
	MQTT       mqttConf        `yaml:"mqtt"`
	Users      []user          `yaml:"users"`
	Pins       map[string]user `yaml:"pins"`
	Enabled    bool            `yaml:"enabled"`
	Ratio      float64         `yaml:"ratio"`
	Fault      fault           `yaml:"fault"`
}

type mqttConf struct {
	URLs  []string `yaml:"urls"`
	Queue uint16   `yaml:"queue"`
}

type user struct {
	Username string `yaml:"username"`
	Role     string `yaml:"role"`
}

type Event struct {
	Enabled bool       `yaml:"enabled"`
	At      []Duration `yaml:"at"`
}

type fault struct {
	Event `yaml:",inline"`
	Baud  int `yaml:"baud"`
}

func (c *conf) Validate() error {
	var errs []error
	if c.Count < 0 {
		errs = append(errs, errors.New("count: must not be negative"))
	}
	if c.Name == "bad" {
		errs = append(errs, errors.New(`name: "bad" is taken`))
	}
	if c.Name == "" {
		errs = append(errs, errors.New("name: is required"))
	}
	return errors.Join(errs...)
}

func defaults() conf { return conf{Name: "default", Count: 7} }

func TestLoadGood(t *testing.T) {
	tests := []struct {
		name string
		want conf
	}{
		{name: "full", want: conf{
			Name: "hub-1", Count: 3, StateEvery: Duration(5 * time.Minute),
			MQTT:    mqttConf{URLs: []string{"tcp://a:1883", "tcp://b:1883"}, Queue: 100},
			Users:   []user{{"bus-1", "vehicle"}},
			Pins:    map[string]user{"bus-17": {"x", "reader"}},
			Enabled: true, Ratio: 0.5,
			Fault: fault{Event: Event{Enabled: true, At: []Duration{Duration(2 * time.Minute), Duration(5 * time.Minute)}}, Baud: 4800},
		}},
		{name: "merge", want: conf{Name: "default", Count: 7, Users: []user{{"bus-1", "vehicle"}, {"bus-2", "vehicle"}}}},
		{name: "empty", want: defaults()},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := defaults()
			if err := Load(filepath.Join("testdata", "good", tc.name+".yaml"), &got); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got\n%+v\nwant\n%+v", got, tc.want)
			}
		})
	}
}

// TestLoadBad pins each message whole: what a user reads is the interface.
// FILE stands for the file's path.
func TestLoadBad(t *testing.T) {
	tests := []struct {
		name string
		want string
	}{
		{"typo", "config FILE: line 3: stat_every: unknown field, did you mean state_every?"},
		{"nested-typo", "config FILE: line 3: mqtt.url: unknown field, did you mean mqtt.urls?"},
		{"wrong-level", "config FILE: line 3: urls: unknown field here, did you mean mqtt.urls (indented under mqtt:)?"},
		{"too-deep", "config FILE: line 3: mqtt.count: unknown field here, did you mean count (at the top level, not indented)?"},
		{"list-typo", "config FILE: line 3: users[1].usename: unknown field, did you mean users[1].username?"},
		{"map-typo", "config FILE: line 2: pins.bus-17.rol: unknown field, did you mean pins.bus-17.role?"},
		{"camel-case", "config FILE: line 1: stateEvery: unknown field, did you mean state_every?"},
		{"no-suggestion", "config FILE: line 2: mqtt.zzz: unknown field (fields here: urls, queue)"},
		{"merge-typo", "config FILE: line 2: users[0].rle: unknown field, did you mean users[0].role?\n" +
			"config FILE: line 2: users[1].rle: unknown field, did you mean users[1].role?"},
		{"not-a-number", `config FILE: line 1: count: "many", want a whole number`},
		{"fraction", `config FILE: line 1: count: "2.5", want a whole number`},
		{"too-big", `config FILE: line 2: mqtt.queue: "70000" is out of range`},
		{"negative", `config FILE: line 2: mqtt.queue: "-1", want a whole number, 0 or more`},
		{"not-a-list", `config FILE: line 2: mqtt.urls: "tcp://a:1883", want a list: [a, b], or one "- item" a line`},
		{"not-a-mapping", `config FILE: line 1: mqtt: "tcp://a:1883", want key: value lines indented under it`},
		{"list-for-value", `config FILE: line 1: name: a list, want a single value (text)`},
		{"bool", `config FILE: line 1: enabled: "maybe", want true or false`},
		{"duration", `config FILE: line 2: fault.at[1]: "soon" is not a duration (write it like 90s or 1m30s)`},
		{"twice", "config FILE: line 3: count: given twice (first on line 1)"},
		{"many", "config FILE: line 2: nme: unknown field, did you mean name?\n" +
			`config FILE: line 3: count: "many", want a whole number` + "\n" +
			"config FILE: line 5: mqtt.queu: unknown field, did you mean mqtt.queue?"},
		{"tab", "config FILE: line 2: not valid YAML: a tab indents this line (YAML indents with spaces only)"},
		{"colon", `config FILE: not valid YAML: mapping values are not allowed in this context (two ": " on one line? quote a value that holds one)`},
		{"list-file", "config FILE: line 1: the file holds a list, want key: value lines"},
		{"two-documents", "config FILE: line 2: a second YAML document starts here (---): a config file holds one"},
		{"invalid", "config FILE: line 2: count: must not be negative"},
		{"invalid-twice", "config FILE: line 2: count: must not be negative\n" +
			`config FILE: line 1: name: "bad" is taken`},
	}
	files, _ := filepath.Glob("testdata/bad/*.yaml")
	if len(files) != len(tests) {
		t.Errorf("%d bad configs, %d cases", len(files), len(tests))
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join("testdata", "bad", tc.name+".yaml")
			got := defaults()
			err := Load(path, &got)
			if err == nil {
				t.Fatal("loaded")
			}
			want := strings.ReplaceAll(tc.want, "FILE", path)
			if err.Error() != want {
				t.Errorf("got\n%s\nwant\n%s", err, want)
			}
			assertNoGoTypes(t, err.Error(), nil)
		})
	}
}

func TestErrorsUnwrap(t *testing.T) {
	var c conf
	err := Decode([]byte("nme: a\n"), &c)
	var fe *FieldError
	if !errors.Is(err, ErrUnknownField) || !errors.As(err, &fe) || fe.Line != 1 || fe.Field != "nme" {
		t.Errorf("err = %#v, want an unknown-field FieldError at line 1", err)
	}
}

func TestLoadMissingFile(t *testing.T) {
	err := Load(filepath.Join(t.TempDir(), "nope.yaml"), &conf{})
	if err == nil || !strings.Contains(err.Error(), "nope.yaml") || !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("err = %v, want it to name the file", err)
	}
}

func TestNearest(t *testing.T) {
	fields := []string{"gtfs", "state", "state_every", "http", "mqtt", "vehicles", "boards", "tracking"}
	tests := []struct {
		name, key, want string
	}{
		{"one letter dropped", "stat_every", "state_every"},
		{"swapped letters", "htpp", "http"},
		{"case and separators", "State-Every", "state_every"},
		{"camel case", "stateEvery", "state_every"},
		{"plural", "vehicle", "vehicles"},
		{"two edits", "trackin", "tracking"},
		{"nothing near", "listen", ""},
		{"too short to guess", "x", ""},
		{"far", "zzzzzzzz", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := nearest(tc.key, fields); got != tc.want {
				t.Errorf("nearest(%q) = %q, want %q", tc.key, got, tc.want)
			}
		})
	}
}

func TestDistance(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"", "", 0}, {"a", "", 1}, {"", "abc", 3}, {"http", "http", 0},
		{"htpp", "http", 1}, {"kitten", "sitting", 3}, {"ca", "abc", 3},
	}
	for _, tc := range tests {
		if got := distance(tc.a, tc.b); got != tc.want {
			t.Errorf("distance(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
	}
}

// assertNoGoTypes fails when msg names a Go type of this package, unless
// the input itself held that text.
func assertNoGoTypes(t testing.TB, msg string, input []byte) {
	t.Helper()
	for _, s := range []string{"yamlconf.", "mqttConf", "struct {", "not found in type", "cannot unmarshal", "[]string", "uint16"} {
		if strings.Contains(msg, s) && !strings.Contains(string(input), s) {
			t.Errorf("message %q shows Go's %q", msg, s)
		}
	}
}

func FuzzDecode(f *testing.F) {
	files, _ := filepath.Glob("testdata/*/*.yaml")
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte("{name: [1,2]}"))
	f.Add([]byte("a: &x [*x, *x]\nusers: [*x]\n"))
	f.Add([]byte("users: [{<<: [{role: a}, {rle: b}]}]\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		var c conf
		err := Decode(b, &c)
		if err != nil {
			assertNoGoTypes(t, err.Error(), b)
		}
	})
}

func TestCheckPrivate(t *testing.T) {
	p := filepath.Join(t.TempDir(), "c.yaml")
	if err := os.WriteFile(p, []byte("x: 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := CheckPrivate(p, nil); err != nil {
		t.Errorf("no secrets: %v", err)
	}
	err := CheckPrivate(p, []string{"mqtt.password"})
	if err == nil || !strings.Contains(err.Error(), "holds secrets (mqtt.password)") || !strings.Contains(err.Error(), "chmod 600 "+p) {
		t.Errorf("0644 with a secret: %v", err)
	}
	if err := os.Chmod(p, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := CheckPrivate(p, []string{"mqtt.password"}); err != nil {
		t.Errorf("0600 with a secret: %v", err)
	}
}

func TestChanged(t *testing.T) {
	type inner struct{ X []string }
	type cfg struct {
		A string `yaml:"a"`
		B inner  `yaml:"b,omitempty"`
		C int    `yaml:"c"`
		d int
	}
	got := Changed(cfg{A: "x", B: inner{[]string{"1"}}, C: 1, d: 1}, &cfg{A: "x", B: inner{[]string{"2"}}, C: 2, d: 2})
	if strings.Join(got, ",") != "b,c" {
		t.Errorf("Changed = %v", got)
	}
}

// A package's root:headway 0640 config is private enough; the same mode on
// a file a user owns is not.
func TestPrivateRootGroup(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to chown (CI runs as root)")
	}
	p := filepath.Join(t.TempDir(), "c.yaml")
	if err := os.WriteFile(p, []byte("x: 1\n"), 0o640); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(p, 0, 1); err != nil {
		t.Fatal(err)
	}
	if err := CheckPrivate(p, []string{"token"}); err != nil {
		t.Errorf("root:group 0640: %v", err)
	}
	os.Chmod(p, 0o660)
	if err := CheckPrivate(p, []string{"token"}); err == nil {
		t.Error("root:group 0660 (group may write) accepted")
	}
	os.Chmod(p, 0o640)
	os.Chown(p, 1, 1)
	if err := CheckPrivate(p, []string{"token"}); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Errorf("a user's 0640: %v", err)
	}
}
