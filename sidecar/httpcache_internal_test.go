package sidecar

import (
	"bytes"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/pgway/pgway/internal/config"
)

func TestNegotiate(t *testing.T) {
	all := []coding{zstdCoding, brCoding, gzipCoding}
	for _, tc := range []struct {
		ae      string
		offered []coding
		want    coding
		refused bool
	}{
		{"", all, identity, false},
		{"gzip", all, gzipCoding, false},
		{"gzip, deflate, br, zstd", all, zstdCoding, false},
		{"gzip, deflate, br, zstd", []coding{gzipCoding, brCoding}, gzipCoding, false},
		{"br;q=0.9, gzip;q=0.91", all, gzipCoding, false},
		{"br;Q=1.000, gzip;q=0.999", all, brCoding, false},
		{"gzip ; q=0", all, identity, false},
		{"gzip;level=1;q=0.5", all, gzipCoding, false},
		{"*", all, zstdCoding, false},
		{"*;q=0", all, identity, true},
		{"*;q=0, identity", all, identity, false},
		{"identity;q=0", all, identity, true},
		{"identity;q=0, br", all, brCoding, true},
		{"identity;q=0.5, gzip;q=0.4", all, identity, false},
		{"identity, gzip", all, gzipCoding, false}, // equal: compressed
		{"x-gzip", all, gzipCoding, false},
		{"gzip;q=1.5, br;q=.5, zstd;q=0.1234, deflate", all, identity, false}, // all malformed or not offered
		{",, ,gzip,", all, gzipCoding, false},
		{"gzip", nil, identity, false},
	} {
		got, refused := negotiate([]byte(tc.ae), tc.offered)
		if got != tc.want || refused != tc.refused {
			t.Errorf("%q: %s (identity refused %v), want %s (%v)", tc.ae, codingNames[got], refused, codingNames[tc.want], tc.refused)
		}
	}
}

func TestMatchesAny(t *testing.T) {
	tag := []byte(`"abc"`)
	for v, want := range map[string]bool{
		`"abc"`: true, `W/"abc"`: true, `*`: true, ` "x" , W/"abc"`: true, `"x","abc"`: true,
		`"abcd"`: false, `abc`: false, `"ab`: false, ``: false, `"x", junk, "abc"`: false, `"x" "abc"`: true,
	} {
		if got := matchesAny([]byte(v), tag); got != want {
			t.Errorf("%q: %v, want %v", v, got, want)
		}
	}
}

func TestCompressible(t *testing.T) {
	for ct, want := range map[string]bool{
		"application/json; charset=utf-8": true, "text/csv": true, "application/vnd.pgrst.object+json": true,
		"application/openapi+json": true, "application/yaml": true, "image/svg+xml": true, "text/html": true,
		"application/vnd.pgrst.plan+text; for=\"application/json\"": true, "application/x-ndjson": true,
		"application/javascript": true, "image/png": false, "application/octet-stream": false, "": false,
		"application/pdf": false, "APPLICATION/JSON": true,
	} {
		if got := compressible([]byte(ct)); got != want {
			t.Errorf("%q: %v", ct, got)
		}
	}
}

// TestCompressorReuse: a pooled encoder left mid-stream (a stream cut short) encodes the next body whole.
func TestCompressorReuse(t *testing.T) {
	for c := gzipCoding; c < numCodings; c++ {
		z := getCompressor(c, 0)
		_ = z.write(bytes.Repeat([]byte("abandoned "), 1000))
		_ = z.flush()
		z.put()
		for range 3 {
			var resp fasthttp.Response
			body := strings.Repeat(`{"id":1,"name":"x"},`, 500)
			resp.SetBodyString(body)
			if err := compressBody(&resp, c); err != nil {
				t.Fatal(err)
			}
			resp.Header.SetContentEncoding(codingNames[c])
			got, err := resp.BodyUncompressed()
			if err != nil || string(got) != body {
				t.Fatalf("%s: %v, %d bytes", codingNames[c], err, len(got))
			}
		}
	}
}

// BenchmarkFinishBody is finishBody alone, in process: what ETags and compression add to a response of a size.
// none is the setup of each iteration (a response with the body and the headers of a read), without
// finishBody; plain has no Accept-Encoding (the ETag's hash only); browser sends a browser's Accept-Encoding at
// the default server-compression-min-size; gzip, br and zstd compress whatever the size.
func BenchmarkFinishBody(b *testing.B) {
	for _, size := range []struct {
		name string
		rows int
	}{{"by-id", 1}, {"page-25", 25}, {"page-1000", 1000}} {
		body := itemsJSON(size.rows)
		for _, v := range []struct{ name, ae string }{
			{"none", ""}, {"plain", ""}, {"browser", "gzip, deflate, br, zstd"}, {"gzip", "gzip"}, {"br", "br"}, {"zstd", "zstd"},
		} {
			b.Run(fmt.Sprintf("%s/%s", size.name, v.name), func(b *testing.B) {
				cfg := config.Default()
				if v.ae != "" && v.name != "browser" {
					cfg.CompressionMinSize = 0
				}
				s := &Server{log: slog.New(slog.DiscardHandler)}
				ctx := &fasthttp.RequestCtx{}
				ctx.Request.Header.SetMethod("GET")
				if v.ae != "" {
					ctx.Request.Header.Set("Accept-Encoding", v.ae)
				}
				h := &handling{ctx: ctx, snap: &snapshot{set: &settings{cfg: cfg, codings: parseCodings(cfg.Compression)}}, etag: true}
				b.ReportAllocs()
				b.SetBytes(int64(len(body)))
				cpu0, n := processCPU(), 0
				for b.Loop() {
					n++
					resp := &ctx.Response
					resp.Reset()
					resp.SetStatusCode(200)
					resp.Header.Set("Content-Type", "application/json; charset=utf-8")
					resp.Header.Set("Content-Range", "0-24/*")
					resp.Header.Set("Vary", defaultVary)
					resp.SetBody(body)
					if v.name != "none" {
						s.finishBody(h)
					}
				}
				b.ReportMetric(float64((processCPU()-cpu0).Nanoseconds())/float64(n), "cpu-ns/op")
				b.ReportMetric(float64(len(ctx.Response.Body())), "B/resp")
			})
		}
	}
}

// itemsJSON is a JSON array of n rows like bench/'s items (scenario.Seed), ~140 bytes each.
func itemsJSON(n int) []byte {
	r := rand.New(rand.NewPCG(4, 2))
	b := []byte{'['}
	for i := range n {
		if i > 0 {
			b = append(b, ',')
		}
		id := 1 + r.IntN(1000000)
		b = fmt.Appendf(b, `{"id":%d,"name":"item %d","price":%d.%02d,"meta":{"n": %d, "tag": "tag%d", "flags": [%v, %v]},`+
			`"created_at":"2025-12-%02dT%02d:%02d:00+00:00"}`, id, id, r.IntN(1000), r.IntN(100), id, id%100, id%2 == 0,
			id%3 == 0, 1+r.IntN(28), r.IntN(24), r.IntN(60))
	}
	return append(b, ']')
}

// processCPU is the CPU time the process has used (unlike ns/op, not inflated by other work on the machine).
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
