package sidecar

import "time"

// SetReadTimeout shortens the request read timeout for a test; the returned func restores it. Servers read
// it when they start.
func SetReadTimeout(d time.Duration) (restore func()) {
	old := readTimeout
	readTimeout = d
	return func() { readTimeout = old }
}
