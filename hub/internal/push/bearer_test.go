package push

import (
	"net/http"
	"strings"
	"testing"
)

// FuzzBearer: any Authorization header gives a token or none, never a
// panic, and never one with spaces around it.
func FuzzBearer(f *testing.F) {
	for _, s := range []string{"Bearer hws_abc", "bearer  hws_abc ", "Basic dXNlcg==", "Bearer", "Bearer ", "", "BEARER x y"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, h string) {
		r := &http.Request{Header: http.Header{"Authorization": []string{h}}}
		tok := bearer(r)
		if tok != strings.TrimSpace(tok) {
			t.Errorf("token %q has spaces around it", tok)
		}
		if tok != "" && !strings.Contains(h, tok) {
			t.Errorf("token %q not in header %q", tok, h)
		}
	})
}
