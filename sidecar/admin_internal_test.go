package sidecar

import (
	"strings"
	"testing"

	"github.com/valyala/fasthttp"

	"github.com/pgway/pgway/internal/config"
)

// TestAdminPprof: the admin server serves /debug/pprof/ only with admin-server-pprof, which is off by default.
func TestAdminPprof(t *testing.T) {
	get := func(s *Server, uri string) (int, string) {
		var ctx fasthttp.RequestCtx
		ctx.Request.SetRequestURI(uri)
		s.adminServer().Handler(&ctx)
		return ctx.Response.StatusCode(), string(ctx.Response.Body())
	}
	off := &Server{cfg: config.Default(), metrics: newMetrics()}
	for _, uri := range []string{"/debug/pprof/", "/debug/pprof/heap", "/debug/pprof/profile?seconds=1"} {
		if status, _ := get(off, uri); status != fasthttp.StatusNotFound {
			t.Errorf("default config: %s answered %d, want 404", uri, status)
		}
	}
	cfg := config.Default()
	cfg.AdminServerPprof = true
	on := &Server{cfg: cfg, metrics: newMetrics()}
	if status, body := get(on, "/debug/pprof/"); status != fasthttp.StatusOK || !strings.Contains(body, "goroutine") {
		t.Errorf("admin-server-pprof: index answered %d %.80q", status, body)
	}
	if status, body := get(on, "/debug/pprof/goroutine?debug=1"); status != fasthttp.StatusOK || !strings.Contains(body, "goroutine profile") {
		t.Errorf("admin-server-pprof: goroutine profile answered %d %.80q", status, body)
	}
	if status, body := get(on, "/metrics"); status != fasthttp.StatusOK || !strings.Contains(body, "go_goroutines") {
		t.Errorf("admin-server-pprof: /metrics answered %d", status)
	}
	if status, _ := get(on, "/debug/pprofx"); status != fasthttp.StatusNotFound {
		t.Errorf("admin-server-pprof: /debug/pprofx answered %d, want 404", status)
	}
}
