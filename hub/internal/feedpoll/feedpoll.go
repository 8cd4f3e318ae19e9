// Package feedpoll fetches the current document of an agency's realtime
// feed, vehicle positions or service alerts alike: over HTTP(S) with a
// conditional GET (ETag, If-Modified-Since), the feed's headers, a timeout,
// a size limit and a content-type check; or from a file read again only
// when it changed. What the document means is the caller's business, but
// for a GTFS-Realtime document's envelope (FeedMessage), which every kind
// shares.
package feedpoll

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"os"
	"time"
)

// Fetcher gets one feed's document.
type Fetcher struct {
	URL  string // http(s)://... ; or File
	File string
	// Accept is sent as the Accept header; Types says whether a response's
	// media type may be the feed (a response without one is taken), and
	// Kind names the feed in the refusal ("gtfs-rt", "siri-vm").
	Accept   string
	Types    func(mediaType string) bool
	Kind     string
	Headers  map[string]string
	Client   *http.Client // nil: http.DefaultClient
	Timeout  time.Duration
	MaxBytes int64

	etag, lastModified string    // from the last 200, for the next request
	fileMod            time.Time // the file's mtime and size when last read
	fileSize           int64
}

// Error is a failed fetch, with the kind it is counted under: network,
// timeout, http, content_type, too_large or file.
type Error struct {
	Kind string
	Err  error
}

func (e *Error) Error() string { return e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// KindOf is err's kind, "network" for an error that is not an *Error.
func KindOf(err error) string {
	var fe *Error
	if errors.As(err, &fe) {
		return fe.Kind
	}
	return "network"
}

func failed(kind, format string, args ...any) error {
	return &Error{Kind: kind, Err: fmt.Errorf(format, args...)}
}

// Forget makes the next Fetch read the document whole again: the last one
// could not be used (a file half written, a document that did not decode).
func (f *Fetcher) Forget() {
	f.fileMod, f.etag, f.lastModified = time.Time{}, "", ""
}

// Fetch returns the document, or notModified when it has not changed since
// the last fetch.
func (f *Fetcher) Fetch(ctx context.Context) (body []byte, notModified bool, err error) {
	if f.File != "" {
		return f.readFile()
	}
	ctx, cancel := context.WithTimeout(ctx, f.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, f.URL, nil)
	if err != nil {
		return nil, false, failed("network", "%v", err)
	}
	for k, v := range f.Headers {
		req.Header.Set(k, v)
	}
	if f.Accept != "" {
		req.Header.Set("Accept", f.Accept)
	}
	if f.etag != "" {
		req.Header.Set("If-None-Match", f.etag)
	}
	if f.lastModified != "" {
		req.Header.Set("If-Modified-Since", f.lastModified)
	}
	client := f.Client
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return nil, false, failed("timeout", "no answer within %v", f.Timeout)
		}
		return nil, false, failed("network", "%v", err)
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotModified:
		return nil, true, nil
	case resp.StatusCode != http.StatusOK:
		hint := ""
		if resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden {
			hint = " (check the feed's headers: an API key?)"
		}
		return nil, false, failed("http", "HTTP %s%s", resp.Status, hint)
	}
	if err := f.checkType(resp.Header.Get("Content-Type")); err != nil {
		return nil, false, err
	}
	if resp.ContentLength > f.MaxBytes {
		return nil, false, failed("too_large", "document of %d bytes, more than max_bytes %d", resp.ContentLength, f.MaxBytes)
	}
	body, err = readAtMost(resp.Body, f.MaxBytes)
	if err != nil {
		return nil, false, err
	}
	f.etag, f.lastModified = resp.Header.Get("ETag"), resp.Header.Get("Last-Modified")
	return body, false, nil
}

// checkType refuses a document that says it is something else: an HTML
// error page or a JSON message instead of the feed is the common case (a
// wrong URL, an expired key), and decoding it would give a confusing error.
func (f *Fetcher) checkType(ct string) error {
	if ct == "" || f.Types == nil {
		return nil
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return failed("content_type", "Content-Type %q: %v", ct, err)
	}
	if !f.Types(mt) {
		return failed("content_type", "Content-Type %s is not a %s feed (a wrong URL or an error page?)", mt, f.Kind)
	}
	return nil
}

// Protobuf says whether mt is a media type GTFS-Realtime producers serve.
func Protobuf(mt string) bool {
	switch mt {
	case "application/x-protobuf", "application/protobuf", "application/vnd.google.protobuf",
		"application/octet-stream", "application/x-google-protobuf", "binary/octet-stream":
		return true
	}
	return false
}

// ProtobufAccept is the Accept header for a GTFS-Realtime feed.
const ProtobufAccept = "application/x-protobuf, application/octet-stream"

func readAtMost(r io.Reader, max int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		return nil, failed("network", "reading the document: %v", err)
	}
	if int64(len(b)) > max {
		return nil, failed("too_large", "document larger than max_bytes %d", max)
	}
	return b, nil
}

func (f *Fetcher) readFile() ([]byte, bool, error) {
	st, err := os.Stat(f.File)
	if err != nil {
		return nil, false, failed("file", "%v", err)
	}
	if st.ModTime().Equal(f.fileMod) && st.Size() == f.fileSize {
		return nil, true, nil
	}
	if st.Size() > f.MaxBytes {
		return nil, false, failed("too_large", "%s: %d bytes, more than max_bytes %d", f.File, st.Size(), f.MaxBytes)
	}
	fh, err := os.Open(f.File)
	if err != nil {
		return nil, false, failed("file", "%v", err)
	}
	defer fh.Close()
	b, err := readAtMost(fh, f.MaxBytes)
	if err != nil {
		return nil, false, err
	}
	f.fileMod, f.fileSize = st.ModTime(), st.Size()
	return b, false, nil
}

// MaxBackoff caps the wait between polls of a failing feed.
const MaxBackoff = 5 * time.Minute

// Backoff is the wait after n consecutive failures: every, doubled for
// each failure after the first, at most MaxBackoff.
func Backoff(every time.Duration, n int) time.Duration {
	w := every
	for i := 1; i < n && w < MaxBackoff; i++ {
		w *= 2
	}
	return min(w, MaxBackoff)
}

// Run calls poll every `every` until ctx is done, backing off while it
// fails; failed hears of each failure (for the log) with the count of
// consecutive ones and the wait before the next try. A failing feed never
// stops the hub.
func Run(ctx context.Context, every time.Duration, poll func(context.Context) error, failed func(err error, n int, wait time.Duration)) {
	n := 0
	for {
		wait := every
		if err := poll(ctx); err != nil {
			if ctx.Err() != nil {
				return
			}
			n++
			wait = Backoff(every, n)
			failed(err, n, wait)
		} else {
			n = 0
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
	}
}

// Status is the part of a feed's health every kind of feed shares
// (/api/feeds, the dashboard, headway_feed_up). Each kind's health embeds
// it and adds its own counts.
type Status struct {
	Name        string    `json:"name"`
	Kind        string    `json:"kind"` // vehicles, trip_updates, alerts
	OK          bool      `json:"ok"`   // the last poll worked
	LastPoll    time.Time `json:"last_poll,omitzero"`
	LastSuccess time.Time `json:"last_success,omitzero"`
	Error       string    `json:"error,omitempty"` // the last poll's, while it fails
	Failures    int       `json:"consecutive_failures"`
}

// Failed records a poll at now that failed with err.
func (s *Status) Failed(now time.Time, err error) {
	s.LastPoll, s.OK, s.Error = now, false, err.Error()
	s.Failures++
}

// Succeeded records a poll at now that worked.
func (s *Status) Succeeded(now time.Time) {
	s.LastPoll, s.LastSuccess = now, now
	s.OK, s.Error, s.Failures = true, "", 0
}

// FeedStatus returns s: every kind's health, which embeds a Status, has it.
func (s Status) FeedStatus() Status { return s }

// Config is where and how often a feed is polled; each kind of feed adds
// its own settings to it.
type Config struct {
	Name     string
	URL      string // http(s)://... ; or File
	File     string
	Every    time.Duration
	Timeout  time.Duration
	Headers  map[string]string
	MaxBytes int64
}

// Check reports what is wrong with c.
func (c Config) Check() error {
	if (c.URL == "") == (c.File == "") {
		return errors.New("give url or file, one of them")
	}
	if c.URL != "" {
		u, err := url.Parse(c.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("url %q: want http:// or https://", c.URL)
		}
	}
	if c.Every <= 0 || c.Timeout <= 0 || c.MaxBytes <= 0 {
		return errors.New("every, timeout and max_bytes must be above zero")
	}
	return nil
}

// Protobuf is a fetcher of c's GTFS-Realtime feed, kind naming it in
// errors ("gtfs-rt alerts").
func (c Config) Protobuf(kind string, client *http.Client) *Fetcher {
	return &Fetcher{URL: c.URL, File: c.File, Accept: ProtobufAccept, Types: Protobuf, Kind: kind,
		Headers: c.Headers, Client: client, Timeout: c.Timeout, MaxBytes: c.MaxBytes}
}
