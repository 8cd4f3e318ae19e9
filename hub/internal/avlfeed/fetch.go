package avlfeed

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"
	"strings"
	"time"
)

// fetcher gets a feed's current document: over HTTP(S) with a conditional
// GET, or from a file read again only when it changed.
type fetcher struct {
	url      string
	file     string
	format   string
	headers  map[string]string
	client   *http.Client
	timeout  time.Duration
	maxBytes int64

	etag, lastModified string    // from the last 200, for the next request
	fileMod            time.Time // the file's mtime and size when last read
	fileSize           int64
}

// fetchError is a failed poll, with the kind it is counted under.
type fetchError struct {
	kind string // http, content_type, too_large, network, file
	err  error
}

func (e *fetchError) Error() string { return e.err.Error() }
func (e *fetchError) Unwrap() error { return e.err }

func failed(kind, format string, args ...any) error {
	return &fetchError{kind: kind, err: fmt.Errorf(format, args...)}
}

// fetch returns the document, or notModified when it has not changed since
// the last fetch.
func (f *fetcher) fetch(ctx context.Context) (body []byte, notModified bool, err error) {
	if f.file != "" {
		return f.readFile()
	}
	ctx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, f.url, nil)
	if err != nil {
		return nil, false, failed("network", "%v", err)
	}
	for k, v := range f.headers {
		req.Header.Set(k, v)
	}
	if f.format == FormatSIRI {
		req.Header.Set("Accept", "application/xml, text/xml")
	} else {
		req.Header.Set("Accept", "application/x-protobuf, application/octet-stream")
	}
	if f.etag != "" {
		req.Header.Set("If-None-Match", f.etag)
	}
	if f.lastModified != "" {
		req.Header.Set("If-Modified-Since", f.lastModified)
	}
	resp, err := f.client.Do(req)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return nil, false, failed("timeout", "no answer within %v", f.timeout)
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
	if resp.ContentLength > f.maxBytes {
		return nil, false, failed("too_large", "document of %d bytes, more than max_bytes %d", resp.ContentLength, f.maxBytes)
	}
	body, err = readAtMost(resp.Body, f.maxBytes)
	if err != nil {
		return nil, false, err
	}
	f.etag, f.lastModified = resp.Header.Get("ETag"), resp.Header.Get("Last-Modified")
	return body, false, nil
}

// checkType refuses a document that says it is something else: an HTML
// error page or a JSON message instead of the feed is the common case (a
// wrong URL, an expired key), and decoding it would give a confusing error.
func (f *fetcher) checkType(ct string) error {
	if ct == "" {
		return nil
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return failed("content_type", "Content-Type %q: %v", ct, err)
	}
	ok := false
	if f.format == FormatSIRI {
		ok = mt == "application/xml" || mt == "text/xml" || strings.HasSuffix(mt, "+xml")
	} else {
		switch mt {
		case "application/x-protobuf", "application/protobuf", "application/vnd.google.protobuf",
			"application/octet-stream", "application/x-google-protobuf", "binary/octet-stream":
			ok = true
		}
	}
	if !ok {
		return failed("content_type", "Content-Type %s is not a %s feed (a wrong URL or an error page?)", mt, f.format)
	}
	return nil
}

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

func (f *fetcher) readFile() ([]byte, bool, error) {
	st, err := os.Stat(f.file)
	if err != nil {
		return nil, false, failed("file", "%v", err)
	}
	if st.ModTime().Equal(f.fileMod) && st.Size() == f.fileSize {
		return nil, true, nil
	}
	if st.Size() > f.maxBytes {
		return nil, false, failed("too_large", "%s: %d bytes, more than max_bytes %d", f.file, st.Size(), f.maxBytes)
	}
	fh, err := os.Open(f.file)
	if err != nil {
		return nil, false, failed("file", "%v", err)
	}
	defer fh.Close()
	b, err := readAtMost(fh, f.maxBytes)
	if err != nil {
		return nil, false, err
	}
	f.fileMod, f.fileSize = st.ModTime(), st.Size()
	return b, false, nil
}
