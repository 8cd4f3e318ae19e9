package yamlconf

import (
	"encoding"
	"errors"
	"fmt"
	"math"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// checker walks a parsed YAML document alongside the Go type it is about
// to be decoded into, and reports what yaml.v3 would reject, in the words
// of the file (field paths, lines) rather than of the Go code (type names).
// It also notes where each field is, so validation errors can name lines.
type checker struct {
	root   reflect.Type
	errs   []error
	lines  map[string]int // field path → line of its key (first occurrence)
	fields map[reflect.Type]*structFields
	budget int // nodes left to visit: aliases can make a small file a huge tree
}

// maxVisits bounds the walk. Beyond it the rest of the file goes unchecked
// here; yaml.v3 still decodes it strictly, and fail-safe messages apply.
const maxVisits = 1 << 16

func newChecker(t reflect.Type) *checker {
	return &checker{
		root:   t,
		lines:  map[string]int{},
		fields: map[reflect.Type]*structFields{},
		budget: maxVisits,
	}
}

var (
	nodeType            = reflect.TypeFor[yaml.Node]()
	durationType        = reflect.TypeFor[time.Duration]()
	timeType            = reflect.TypeFor[time.Time]()
	unmarshalerType     = reflect.TypeFor[yaml.Unmarshaler]()
	obsoleteUnmarshaler = reflect.TypeFor[interface{ UnmarshalYAML(func(any) error) error }]()
	textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()
)

const (
	maxShownValue = 40   // runes of a value quoted back in an error
	maxFieldPaths = 1000 // paths searched for a key indented at the wrong level
)

func (c *checker) fail(line int, path string, err error) {
	c.errs = append(c.errs, &FieldError{Line: line, Field: path, Err: err})
}

// check reports what is wrong with node n as a value of type t at path.
func (c *checker) check(n *yaml.Node, t reflect.Type, path string) {
	if n == nil || c.budget <= 0 {
		return
	}
	c.budget--
	switch n.Kind {
	case yaml.AliasNode:
		c.check(n.Alias, t, path)
		return
	case yaml.DocumentNode:
		if len(n.Content) > 0 {
			c.check(n.Content[0], t, path)
		}
		return
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t == nodeType || t.Kind() == reflect.Interface && t.NumMethod() == 0:
		return
	case decodesItself(t):
		c.leaf(n, t, path)
		return
	}
	null := n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
	switch t.Kind() {
	case reflect.Struct, reflect.Map:
		switch {
		case null:
		case n.Kind == yaml.MappingNode:
			c.mapping(n, t, path)
		default:
			c.wantMapping(n, t, path)
		}
	case reflect.Slice, reflect.Array:
		switch {
		case null:
		case t.Elem().Kind() == reflect.Uint8 && n.Kind == yaml.ScalarNode:
			c.leaf(n, t, path) // !!binary
		case n.Kind == yaml.SequenceNode:
			for i, item := range n.Content {
				p := fmt.Sprintf("%s[%d]", path, i)
				c.note(p, item.Line)
				c.check(item, t.Elem(), p)
			}
		default:
			c.fail(n.Line, path, fmt.Errorf("%s, want %s", describeNode(n), describeType(t)))
		}
	default:
		c.leaf(n, t, path)
	}
}

func (c *checker) wantMapping(n *yaml.Node, t reflect.Type, path string) {
	if path == "" {
		c.fail(n.Line, path, fmt.Errorf("the file holds %s, want key: value lines", describeNode(n)))
		return
	}
	c.fail(n.Line, path, fmt.Errorf("%s, want %s", describeNode(n), describeType(t)))
}

// decodesItself tells whether values of t are decoded by their own method,
// or are scalars to yaml.v3 however they are built.
func decodesItself(t reflect.Type) bool {
	p := reflect.PointerTo(t)
	return t == timeType || t == durationType ||
		p.Implements(unmarshalerType) || p.Implements(obsoleteUnmarshaler) || p.Implements(textUnmarshalerType)
}

var wholeNumber = regexp.MustCompile(`^[-+]?[0-9][0-9_]*$`)

// leaf has yaml.v3 decode n into a fresh t, and rewords its complaint.
func (c *checker) leaf(n *yaml.Node, t reflect.Type, path string) {
	err := n.Decode(reflect.New(t).Interface())
	if err == nil && isInt(t) && n.Kind == yaml.ScalarNode && n.ShortTag() == "!!float" {
		// yaml.v3 would drop the fraction of max_rows: 2.5 without a word.
		if f, perr := strconv.ParseFloat(n.Value, 64); perr != nil || f != math.Trunc(f) {
			c.fail(n.Line, path, fmt.Errorf("%s, want %s", shown(n.Value), describeType(t)))
		}
		return
	}
	if err == nil {
		return
	}
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		// The type's own UnmarshalText or UnmarshalYAML said no: its
		// words are for users already, but may not say what was written.
		v := shown(n.Value)
		if n.Kind == yaml.ScalarNode && !strings.Contains(err.Error(), v) {
			err = fmt.Errorf("%s: %w", v, err)
		}
		c.fail(n.Line, path, err)
		return
	}
	if n.Kind == yaml.ScalarNode && isInt(t) && wholeNumber.MatchString(n.Value) &&
		(t.Kind() < reflect.Uint || !strings.HasPrefix(n.Value, "-")) {
		// An integer that still does not fit is too big for the field.
		c.fail(n.Line, path, fmt.Errorf("%s is out of range", shown(n.Value)))
		return
	}
	want := describeType(t)
	if want == "" {
		c.fail(n.Line, path, fmt.Errorf("%s is not valid here", describeNode(n)))
		return
	}
	c.fail(n.Line, path, fmt.Errorf("%s, want %s", describeNode(n), want))
}

func isInt(t reflect.Type) bool {
	return t.Kind() >= reflect.Int && t.Kind() <= reflect.Uintptr
}

// mapping checks a YAML mapping bound for a struct or a Go map.
func (c *checker) mapping(n *yaml.Node, t reflect.Type, path string) {
	var sf *structFields
	if t.Kind() == reflect.Struct {
		sf = c.structFields(t)
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind == yaml.AliasNode && k.Alias != nil {
			k = k.Alias
		}
		if isMerge(k) {
			c.merge(v, t, path)
			continue
		}
		if k.Kind != yaml.ScalarNode {
			c.fail(k.Line, path, errors.New("a key must be a plain name, not a list or a mapping"))
			continue
		}
		p := join(path, k.Value)
		if first, dup := seen[k.Value]; dup {
			c.fail(k.Line, p, fmt.Errorf("given twice (first on line %d)", first))
			continue
		}
		seen[k.Value] = k.Line
		if sf == nil {
			if t.Key().Kind() != reflect.String {
				c.leaf(k, t.Key(), p)
			}
			c.note(p, k.Line)
			c.check(v, t.Elem(), p)
			continue
		}
		if ft, ok := sf.byName[k.Value]; ok {
			c.note(p, k.Line)
			c.check(v, ft, p)
			continue
		}
		if sf.inlineMap != nil {
			c.note(p, k.Line)
			c.check(v, sf.inlineMap, p)
			continue
		}
		c.fail(k.Line, p, c.unknown(k.Value, path, sf))
	}
}

// merge checks the value of a "<<" key: a mapping, or a list of them.
func (c *checker) merge(v *yaml.Node, t reflect.Type, path string) {
	if v.Kind == yaml.AliasNode && v.Alias != nil {
		v = v.Alias
	}
	switch v.Kind {
	case yaml.MappingNode:
		c.check(v, t, path)
	case yaml.SequenceNode:
		for _, m := range v.Content {
			c.check(m, t, path)
		}
	default:
		c.fail(v.Line, path, errors.New("<<: want a mapping or a list of them to merge"))
	}
}

func isMerge(k *yaml.Node) bool {
	return k.Kind == yaml.ScalarNode && k.Value == "<<" && (k.Tag == "" || k.Tag == "!" || k.Tag == "!!merge" || k.Tag == "tag:yaml.org,2002:merge")
}

func (c *checker) note(path string, line int) {
	if _, ok := c.lines[path]; !ok {
		c.lines[path] = line
	}
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// unknown explains an unknown key, suggesting the field meant: a near
// spelling at the same level, or the same name at another level (a key
// indented wrongly).
func (c *checker) unknown(key, parent string, sf *structFields) error {
	if s := nearest(key, sf.names); s != "" {
		return fmt.Errorf("%w, did you mean %s?", ErrUnknownField, join(parent, s))
	}
	for _, p := range c.fieldPaths() {
		i := strings.LastIndexByte(p, '.')
		if normalize(p[i+1:]) != normalize(key) {
			continue
		}
		where := "at the top level, not indented"
		if i >= 0 {
			where = "indented under " + p[:i] + ":"
		}
		return fmt.Errorf("%w here, did you mean %s (%s)?", ErrUnknownField, p, where)
	}
	if len(sf.names) == 0 {
		return ErrUnknownField
	}
	return fmt.Errorf("%w (fields here: %s)", ErrUnknownField, strings.Join(sf.names, ", "))
}

// fieldPaths lists the dotted paths of the root type's fields, through
// nested structs (not lists or maps, where a path would need an index).
func (c *checker) fieldPaths() []string {
	var out []string
	var walk func(t reflect.Type, prefix string, depth int)
	walk = func(t reflect.Type, prefix string, depth int) {
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct || decodesItself(t) || depth > 8 || len(out) > maxFieldPaths {
			return
		}
		sf := c.structFields(t)
		for _, name := range sf.names {
			p := join(prefix, name)
			out = append(out, p)
			walk(sf.byName[name], p, depth+1)
		}
	}
	walk(c.root, "", 0)
	return out
}

// structFields is what yaml.v3 accepts as keys of a struct.
type structFields struct {
	names     []string // in declaration order
	byName    map[string]reflect.Type
	inlineMap reflect.Type // value type of an inline map, which takes any other key
}

// structFields follows yaml.v3's rules: the yaml tag's name, else the Go
// name lower-cased; "-" skipped; ",inline" structs' fields lifted.
func (c *checker) structFields(t reflect.Type) *structFields {
	if sf, ok := c.fields[t]; ok {
		return sf
	}
	sf := &structFields{byName: map[string]reflect.Type{}}
	c.fields[t] = sf // before the fields: a type may contain itself
	c.addFields(sf, t, 0)
	return sf
}

func (c *checker) addFields(sf *structFields, t reflect.Type, depth int) {
	if depth > 8 {
		return
	}
	for i := range t.NumField() {
		f := t.Field(i)
		if f.PkgPath != "" && !f.Anonymous {
			continue
		}
		tag := f.Tag.Get("yaml")
		if tag == "" && !strings.Contains(string(f.Tag), ":") {
			tag = string(f.Tag)
		}
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if inline := strings.Contains(","+opts+",", ",inline,"); inline {
			ft := f.Type
			for ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			switch ft.Kind() {
			case reflect.Struct:
				c.addFields(sf, ft, depth+1)
			case reflect.Map:
				sf.inlineMap = ft.Elem()
			}
			continue
		}
		if f.PkgPath != "" {
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		if _, ok := sf.byName[name]; !ok {
			sf.names = append(sf.names, name)
		}
		sf.byName[name] = f.Type
	}
}

// describeType says in a user's words what a value of t looks like, or ""
// when there is no short way to say it.
func describeType(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t == durationType:
		return "a duration such as 90s or 1m30s"
	case t == timeType:
		return "a time such as 2026-11-27T07:00:00Z"
	}
	switch t.Kind() {
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return "a whole number"
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return "a whole number, 0 or more"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.String:
		return "a single value (text)"
	case reflect.Slice, reflect.Array:
		return `a list: [a, b], or one "- item" a line`
	case reflect.Struct, reflect.Map:
		return "key: value lines indented under it"
	}
	return ""
}

// describeNode says what was written: the value, or its shape.
func describeNode(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "key: value lines"
	case yaml.SequenceNode:
		return "a list"
	}
	return shown(n.Value)
}

// shown quotes a value written in the file, shortened if long.
func shown(v string) string {
	if utf8.RuneCountInString(v) > maxShownValue {
		r := []rune(v)
		v = string(r[:maxShownValue-3]) + "..."
	}
	return strconv.Quote(v)
}
