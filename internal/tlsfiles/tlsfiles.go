// Package tlsfiles makes TLS configurations from PEM files, for the hub's
// listeners and for the agents that connect to them.
//
// A server's certificate is reloaded when its files change (checked every
// few seconds) or when Reload is called (the hub does on SIGHUP), without
// dropping a connection: each handshake asks for the current certificate. A
// reload that fails (a half-written file, a key that does not match) keeps
// the certificate in use and says why.
package tlsfiles

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// MinVersion is the oldest TLS spoken: 1.2.
const MinVersion = tls.VersionTLS12

// Server is a server's certificate, kept current from its files.
type Server struct {
	certFile, keyFile string
	clientCAs         *x509.CertPool
	cur               atomic.Pointer[tls.Certificate]
	mu                sync.Mutex // one reload at a time
	seen              []byte     // the files' content last loaded
	reloads           atomic.Uint64
}

// NewServer loads certFile and keyFile (PEM), and clientCA when not empty:
// then clients presenting a certificate must have one it signed (clients
// without one are let in, to be judged by their password or token).
func NewServer(certFile, keyFile, clientCA string) (*Server, error) {
	if certFile == "" || keyFile == "" {
		return nil, errors.New("tls: cert and key must be given together")
	}
	s := &Server{certFile: certFile, keyFile: keyFile}
	if clientCA != "" {
		pool, err := pool(clientCA)
		if err != nil {
			return nil, fmt.Errorf("tls client_ca: %w", err)
		}
		s.clientCAs = pool
	}
	if err := s.Reload(); err != nil {
		return nil, err
	}
	return s, nil
}

// Config is the server side of TLS: each handshake gets the current
// certificate.
func (s *Server) Config() *tls.Config {
	c := &tls.Config{
		MinVersion: MinVersion,
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
			return s.cur.Load(), nil
		},
	}
	if s.clientCAs != nil {
		c.ClientCAs = s.clientCAs
		c.ClientAuth = tls.VerifyClientCertIfGiven
	}
	return c
}

// Mutual is TLS between peers that are each other's client and server
// (the routes between clustered hubs): each presents the certificate in
// use, and must be presented one that caFile's authority signed, both
// ways. The certificate needs both the serverAuth and clientAuth extended
// key usages, and the names the peers dial it by.
func (s *Server) Mutual(caFile string) (*tls.Config, error) {
	p, err := pool(caFile)
	if err != nil {
		return nil, fmt.Errorf("tls ca: %w", err)
	}
	return &tls.Config{
		MinVersion: MinVersion,
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
			return s.cur.Load(), nil
		},
		GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
			return s.cur.Load(), nil
		},
		RootCAs:    p,
		ClientCAs:  p,
		ClientAuth: tls.RequireAndVerifyClientCert,
	}, nil
}

// Pinned is the client side for a process connecting to its own listener
// (the hub to its embedded broker, at an address its certificate may not
// name): the server must present exactly the certificate in use.
func (s *Server) Pinned() *tls.Config {
	return &tls.Config{
		MinVersion:         MinVersion,
		InsecureSkipVerify: true, // verified below: the certificate itself, not its names
		VerifyConnection: func(cs tls.ConnectionState) error {
			cur := s.cur.Load()
			if len(cs.PeerCertificates) == 0 || len(cur.Certificate) == 0 || !bytes.Equal(cs.PeerCertificates[0].Raw, cur.Certificate[0]) {
				return errors.New("tls: the listener does not present this process's own certificate")
			}
			return nil
		},
	}
}

// NotAfter is when the certificate in use expires.
func (s *Server) NotAfter() time.Time {
	if c := s.cur.Load(); c != nil && c.Leaf != nil {
		return c.Leaf.NotAfter
	}
	return time.Time{}
}

// Certificate is the certificate in use.
func (s *Server) Certificate() *tls.Certificate { return s.cur.Load() }

// Reloads counts the certificates loaded after the first.
func (s *Server) Reloads() uint64 { return s.reloads.Load() }

// Reload loads the files again; on error the certificate in use stays.
func (s *Server) Reload() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	certPEM, err := os.ReadFile(s.certFile)
	if err != nil {
		return fmt.Errorf("tls cert: %w", err)
	}
	keyPEM, err := os.ReadFile(s.keyFile)
	if err != nil {
		return fmt.Errorf("tls key: %w", err)
	}
	kp, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return fmt.Errorf("tls cert %s and key %s: %w", s.certFile, s.keyFile, err)
	}
	if kp.Leaf != nil && time.Now().After(kp.Leaf.NotAfter) {
		return fmt.Errorf("tls cert %s: expired %s", s.certFile, kp.Leaf.NotAfter.UTC().Format(time.RFC3339))
	}
	if s.cur.Load() != nil {
		s.reloads.Add(1)
	}
	s.cur.Store(&kp)
	s.seen = append(certPEM, keyPEM...)
	return nil
}

// changed reports whether the files differ from what was last loaded.
func (s *Server) changed() bool {
	certPEM, err1 := os.ReadFile(s.certFile)
	keyPEM, err2 := os.ReadFile(s.keyFile)
	if err1 != nil || err2 != nil {
		return false // being replaced: look again next time
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return !bytes.Equal(s.seen, append(certPEM, keyPEM...))
}

// Watch reloads the certificate when its files change, looking every
// `every`, until ctx is done; failed reloads go to onErr.
func (s *Server) Watch(ctx context.Context, every time.Duration, onErr func(error)) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if s.changed() {
				if err := s.Reload(); err != nil && onErr != nil {
					onErr(err)
				}
			}
		}
	}
}

// Client is the client side of TLS: the servers are verified against
// caFile (the system's roots when empty), and certFile and keyFile, when
// given, are this client's certificate.
func Client(caFile, certFile, keyFile string) (*tls.Config, error) {
	c := &tls.Config{MinVersion: MinVersion}
	if caFile != "" {
		p, err := pool(caFile)
		if err != nil {
			return nil, fmt.Errorf("tls ca: %w", err)
		}
		c.RootCAs = p
	}
	if (certFile == "") != (keyFile == "") {
		return nil, errors.New("tls: cert and key must be given together")
	}
	if certFile != "" {
		kp, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			return nil, fmt.Errorf("tls client cert: %w", err)
		}
		c.Certificates = []tls.Certificate{kp}
	}
	return c, nil
}

// pool reads the PEM certificates in file.
func pool(file string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	p := x509.NewCertPool()
	if !p.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("%s: no PEM certificates found", file)
	}
	return p, nil
}
