package yamlconf

import (
	"reflect"
	"strings"
)

// Changed lists the top-level keys (their yaml names) whose values differ
// between two configs of the same struct type: what a reload found
// changed. Fields with no yaml name are left out.
func Changed(a, b any) []string {
	va, vb := reflect.Indirect(reflect.ValueOf(a)), reflect.Indirect(reflect.ValueOf(b))
	if va.Type() != vb.Type() || va.Kind() != reflect.Struct {
		return nil
	}
	var out []string
	t := va.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "" || name == "-" || !f.IsExported() {
			continue
		}
		if !reflect.DeepEqual(va.Field(i).Interface(), vb.Field(i).Interface()) {
			out = append(out, name)
		}
	}
	return out
}
