package push_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/headway-transit/headway/hub/internal/push"
	"github.com/headway-transit/headway/internal/wire"
)

// auth is a register of two signs for the tests.
func auth(token string) (string, []string, error) {
	switch token {
	case "":
		return "", nil, errors.New("no token: send Authorization: Bearer <the sign's token>")
	case "tok-1":
		return "sign-1", []string{"A", "B"}, nil
	case "tok-2":
		return "sign-2", []string{"C"}, nil
	case "tok-old":
		return "", nil, errors.New(`token revoked: display "sign-3"'s token was revoked`)
	}
	return "", nil, errors.New("unknown token: no sign has it")
}

func bearer(tok string) http.Header {
	if tok == "" {
		return nil
	}
	return http.Header{"Authorization": []string{"Bearer " + tok}}
}

// refusal reads until the hub closes, and returns its error message and
// close code.
func refusal(t *testing.T, c *websocket.Conn) (wire.Error, int) {
	t.Helper()
	var e wire.Error
	for {
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		_, msg, err := c.ReadMessage()
		if err != nil {
			var ce *websocket.CloseError
			if !errors.As(err, &ce) {
				t.Fatalf("no close frame: %v", err)
			}
			return e, ce.Code
		}
		if typ, _ := wire.MessageType(msg); typ == wire.TypeError {
			e, _ = wire.DecodeError(msg)
		}
	}
}

// TestSignTokens: with a register, a sign needs its token, may show only
// its own display's stops, and is cut off when its token is revoked.
func TestSignTokens(t *testing.T) {
	reg := prometheus.NewRegistry()
	s, url := start(t, push.Options{Auth: auth, Registerer: reg})

	for _, c := range []struct{ name, token, want string }{
		{"no token", "", "no token"},
		{"wrong token", "tok-guess", "unknown token"},
		{"revoked token", "tok-old", "token revoked"},
	} {
		ws := dial(t, url, bearer(c.token))
		subscribe(t, ws, "sign-1", "A")
		e, code := refusal(t, ws)
		if code != wire.CloseUnauthorized || e.Code != wire.CodeUnauthorized || !strings.HasPrefix(e.Message, c.want) {
			t.Errorf("%s: close %d, error %+v", c.name, code, e)
		}
	}
	for _, c := range []struct {
		name, display string
		stops         []string
		want          string
	}{
		{"another sign's stop", "sign-1", []string{"A", "C"}, `not registered for stop "C"`},
		{"posing as another sign", "sign-2", []string{"C"}, `display "sign-1"'s, not "sign-2"'s`},
	} {
		ws := dial(t, url, bearer("tok-1"))
		subscribe(t, ws, c.display, c.stops...)
		e, code := refusal(t, ws)
		if code != wire.CloseForbidden || e.Code != wire.CodeForbidden || !strings.Contains(e.Message, c.want) {
			t.Errorf("%s: close %d, error %+v", c.name, code, e)
		}
	}
	if got := denied(t, reg, "no_token"); got != 1 {
		t.Errorf("no_token refusals counted %v, want 1", got)
	}

	// Its own stops: served; revoked while connected: cut off.
	ws := dial(t, url, bearer("tok-1"))
	subscribe(t, ws, "sign-1", "A", "B")
	for range 4 {
		if typ, _ := read(t, ws); typ != wire.TypeBoard && typ != wire.TypeTimetable {
			t.Fatalf("got %s", typ)
		}
	}
	s.Revoked([]string{"sign-1"})
	e, code := refusal(t, ws)
	if code != wire.CloseUnauthorized || !strings.Contains(e.Message, "revoked") {
		t.Errorf("revoked while connected: close %d, %+v", code, e)
	}
}

// denied is headway_ws_denied_total{reason}.
func denied(t *testing.T, reg *prometheus.Registry, reason string) float64 {
	return metric(t, reg, "headway_ws_denied_total", "reason", reason).GetCounter().GetValue()
}
