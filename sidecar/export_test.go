package sidecar

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
)

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

// CheckReplicas checks every read replica once, now, as its checker does every db-replica-check-interval.
func (s *Server) CheckReplicas(ctx context.Context) {
	if s.replicas == nil {
		return
	}
	for _, b := range s.replicas.list {
		cfg, err := monitorConfig(b.uri)
		if err != nil {
			panic(err)
		}
		c, err := pgx.ConnectConfig(ctx, cfg)
		if err == nil {
			err = s.replicas.checkReplica(ctx, b, c)
			_ = c.Close(ctx)
		}
		if err != nil {
			s.replicas.setHealth(b, false, "unreachable", err)
		}
	}
}
