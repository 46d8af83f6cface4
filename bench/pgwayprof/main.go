// Command pgwayprof is the benchmark's profiling build of pgway: `pgway serve` configured from the PGRST_*
// environment (sidecar.Run, the same request path), plus net/http/pprof on 127.0.0.1:$PGWAY_BENCH_PPROF_PORT.
// pgway's admin port has no /debug/pprof/, so `go run ./bench -profile DIR` runs this instead of
// cmd/pgway to capture CPU and allocation profiles; the measured windows of such a run are of this build.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	_ "net/http/pprof" // registers /debug/pprof/ on http.DefaultServeMux
	"os"
	"os/signal"
	"syscall"

	"github.com/pgway/pgway/internal/config"
	"github.com/pgway/pgway/sidecar"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "pgwayprof:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context) error {
	cfg, err := config.Load("", os.Getenv, map[string]string{})
	if err != nil {
		return err
	}
	if p := os.Getenv("PGWAY_BENCH_PPROF_PORT"); p != "" {
		ln, err := net.Listen("tcp4", "127.0.0.1:"+p)
		if err != nil {
			return err
		}
		go http.Serve(ln, nil)
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	return sidecar.Run(ctx, cfg, logger)
}
