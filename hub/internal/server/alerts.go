package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/headway-transit/headway/hub/internal/alerts"
)

// maxAlertBody bounds a posted alert.
const maxAlertBody = 64 << 10

// alertsAPI serves the operators' alerts: GET /api/alerts lists every
// alert (feeds' and operators'), POST /api/alerts adds or replaces one,
// DELETE /api/alerts/{id} removes one. Writes are for signed-in operators
// and refused from other sites.
func alertsAPI(mux *http.ServeMux, o Options, private func(http.Handler) http.Handler) {
	cop := http.NewCrossOriginProtection()
	mux.Handle("GET /api/alerts", private(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		as := o.Alerts.All()
		if as == nil {
			as = []alerts.Alert{}
		}
		writeJSON(w, http.StatusOK, as)
	})))
	mux.Handle("POST /api/alerts", private(cop.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if o.Operators == nil {
			writeJSON(w, http.StatusNotFound, apiError{Error: "this hub takes no operators' alerts"})
			return
		}
		b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxAlertBody))
		if err != nil {
			writeJSON(w, http.StatusRequestEntityTooLarge, apiError{Error: fmt.Sprintf("alert larger than %d bytes", maxAlertBody)})
			return
		}
		var a alerts.Alert
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&a); err != nil {
			writeJSON(w, http.StatusBadRequest, apiError{Error: "alert: " + err.Error()})
			return
		}
		kept, err := o.Operators.Put(a)
		if err != nil {
			code := http.StatusBadRequest
			if errors.Is(err, alerts.ErrNotReady) || strings.Contains(err.Error(), "sharing with the cluster") {
				code = http.StatusServiceUnavailable
				w.Header().Set("Retry-After", "2")
			}
			writeJSON(w, code, apiError{Error: err.Error()})
			return
		}
		writeJSON(w, http.StatusCreated, kept)
	}))))
	mux.Handle("DELETE /api/alerts/{id}", private(cop.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if o.Operators == nil {
			writeJSON(w, http.StatusNotFound, apiError{Error: "this hub takes no operators' alerts"})
			return
		}
		ok, err := o.Operators.Delete(r.PathValue("id"))
		switch {
		case errors.Is(err, alerts.ErrNotReady):
			w.Header().Set("Retry-After", "2")
			writeJSON(w, http.StatusServiceUnavailable, apiError{Error: err.Error()})
		case err != nil:
			writeJSON(w, http.StatusInternalServerError, apiError{Error: err.Error()})
		case !ok:
			writeJSON(w, http.StatusNotFound, apiError{Error: fmt.Sprintf("no operator's alert %s (a feed's alerts go with the feed)", quoteID(r.PathValue("id")))})
		default:
			w.WriteHeader(http.StatusNoContent)
		}
	}))))
}
