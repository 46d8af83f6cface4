package sidecar

import (
	"errors"
	"net"
	"syscall"
	"time"
)

// writeIdleTimeout is how long writing a response may make no progress before the connection is dropped. A
// client that reads slowly may take as long as it keeps reading: fasthttp's WriteTimeout would bound the whole
// response instead, cutting a large body short for any client slower than its size per timeout. A variable so
// that tests can shorten it.
var writeIdleTimeout = 60 * time.Second

// writeChunk is the most written under one deadline, so that each chunk must make progress within the timeout.
const writeChunk = 64 << 10

// idleWriteListener hands out connections whose writes time out only when they make no progress.
type idleWriteListener struct {
	net.Listener
	idle time.Duration
}

func (l idleWriteListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &idleWriteConn{Conn: c, idle: l.idle}, nil
}

// idleWriteConn sets a write deadline before each chunk of a write: idle from now. fasthttp writes a
// connection from one goroutine at a time, so it needs no lock.
type idleWriteConn struct {
	net.Conn
	idle time.Duration
	// deadline is the write deadline set last; it is renewed only once a quarter of it has passed, so that
	// fast connections rarely pay for it.
	deadline time.Time
}

func (c *idleWriteConn) Write(p []byte) (n int, err error) {
	for len(p) > 0 {
		chunk := p[:min(len(p), writeChunk)]
		if now := time.Now(); c.deadline.Sub(now) < c.idle*3/4 {
			c.deadline = now.Add(c.idle)
			if err := c.Conn.SetWriteDeadline(c.deadline); err != nil {
				return n, err
			}
		}
		m, err := c.Conn.Write(chunk)
		n += m
		if err != nil {
			return n, err
		}
		p = p[m:]
	}
	return n, nil
}

// SyscallConn is the underlying connection's, for the request watcher's socket poll.
func (c *idleWriteConn) SyscallConn() (syscall.RawConn, error) {
	if sc, ok := c.Conn.(syscall.Conn); ok {
		return sc.SyscallConn()
	}
	return nil, errors.New("not a system connection")
}

// CloseWrite ends the sending side of the underlying connection when it has one (TCP, Unix sockets).
func (c *idleWriteConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return errors.New("the connection cannot close its sending side alone")
}
