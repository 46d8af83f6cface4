package sidecar

import (
	"net"
	"syscall"

	"golang.org/x/sys/unix"
)

// pollRDHUP is Linux's POLLRDHUP (golang.org/x/sys/unix defines only EPOLLRDHUP, of the same value).
const pollRDHUP = 0x2000

// peerGone reports whether the client closed its side of conn (or reset it). It polls the socket without
// waiting and without reading, so bytes of a pipelined next request stay where fasthttp will read them.
//
// A client that only shuts down its sending side while it still reads (rare in HTTP/1.1) looks gone too.
func peerGone(conn net.Conn) bool {
	sc, ok := conn.(syscall.Conn)
	if !ok {
		return false
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	gone := false
	err = rc.Control(func(fd uintptr) {
		fds := []unix.PollFd{{Fd: int32(fd), Events: pollRDHUP}}
		n, err := unix.Poll(fds, 0)
		gone = err == nil && n > 0 && fds[0].Revents&(pollRDHUP|unix.POLLHUP|unix.POLLERR) != 0
	})
	return err == nil && gone
}
