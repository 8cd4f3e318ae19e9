package broker

import (
	"net"
	"sync"
	"time"

	"github.com/mochi-mqtt/server/v2/listeners"
)

// tracked is mochi-mqtt's TCP listener, keeping count of the connections
// it is serving, so that the broker closes in order: no new connection,
// every client told, every connection's goroutine gone, then the server.
// mochi-mqtt v2.7.9 closes its listeners and clients concurrently with
// connections still being set up (a data race on its server state), and
// lists a closing listener's clients under a read lock it takes twice,
// which deadlocks when a client is removed at that moment.
type tracked struct {
	*listeners.TCP
	mu      sync.Mutex
	closing bool
	serving sync.WaitGroup
}

func newTracked(tcp *listeners.TCP) *tracked { return &tracked{TCP: tcp} }

// Serve serves connections until Close; a connection accepted while the
// listener closes is dropped.
func (l *tracked) Serve(establish listeners.EstablishFn) {
	l.TCP.Serve(func(id string, c net.Conn) error {
		l.mu.Lock()
		if l.closing {
			l.mu.Unlock()
			return c.Close()
		}
		l.serving.Add(1)
		l.mu.Unlock()
		defer l.serving.Done()
		return establish(id, c)
	})
}

// shutdown stops accepting, disconnects the listener's clients with
// disconnect and waits, at most wait, for their connections to end.
func (l *tracked) shutdown(disconnect listeners.CloseFn, wait time.Duration) bool {
	l.mu.Lock()
	l.closing = true
	l.mu.Unlock()
	l.TCP.Close(disconnect)
	done := make(chan struct{})
	go func() { l.serving.Wait(); close(done) }()
	select {
	case <-done:
		return true
	case <-time.After(wait):
		return false
	}
}
