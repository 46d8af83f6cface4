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
