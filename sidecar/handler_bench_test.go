package sidecar_test

import (
	"testing"

	"github.com/valyala/fasthttp"
)

// BenchmarkHandler drives pgway in-process over loopback with fasthttp's client, for CPU and allocation
// profiles of the hot path (go test ./sidecar -run '^$' -bench Handler -benchmem -memprofile mem.out).
// Figures include the client's own work; bench/ is the benchmark of record.
func BenchmarkHandler(b *testing.B) {
	ts := start(b, nil, fixture(b), writeFixture(b))
	for _, c := range []struct {
		name, method, path, body string
	}{
		{"by-id", "GET", "/items?id=eq.2", ""},
		{"filter-order", "GET", "/items?select=id,name,price&price=gt.1&order=id&limit=25", ""},
		{"insert", "POST", "/tasks", `{"title":"bench","project":1}`},
	} {
		b.Run(c.name, func(b *testing.B) {
			req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
			defer fasthttp.ReleaseRequest(req)
			defer fasthttp.ReleaseResponse(resp)
			b.ReportAllocs()
			for b.Loop() {
				req.Reset()
				req.SetRequestURI(ts.URL + c.path)
				req.Header.SetMethod(c.method)
				if c.body != "" {
					req.Header.SetContentType("application/json")
					req.SetBodyString(c.body)
				}
				if err := fasthttp.Do(req, resp); err != nil {
					b.Fatal(err)
				}
				if resp.StatusCode() >= 300 {
					b.Fatalf("%d %s", resp.StatusCode(), resp.Body())
				}
			}
		})
	}
}
