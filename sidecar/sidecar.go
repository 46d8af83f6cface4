// Package sidecar is pgway's HTTP edge and composition root: server, handler pipeline, admin endpoints, shutdown.
package sidecar

import (
	"context"
	"log/slog"

	"github.com/pgway/pgway/internal/config"
)

// Run serves the API described by cfg until ctx is cancelled, then shuts down gracefully.
func Run(ctx context.Context, cfg config.Config, log *slog.Logger) error {
	<-ctx.Done()
	return nil
}
