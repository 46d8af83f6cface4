package sidecar

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"github.com/valyala/fasthttp"

	"github.com/pgway/pgway/internal/apierr"
	"github.com/pgway/pgway/sidecar/internal/dbexec"
)

// gucResponse asks for response.headers/response.status on calls and writes (where functions and triggers set
// them) and on every request when a pre-request function may set them.
func (set *settings) gucResponse(always bool) *dbexec.GUCResponse {
	if always || set.exec.PreRequest != "" {
		return &dbexec.GUCResponse{}
	}
	return nil
}

// applyGUCResponse overrides the response's status and headers with the GUCs, as PostgREST does (500 PGRST111/
// PGRST112 when they are malformed).
func applyGUCResponse(resp *fasthttp.Response, g *dbexec.GUCResponse) error {
	if g == nil {
		return nil
	}
	if len(g.Headers) > 0 {
		var hs []map[string]string
		if err := json.Unmarshal(g.Headers, &hs); err != nil || !singleKeys(hs) {
			return apierr.New(http.StatusInternalServerError, "PGRST111",
				"response.headers guc must be a JSON array composed of objects with a single key and a string value")
		}
		for _, h := range hs {
			for k, v := range h {
				if strings.EqualFold(k, "Set-Cookie") {
					resp.Header.Add(k, v)
				} else {
					resp.Header.Set(k, v)
				}
			}
		}
	}
	if len(g.Status) > 0 {
		n, err := strconv.Atoi(strings.TrimSpace(string(g.Status)))
		if err != nil || n < 100 || n > 599 {
			return apierr.New(http.StatusInternalServerError, "PGRST112",
				"response.status guc must be a valid status code")
		}
		resp.SetStatusCode(n)
	}
	return nil
}

func singleKeys(hs []map[string]string) bool {
	for _, h := range hs {
		if len(h) != 1 {
			return false
		}
	}
	return true
}
