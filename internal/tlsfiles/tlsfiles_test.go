package tlsfiles_test

import (
	"bufio"
	"context"
	"crypto/tls"
	"io"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/headway-transit/headway/internal/tlsfiles"
	"github.com/headway-transit/headway/internal/tlsfiles/tlstest"
)

// echo serves TLS with cfg on a free port, echoing lines back.
func echo(t *testing.T, cfg *tls.Config) string {
	t.Helper()
	ln, err := tls.Listen("tcp", "127.0.0.1:0", cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				r := bufio.NewReader(c)
				for {
					line, err := r.ReadString('\n')
					if err != nil {
						return
					}
					if _, err := io.WriteString(c, line); err != nil {
						return
					}
				}
			}()
		}
	}()
	return ln.Addr().String()
}

// serial dials addr with cfg and returns the server certificate's serial.
func serial(t *testing.T, addr string, cfg *tls.Config) (int64, *tls.Conn, error) {
	t.Helper()
	c, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", addr, cfg)
	if err != nil {
		return 0, nil, err
	}
	return c.ConnectionState().PeerCertificates[0].SerialNumber.Int64(), c, nil
}

func roundTrip(t *testing.T, c *tls.Conn, msg string) {
	t.Helper()
	if _, err := io.WriteString(c, msg+"\n"); err != nil {
		t.Fatalf("write: %v", err)
	}
	got, err := bufio.NewReader(c).ReadString('\n')
	if err != nil || got != msg+"\n" {
		t.Fatalf("echo %q, %v", got, err)
	}
}

// TestReloadKeepsConnections: a new certificate in the files is served
// to new connections within the watch period; connections open before
// go on; a broken replacement keeps the certificate in use.
func TestReloadKeepsConnections(t *testing.T) {
	ca := tlstest.NewCA(t, "test")
	cert, key := ca.Server(t, "hub", []string{"127.0.0.1", "localhost"}, time.Now().Add(time.Hour))
	s, err := tlsfiles.NewServer(cert, key, "")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	errs := make(chan error, 4)
	go s.Watch(ctx, 20*time.Millisecond, func(err error) { errs <- err })
	addr := echo(t, s.Config())
	client, err := tlsfiles.Client(ca.File, "", "")
	if err != nil {
		t.Fatal(err)
	}
	first, old, err := serial(t, addr, client)
	if err != nil {
		t.Fatal(err)
	}
	defer old.Close()
	roundTrip(t, old, "before")

	// A renewed certificate written over the files.
	cert2, key2 := ca.Server(t, "hub-renewed", []string{"127.0.0.1"}, time.Now().Add(2*time.Hour))
	copyFile(t, cert2, cert)
	copyFile(t, key2, key)
	want := tlstest.Serial(t, cert2)
	deadline := time.Now().Add(5 * time.Second)
	for {
		got, c, err := serial(t, addr, client)
		if err != nil {
			t.Fatal(err)
		}
		c.Close()
		if got == want {
			break
		}
		if got != first || time.Now().After(deadline) {
			t.Fatalf("serving serial %d, want %d after the files changed", got, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
	roundTrip(t, old, "after") // the connection opened before goes on
	if s.Reloads() != 1 {
		t.Errorf("%d reloads, want 1", s.Reloads())
	}

	// A key that does not match: refused, the renewed one still served.
	_, otherKey := ca.Server(t, "other", []string{"127.0.0.1"}, time.Now().Add(time.Hour))
	copyFile(t, otherKey, key)
	select {
	case err := <-errs:
		if !strings.Contains(err.Error(), "private key does not match") {
			t.Errorf("reload error %q", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a mismatched key was not reported")
	}
	if got, c, err := serial(t, addr, client); err != nil || got != want {
		t.Errorf("after a broken reload: serial %d, %v; want %d", got, err, want)
	} else {
		c.Close()
	}
}

// TestRefusals: what a TLS listener must refuse.
func TestRefusals(t *testing.T) {
	ca := tlstest.NewCA(t, "test")
	other := tlstest.NewCA(t, "other")
	cert, key := ca.Server(t, "hub", []string{"127.0.0.1"}, time.Now().Add(time.Hour))
	s, err := tlsfiles.NewServer(cert, key, ca.File)
	if err != nil {
		t.Fatal(err)
	}
	addr := echo(t, s.Config())

	// A client trusting another CA.
	wrong, _ := tlsfiles.Client(other.File, "", "")
	if _, _, err := serial(t, addr, wrong); err == nil || !strings.Contains(err.Error(), "certificate signed by unknown authority") {
		t.Errorf("client trusting another CA: %v", err)
	}
	// Plain text to the TLS port: the server answers with a TLS alert
	// and closes, never with the echo.
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	b, _ := io.ReadAll(c)
	c.Close()
	if strings.Contains(string(b), "GET") {
		t.Errorf("plain text echoed: %q", b)
	}
	// TLS 1.1.
	old, _ := tlsfiles.Client(ca.File, "", "")
	old.MinVersion, old.MaxVersion = tls.VersionTLS10, tls.VersionTLS11
	if _, _, err := serial(t, addr, old); err == nil {
		t.Error("TLS 1.1 accepted")
	}
	// A client certificate from another CA; an expired one from ours.
	// (Go's client would not send one the server's CA list rules out:
	// these are sent whatever the server asks for, as a hostile client
	// would.)
	insist := func(cfg *tls.Config) *tls.Config {
		c := cfg.Certificates[0]
		cfg.Certificates = nil
		cfg.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &c, nil }
		return cfg
	}
	oc, ok := other.Client(t, "bus-9", time.Now().Add(time.Hour))
	bad, _ := tlsfiles.Client(ca.File, oc, ok)
	if err := handshake(addr, insist(bad)); err == nil {
		t.Error("a client certificate from another CA accepted")
	}
	ec, ek := ca.Client(t, "bus-8", time.Now().Add(-time.Minute))
	expired, _ := tlsfiles.Client(ca.File, ec, ek)
	if err := handshake(addr, insist(expired)); err == nil {
		t.Error("an expired client certificate accepted")
	}
	// Ours, and none at all (a sign with a token): let in.
	gc, gk := ca.Client(t, "bus-1", time.Now().Add(time.Hour))
	good, _ := tlsfiles.Client(ca.File, gc, gk)
	if err := handshake(addr, good); err != nil {
		t.Errorf("our client certificate refused: %v", err)
	}
	none, _ := tlsfiles.Client(ca.File, "", "")
	if err := handshake(addr, none); err != nil {
		t.Errorf("no client certificate refused: %v", err)
	}
}

// handshake dials and exchanges a line: with TLS 1.3 a refused client
// certificate shows only at the first read.
func handshake(addr string, cfg *tls.Config) error {
	c, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", addr, cfg)
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(c, "hi\n"); err != nil {
		return err
	}
	_, err = bufio.NewReader(c).ReadString('\n')
	return err
}

func TestBadFiles(t *testing.T) {
	ca := tlstest.NewCA(t, "test")
	cert, key := ca.Server(t, "hub", []string{"127.0.0.1"}, time.Now().Add(time.Hour))
	ec, ek := ca.Server(t, "old", []string{"127.0.0.1"}, time.Now().Add(-time.Minute))
	for _, c := range []struct {
		name, cert, key, ca, want string
	}{
		{"no key", cert, "", "", "cert and key must be given together"},
		{"missing", cert + ".gone", key, "", "no such file"},
		{"expired", ec, ek, "", "expired"},
		{"ca not PEM", cert, key, key, "no PEM certificates"},
	} {
		if _, err := tlsfiles.NewServer(c.cert, c.key, c.ca); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
	}
	if _, err := tlsfiles.Client(key, "", ""); err == nil || !strings.Contains(err.Error(), "no PEM certificates") {
		t.Errorf("client with a key for CA: %v", err)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	// Written whole then renamed, as certificate tools do.
	if err := os.WriteFile(to+".new", b, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(to+".new", to); err != nil {
		t.Fatal(err)
	}
}
