package sidecar

import (
	"slices"
	"strings"

	"github.com/valyala/fasthttp"
)

// corsExposed are the response headers browsers may read, as PostgREST exposes them.
const corsExposed = "Content-Encoding, Content-Location, Content-Range, Content-Type, Date, Location, Server, Transfer-Encoding, Range-Unit"

// cors applies PostgREST's CORS policy (wai-cors) to a request that carries an Origin header. It reports true
// when it answered a preflight request itself.
func (s *Server) cors(c *call) bool {
	ctx := c.ctx
	origin := ctx.Request.Header.Peek("Origin")
	if len(origin) == 0 {
		return false
	}
	resp := &ctx.Response.Header
	allowed := c.set.cfg.ServerCorsAllowedOrigins
	if len(allowed) == 0 {
		resp.Set("Access-Control-Allow-Origin", "*")
	} else if slices.Contains(allowed, string(origin)) {
		resp.Set("Access-Control-Allow-Origin", string(origin))
		resp.Set("Access-Control-Allow-Credentials", "true")
	} else {
		return false // not allowed: no CORS headers (the browser blocks the response)
	}
	reqMethod := ctx.Request.Header.Peek("Access-Control-Request-Method")
	if !ctx.IsOptions() || len(reqMethod) == 0 {
		resp.Set("Access-Control-Expose-Headers", corsExposed)
		return false
	}
	// Preflight.
	headers := "Authorization"
	if h := ctx.Request.Header.Peek("Access-Control-Request-Headers"); len(h) > 0 {
		for _, x := range strings.Split(string(h), ",") {
			if x = strings.TrimSpace(x); x != "" && !strings.EqualFold(x, "authorization") {
				headers += ", " + x
			}
		}
	}
	resp.Set("Access-Control-Allow-Methods", "GET, POST, PATCH, PUT, DELETE, OPTIONS, HEAD")
	// wai-cors adds the simple headers browsers may always send.
	resp.Set("Access-Control-Allow-Headers", headers+", Accept, Accept-Language, Content-Language")
	resp.Set("Access-Control-Max-Age", "86400")
	ctx.SetStatusCode(fasthttp.StatusOK)
	return true
}
