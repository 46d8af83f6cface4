package sidecar

import "time"

// SetReadTimeout shortens the request read timeout for a test; the returned func restores it. Servers read
// it when they start.
func SetReadTimeout(d time.Duration) (restore func()) {
	old := readTimeout
	readTimeout = d
	return func() { readTimeout = old }
}

// SetWriteIdleTimeout shortens the response write idle timeout for a test; the returned func restores it.
// Servers read it when they start.
func SetWriteIdleTimeout(d time.Duration) (restore func()) {
	old := writeIdleTimeout
	writeIdleTimeout = d
	return func() { writeIdleTimeout = old }
}

// ReplicasInRotation counts the read replicas in rotation.
func (s *Server) ReplicasInRotation() int {
	n := 0
	if s.replicas != nil {
		for _, b := range s.replicas.list {
			if b.healthy.Load() {
				n++
			}
		}
	}
	return n
}
