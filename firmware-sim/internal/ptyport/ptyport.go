// Package ptyport is a virtual serial port: a pseudo-terminal whose slave side
// looks to a program like a GPS receiver's serial device, reachable under a
// stable symlink such as /tmp/headway-gps0.
//
// A real UART keeps sending whether or not anyone listens, and data nobody
// read is lost. A PTY instead queues what nobody reads, up to some kilobytes,
// then blocks the writer, and (on some kernels) fails writes with EIO while
// no one has the slave open. Port hides all three: it keeps its own slave
// descriptor open for its whole life, discards unread input beyond
// MaxBacklog bytes before each write, so a reader that attaches late starts
// with fresh sentences rather than minutes-old ones, and when a write still
// cannot complete in WriteTimeout it discards the unread input too. Both
// count as overruns.
//
// The backlog is what the slave's line discipline holds (TIOCINQ). Bytes
// the kernel has not yet moved there from its flip buffer, which a worker
// thread does a moment after each write, are not counted: a burst far
// faster than any receiver, on a loaded machine, can leave some kilobytes
// in flight for a reader that attaches within milliseconds of it.
package ptyport

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"
)

// DefaultWriteTimeout is how long a write waits for a reader to make room.
const DefaultWriteTimeout = 250 * time.Millisecond

// DefaultMaxBacklog is about five seconds of RMC and GGA.
const DefaultMaxBacklog = 1024

// Port is the simulator's end of a PTY.
type Port struct {
	// WriteTimeout bounds each write; set it before the first Write.
	WriteTimeout time.Duration
	// MaxBacklog is how many unread bytes may wait for a reader; more
	// means nobody is reading and they are dropped. Set it before the first
	// Write.
	MaxBacklog int

	link string

	// mu guards the PTY, which Unplug and Replug replace.
	mu        sync.Mutex
	master    *os.File
	slave     *os.File
	tty       string
	unplugged bool
	closed    bool

	overruns atomic.Int64
	replugs  atomic.Int64
}

// Open creates a PTY in raw mode (8N1, no echo, no line editing, 9600 baud
// nominal) and, unless link is empty, points the symlink link at its slave,
// replacing an older symlink there. It refuses to replace anything that is not
// a symlink.
func Open(link string) (*Port, error) {
	if link != "" {
		if fi, err := os.Lstat(link); err == nil && fi.Mode()&os.ModeSymlink == 0 {
			return nil, fmt.Errorf("%s exists and is not a symlink: remove it or choose another -link", link)
		}
	}
	p := &Port{WriteTimeout: DefaultWriteTimeout, MaxBacklog: DefaultMaxBacklog, link: link}
	if err := p.plug(); err != nil {
		return nil, err
	}
	return p, nil
}

// plug opens a new PTY and points the link at it. p.mu must be held or p
// not yet shared.
func (p *Port) plug() (err error) {
	m, s, err := pty.Open()
	if err != nil {
		return fmt.Errorf("open pty: %w (is /dev/ptmx available, devpts mounted?)", err)
	}
	defer func() {
		if err != nil {
			m.Close()
			s.Close()
		}
	}()
	// pty.Open puts the master in blocking mode (it calls Fd), which rules
	// out write deadlines. Get a non-blocking duplicate the runtime can poll.
	fd, err := unix.Dup(int(m.Fd()))
	if err != nil {
		return fmt.Errorf("dup pty master: %w", err)
	}
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		return fmt.Errorf("pty master non-blocking: %w", err)
	}
	m.Close()
	m = os.NewFile(uintptr(fd), "/dev/ptmx")
	p.master, p.slave, p.tty = m, s, s.Name()
	if err := p.makeRaw(); err != nil {
		return err
	}
	if p.link != "" {
		if err := replaceSymlink(p.tty, p.link); err != nil {
			return err
		}
	}
	return nil
}

// Unplug makes the port go away as a USB receiver pulled out does: the
// symlink is removed and the PTY closed, so a reader gets EIO or end of
// file and cannot open the link until Replug. Writes meanwhile are
// discarded. Unplugging an unplugged port does nothing.
func (p *Port) Unplug() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.unplugged {
		return nil
	}
	p.unplugged = true
	return p.unplug()
}

func (p *Port) unplug() error {
	var errs []error
	if p.link != "" {
		if target, err := os.Readlink(p.link); err == nil && target == p.tty {
			if err := os.Remove(p.link); err != nil {
				errs = append(errs, fmt.Errorf("remove symlink: %w", err))
			}
		}
	}
	errs = append(errs, p.master.Close(), p.slave.Close())
	return errors.Join(errs...)
}

// Replug brings an unplugged port back: a new PTY (its tty name may
// differ) under the same symlink. Replugging a plugged port does nothing.
func (p *Port) Replug() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.unplugged || p.closed {
		return nil
	}
	if err := p.plug(); err != nil {
		return err
	}
	p.unplugged = false
	p.replugs.Add(1)
	return nil
}

// Replugs counts the Replug calls that brought the port back.
func (p *Port) Replugs() int64 { return p.replugs.Load() }

func (p *Port) makeRaw() error {
	var err error
	rc, cerr := p.slave.SyscallConn()
	if cerr != nil {
		return fmt.Errorf("raw mode on %s: %w", p.tty, cerr)
	}
	cerr = rc.Control(func(fd uintptr) {
		var t *unix.Termios
		if t, err = unix.IoctlGetTermios(int(fd), unix.TCGETS); err != nil {
			return
		}
		// cfmakeraw, plus 9600 baud so tools that print it see a GPS-like port.
		t.Iflag &^= unix.IGNBRK | unix.BRKINT | unix.PARMRK | unix.ISTRIP | unix.INLCR | unix.IGNCR | unix.ICRNL | unix.IXON
		t.Oflag &^= unix.OPOST
		t.Lflag &^= unix.ECHO | unix.ECHONL | unix.ICANON | unix.ISIG | unix.IEXTEN
		t.Cflag &^= unix.CSIZE | unix.PARENB | unix.CBAUD
		t.Cflag |= unix.CS8 | unix.B9600
		t.Ispeed, t.Ospeed = 9600, 9600
		t.Cc[unix.VMIN] = 1
		t.Cc[unix.VTIME] = 0
		err = unix.IoctlSetTermios(int(fd), unix.TCSETS, t)
	})
	if cerr != nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("raw mode on %s: %w", p.tty, err)
	}
	return nil
}

func replaceSymlink(target, link string) error {
	if fi, err := os.Lstat(link); err == nil && fi.Mode()&os.ModeSymlink == 0 {
		return fmt.Errorf("%s exists and is not a symlink: remove it or choose another -link", link)
	}
	// Build aside and rename over, so a reader never finds the link missing.
	tmp := fmt.Sprintf("%s.%d.tmp", link, os.Getpid())
	os.Remove(tmp)
	if err := os.Symlink(target, tmp); err != nil {
		return fmt.Errorf("create symlink %s: %w", link, err)
	}
	if err := os.Rename(tmp, link); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("create symlink %s: %w", link, err)
	}
	return nil
}

// TTY is the slave device, such as /dev/pts/3; it changes on Replug.
func (p *Port) TTY() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.tty
}

// Link is the symlink path, or "" if there is none.
func (p *Port) Link() string { return p.link }

// String is "link -> tty", or the tty alone without a link.
func (p *Port) String() string {
	tty := p.TTY()
	if p.link == "" {
		return tty
	}
	return p.link + " -> " + tty
}

// Read reads what the other end wrote to the slave: the emulated device's
// input (firmware-sim sign reads a sign's packets). It blocks until there
// is some, and ends with an error once the port is closed.
func (p *Port) Read(b []byte) (int, error) {
	p.mu.Lock()
	m := p.master
	p.mu.Unlock()
	if m == nil {
		return 0, os.ErrClosed
	}
	return m.Read(b)
}

// Overruns counts writes that found the reader's buffer full and threw away
// what it had not read.
func (p *Port) Overruns() int64 { return p.overruns.Load() }

// Write sends b to whoever reads the slave. It does not block for longer than
// about twice WriteTimeout: with no reader, or a stuck one, old data is lost,
// not the new.
func (p *Port) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.unplugged {
		return len(b), nil // a receiver without its cable: nothing arrives
	}
	if p.backlog() > p.MaxBacklog {
		p.overruns.Add(1)
		if err := p.flushInput(); err != nil {
			return 0, err
		}
	}
	n, err := p.writeWithin(b)
	if err == nil || !errors.Is(err, os.ErrDeadlineExceeded) {
		return n, err
	}
	p.overruns.Add(1)
	if err := p.flushInput(); err != nil {
		return n, err
	}
	m, err := p.writeWithin(b[n:])
	return n + m, err
}

func (p *Port) writeWithin(b []byte) (int, error) {
	if err := p.master.SetWriteDeadline(time.Now().Add(p.WriteTimeout)); err != nil {
		return 0, fmt.Errorf("write %s: %w", p.tty, err)
	}
	return p.master.Write(b)
}

// backlog is the number of bytes written that no one has read yet, or 0 if
// the kernel will not say.
func (p *Port) backlog() int {
	rc, err := p.slave.SyscallConn()
	if err != nil {
		return 0
	}
	n := 0
	rc.Control(func(fd uintptr) {
		if v, err := unix.IoctlGetInt(int(fd), unix.TIOCINQ); err == nil {
			n = v
		}
	})
	return n
}

// flushInput discards data written to the master that no one has read.
func (p *Port) flushInput() error {
	rc, err := p.slave.SyscallConn()
	if err != nil {
		return err
	}
	var ierr error
	if err := rc.Control(func(fd uintptr) {
		ierr = unix.IoctlSetInt(int(fd), unix.TCFLSH, unix.TCIFLUSH)
	}); err != nil {
		return err
	}
	if ierr != nil {
		return fmt.Errorf("flush %s: %w", p.tty, ierr)
	}
	return nil
}

// Close removes the symlink, if it still points at this port, and closes
// the PTY. Readers then see end of file or EIO.
func (p *Port) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil
	}
	p.closed = true
	if p.unplugged {
		return nil
	}
	return p.unplug()
}
