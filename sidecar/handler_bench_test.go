package sidecar_test

import (
	"syscall"
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/pgway/pgway/internal/config"
)

// pageFixture is bench/'s items table (scenario.Seed) at 1,000 rows, for pages of realistic rows: ~140 bytes
// each as JSON, a 25-row page ~3.5 KB, a 1,000-row one ~140 KB.
const pageFixture = `
CREATE TABLE api.page_items (id bigint PRIMARY KEY, name text, price numeric(10,2), meta jsonb, created_at timestamptz);
SELECT setseed(0.42);
INSERT INTO api.page_items
SELECT g, 'item ' || g, round((random() * 1000)::numeric, 2),
       jsonb_build_object('tag', 'tag' || (g % 100), 'n', g, 'flags', jsonb_build_array(g % 2 = 0, g % 3 = 0)),
       timestamptz '2026-01-01' - g * interval '1 minute'
FROM generate_series(1, 1000) g;
GRANT SELECT ON api.page_items TO web_anon;
`

// browserAccept is the Accept-Encoding of current browsers.
const browserAccept = "gzip, deflate, br, zstd"

type benchCase struct {
	name, method, path, body string
	acceptEncoding           string
}

// BenchmarkHandler drives pgway in-process over loopback with fasthttp's client, for CPU and allocation
// profiles of the hot path (go test ./sidecar -run '^$' -bench Handler -benchmem -memprofile mem.out).
// Figures include the client's own work; bench/ is the benchmark of record. cpu-µs/op is the process's CPU
// time (pgway and client; PostgreSQL is another process) per request, which other load on the machine does
// not inflate as it does sec/op. The …/accept-encoding cases send a
// browser's Accept-Encoding: with the default server-compression-min-size (8 KiB) the small bodies are sent as
// they are and cost what they cost without it; page-1000 is compressed (zstd).
func BenchmarkHandler(b *testing.B) {
	ts := start(b, nil, fixture(b), writeFixture(b), pageFixture)
	cases := []benchCase{
		{name: "by-id", method: "GET", path: "/items?id=eq.2"},
		{name: "filter-order", method: "GET", path: "/items?select=id,name,price&price=gt.1&order=id&limit=25"},
		{name: "page-25", method: "GET", path: "/page_items?limit=25"},
		{name: "page-1000", method: "GET", path: "/page_items?limit=1000"},
		{name: "insert", method: "POST", path: "/tasks", body: `{"title":"bench","project":1}`},
	}
	for _, c := range cases {
		runBench(b, ts, c)
		if c.method == "GET" {
			c.name += "/accept-encoding"
			c.acceptEncoding = browserAccept
			runBench(b, ts, c)
		}
	}
}

// BenchmarkHandlerCompressed is what compressing costs when it happens: server-compression-min-size 0, so
// that even the small bodies are compressed, in each coding.
func BenchmarkHandlerCompressed(b *testing.B) {
	ts := start(b, func(c *config.Config) { c.CompressionMinSize = 0 }, fixture(b), writeFixture(b), pageFixture)
	for _, c := range []benchCase{
		{name: "by-id", method: "GET", path: "/items?id=eq.2"},
		{name: "page-25", method: "GET", path: "/page_items?limit=25"},
		{name: "page-1000", method: "GET", path: "/page_items?limit=1000"},
	} {
		for _, coding := range []string{"gzip", "br", "zstd"} {
			c := c
			c.name += "/" + coding
			c.acceptEncoding = coding
			runBench(b, ts, c)
		}
	}
}

func runBench(b *testing.B, ts *testServer, c benchCase) {
	b.Run(c.name, func(b *testing.B) {
		req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
		defer fasthttp.ReleaseRequest(req)
		defer fasthttp.ReleaseResponse(resp)
		b.ReportAllocs()
		cpu0, n := processCPU(), 0
		for b.Loop() {
			n++
			req.Reset()
			req.SetRequestURI(ts.URL + c.path)
			req.Header.SetMethod(c.method)
			if c.acceptEncoding != "" {
				req.Header.Set("Accept-Encoding", c.acceptEncoding)
			}
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
		b.ReportMetric(float64((processCPU()-cpu0).Nanoseconds())/float64(n)/1000, "cpu-µs/op")
		b.ReportMetric(float64(len(resp.Body())), "B/resp")
	})
}

// processCPU is the CPU time this process (pgway and the client, not PostgreSQL) has used: unlike sec/op it
// does not grow with other work on the machine.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
