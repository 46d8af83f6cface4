package sidecar_test

import (
	"bufio"
	"bytes"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"
	brrr "github.com/molecule-man/go-brrr"

	"github.com/pgway/pgway/internal/config"
)

// cacheFixture adds, over streamFixture, a function whose rows carry Cache-Control through response.headers
// and a table to write to.
const cacheFixture = `
CREATE FUNCTION api.cached_rows() RETURNS SETOF api.big LANGUAGE plpgsql STABLE AS $$
BEGIN
  PERFORM set_config('response.headers', '[{"Cache-Control":"public, max-age=60"}]', true);
  RETURN QUERY SELECT * FROM api.big WHERE id < 5 ORDER BY id;
END $$;
CREATE FUNCTION api.tagged_rows() RETURNS SETOF api.big LANGUAGE plpgsql STABLE AS $$
BEGIN
  PERFORM set_config('response.headers', '[{"ETag":"\"v1\""}]', true);
  RETURN QUERY SELECT * FROM api.big ORDER BY id LIMIT 1000;
END $$;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA api TO web_anon;
-- 2 ms a row, as the executor produces them (a view is inlined; a set-returning function's rows are gathered).
CREATE VIEW api.slow_big AS SELECT b.* FROM api.big b, LATERAL (SELECT pg_sleep(0.002) WHERE b.id > 0) s;
GRANT SELECT ON api.slow_big TO web_anon;
CREATE TABLE api.inbox (id int PRIMARY KEY, note text);
GRANT SELECT, INSERT, UPDATE ON api.inbox TO web_anon;
`

// raw sends one request without Go's transparent decompression: the body is what pgway sent.
func (ts *testServer) raw(method, path string, headers ...string) response {
	ts.t.Helper()
	req, err := http.NewRequest(method, ts.URL+path, nil)
	if err != nil {
		ts.t.Fatal(err)
	}
	for _, h := range headers {
		k, v, _ := strings.Cut(h, ":")
		req.Header.Add(strings.TrimSpace(k), strings.TrimSpace(v))
	}
	c := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{DisableCompression: true}}
	res, err := c.Do(req)
	if err != nil {
		ts.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		ts.t.Fatal(err)
	}
	return response{Status: res.StatusCode, Header: res.Header, Body: string(b)}
}

// decode decodes a body in a content coding with decoders other than the encoders pgway uses where there are
// (the standard library's gzip; klauspost's zstd decoder and go-brrr's reader otherwise).
func decode(t *testing.T, coding string, body []byte) string {
	t.Helper()
	var r io.Reader
	var err error
	switch coding {
	case "", "identity":
		return string(body)
	case "gzip":
		r, err = gzip.NewReader(bytes.NewReader(body))
	case "br":
		r = brrr.NewReader(bytes.NewReader(body))
	case "zstd":
		var d *zstd.Decoder
		d, err = zstd.NewReader(bytes.NewReader(body))
		if err == nil {
			defer d.Close()
			r = d
		}
	default:
		t.Fatalf("coding %q", coding)
	}
	if err != nil {
		t.Fatalf("%s: %v", coding, err)
	}
	out, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("decoding %s: %v", coding, err)
	}
	return string(out)
}

var etagForm = regexp.MustCompile(`^"[0-9a-f]{16}(-gzip|-br|-zstd)?"$`)

// TestETag: reads answer with a strong ETag per representation, and If-None-Match with 304.
func TestETag(t *testing.T) {
	ts := start(t, nil, fixture(t), streamFixture, cacheFixture)
	small := "/big?id=lt.10&order=id"
	first := ts.get(small)
	tag := first.Header.Get("ETag")
	if first.Status != 200 || !etagForm.MatchString(tag) || strings.Contains(tag, "-") {
		t.Fatalf("status %d, ETag %q", first.Status, tag)
	}
	t.Run("stable, and HEAD's is GET's", func(t *testing.T) {
		if again := ts.get(small).Header.Get("ETag"); again != tag {
			t.Errorf("ETag %q then %q", tag, again)
		}
		if head := ts.do("HEAD", small, nil, ""); head.Header.Get("ETag") != tag || head.Body != "" {
			t.Errorf("HEAD: ETag %q, want %q", head.Header.Get("ETag"), tag)
		}
		// A HEAD of a function (one-row body, not counted) and of a page with a count.
		for _, p := range []string{"/rpc/cached_rows", "/big?id=lt.100&order=id"} {
			g, h := ts.get(p, "Prefer: count=exact"), ts.do("HEAD", p, []string{"Prefer: count=exact"}, "")
			if g.Header.Get("ETag") == "" || g.Header.Get("ETag") != h.Header.Get("ETag") {
				t.Errorf("%s: GET's ETag %q, HEAD's %q", p, g.Header.Get("ETag"), h.Header.Get("ETag"))
			}
		}
	})
	t.Run("differs per representation", func(t *testing.T) {
		seen := map[string]string{tag: "json"}
		for name, res := range map[string]response{
			"select":   ts.get("/big?id=lt.10&order=id&select=id,label"),
			"csv":      ts.get(small, "Accept: text/csv"),
			"page":     ts.get("/big?id=lt.10&order=id&limit=5"),
			"count":    ts.get(small, "Prefer: count=exact"), // same body, another Content-Range
			"stripped": ts.get("/big?id=in.(1,2)&order=id", "Accept: application/vnd.pgrst.array+json;nulls=stripped"),
			"plain":    ts.get("/big?id=in.(1,2)&order=id"), // the same body as stripped (no nulls), another type
		} {
			et := res.Header.Get("ETag")
			if res.Status != 200 || !etagForm.MatchString(et) {
				t.Fatalf("%s: status %d, ETag %q", name, res.Status, et)
			}
			if other, dup := seen[et]; dup {
				t.Errorf("%s has %s's ETag %s", name, other, et)
			}
			seen[et] = name
		}
	})
	t.Run("changes with the data", func(t *testing.T) {
		before := ts.get("/big?id=eq.15").Header.Get("ETag")
		ts.DB.Exec(t, `UPDATE api.big SET label = 'fifteen' WHERE id = 15`)
		if after := ts.get("/big?id=eq.15").Header.Get("ETag"); after == before {
			t.Errorf("ETag %q unchanged after the row changed", after)
		}
	})
	t.Run("If-None-Match", func(t *testing.T) {
		weak := "W/" + tag
		for name, inm := range map[string]string{"single": tag, "list": `"nope", ` + tag + `, "other"`, "star": "*",
			"weak": weak, "list without spaces": `"a",` + weak} {
			res := ts.get(small, "If-None-Match: "+inm)
			if res.Status != 304 || res.Body != "" {
				t.Fatalf("%s: status %d, body %q", name, res.Status, res.Body)
			}
			h := res.Header
			if h.Get("ETag") != tag || h.Get("Vary") != "Accept, Prefer, Range" ||
				h.Get("Content-Location") != "/big?id=lt.10&order=id" {
				t.Errorf("%s: 304 headers %v", name, h)
			}
			for _, k := range []string{"Content-Type", "Content-Range", "Content-Encoding"} {
				if v := h.Get(k); v != "" {
					t.Errorf("%s: 304 with %s: %s", name, k, v)
				}
			}
		}
		for name, inm := range map[string]string{"another tag": `"0123456789abcdef"`, "unquoted": strings.Trim(tag, `"`),
			"empty": `""`} {
			if res := ts.get(small, "If-None-Match: "+inm); res.Status != 200 || res.Body != first.Body {
				t.Errorf("%s: status %d", name, res.Status)
			}
		}
		if res := ts.do("HEAD", small, []string{"If-None-Match: " + tag}, ""); res.Status != 304 {
			t.Errorf("HEAD: status %d", res.Status)
		}
		// Two If-None-Match fields are one list.
		req, _ := http.NewRequest("GET", ts.URL+small, nil)
		req.Header.Add("If-None-Match", `"x"`)
		req.Header.Add("If-None-Match", tag)
		if res, err := http.DefaultClient.Do(req); err != nil || res.StatusCode != 304 {
			t.Errorf("two fields: %v %v", res.StatusCode, err)
		} else {
			res.Body.Close()
		}
	})
	t.Run("Cache-Control from response.headers, kept on 304", func(t *testing.T) {
		res := ts.get("/rpc/cached_rows")
		et := res.Header.Get("ETag")
		if res.Status != 200 || res.Header.Get("Cache-Control") != "public, max-age=60" || et == "" {
			t.Fatalf("status %d, Cache-Control %q, ETag %q", res.Status, res.Header.Get("Cache-Control"), et)
		}
		nm := ts.get("/rpc/cached_rows", "If-None-Match: "+et)
		if nm.Status != 304 || nm.Header.Get("Cache-Control") != "public, max-age=60" || nm.Header.Get("ETag") != et {
			t.Errorf("304: status %d, headers %v", nm.Status, nm.Header)
		}
	})
	t.Run("a function's own ETag is kept, weak when compressed", func(t *testing.T) {
		if res := ts.get("/rpc/tagged_rows", "Accept-Encoding: identity"); res.Header.Get("ETag") != `"v1"` {
			t.Errorf("ETag %q", res.Header.Get("ETag"))
		}
		if res := ts.raw("GET", "/rpc/tagged_rows", "Accept-Encoding: gzip"); res.Header.Get("ETag") != `W/"v1"` {
			t.Errorf("compressed: ETag %q", res.Header.Get("ETag"))
		}
		if res := ts.raw("GET", "/rpc/tagged_rows", "Accept-Encoding: gzip", `If-None-Match: "v1"`); res.Status != 304 {
			t.Errorf("If-None-Match: status %d", res.Status)
		}
	})
	t.Run("206 pages and the OpenAPI document", func(t *testing.T) {
		res := ts.get("/big?order=id&limit=5", "Prefer: count=exact")
		if res.Status != 206 || res.Header.Get("ETag") == "" {
			t.Fatalf("status %d, ETag %q", res.Status, res.Header.Get("ETag"))
		}
		if nm := ts.get("/big?order=id&limit=5", "Prefer: count=exact", "If-None-Match: "+res.Header.Get("ETag")); nm.Status != 304 {
			t.Errorf("206 revalidated: %d", nm.Status)
		}
		for _, p := range []string{"/", "/pgway/openapi.json", "/pgway/docs"} {
			doc := ts.get(p)
			if doc.Status != 200 || doc.Header.Get("ETag") == "" {
				t.Fatalf("%s: status %d, ETag %q", p, doc.Status, doc.Header.Get("ETag"))
			}
			if nm := ts.get(p, "If-None-Match: "+doc.Header.Get("ETag")); nm.Status != 304 {
				t.Errorf("%s revalidated: %d", p, nm.Status)
			}
		}
	})
	t.Run("no ETag on writes and errors", func(t *testing.T) {
		for _, res := range []response{
			ts.do("POST", "/inbox", []string{jsonCT, "Prefer: return=representation"}, `{"id":1,"note":"a"}`),
			ts.do("PATCH", "/inbox?id=eq.1", []string{jsonCT, "Prefer: return=representation"}, `{"note":"b"}`),
			ts.do("POST", "/rpc/cached_rows", []string{jsonCT}, `{}`),
			ts.get("/nope"),
			ts.get("/big?id=lt.10", "If-None-Match: *", "Accept: application/vnd.pgrst.object+json"), // 406
		} {
			if res.Header.Get("ETag") != "" || res.Status == 304 {
				t.Errorf("status %d, ETag %q: %s", res.Status, res.Header.Get("ETag"), res.Body)
			}
		}
		// If-None-Match does not make a write conditional.
		if res := ts.do("PATCH", "/inbox?id=eq.1", []string{jsonCT, "If-None-Match: *"}, `{"note":"c"}`); res.Status != 204 {
			t.Errorf("PATCH with If-None-Match: %d", res.Status)
		}
	})
	t.Run("streamed responses have none", func(t *testing.T) {
		st := startOn(t, ts.DB, func(c *config.Config) { c.ResponseBufferBytes = 4096 })
		res := st.get("/big?order=id", "If-None-Match: *")
		if res.Status != 200 || res.Header.Get("ETag") != "" || len(res.Body) < 100000 {
			t.Errorf("status %d, ETag %q, %d bytes", res.Status, res.Header.Get("ETag"), len(res.Body))
		}
		if head := st.do("HEAD", "/big?order=id", nil, ""); head.Header.Get("ETag") != "" {
			t.Errorf("HEAD of a read GET streams: ETag %q", head.Header.Get("ETag"))
		}
		if small := st.get("/big?id=lt.10"); small.Header.Get("ETag") == "" {
			t.Error("a small read has no ETag")
		}
	})
}

// TestCompression: responses are compressed in the coding the client prefers among those pgway offers, past
// server-compression-min-size; ETags and Vary follow; streamed responses are compressed chunk by chunk.
func TestCompression(t *testing.T) {
	ts := start(t, nil, fixture(t), streamFixture, cacheFixture)
	const page = "/big?order=id&limit=1000" // ~50 KB: compressed
	plain := ts.raw("GET", page)
	if plain.Status != 200 || plain.Header.Get("Content-Encoding") != "" || len(plain.Body) < 40000 {
		t.Fatalf("status %d, Content-Encoding %q, %d bytes", plain.Status, plain.Header.Get("Content-Encoding"), len(plain.Body))
	}
	plainTag := plain.Header.Get("ETag")
	t.Run("codings", func(t *testing.T) {
		for _, tc := range []struct{ accept, want string }{
			{"gzip", "gzip"}, {"br", "br"}, {"zstd", "zstd"}, {"x-gzip", "gzip"}, {"GZIP", "gzip"},
			{"gzip, deflate, br, zstd", "zstd"}, // equal: pgway's order
			{"gzip, deflate, br", "br"},
			{"gzip;q=0.5, br;q=0.8", "br"},
			{"br;q=0, gzip", "gzip"},
			{"zstd;q=0.1, gzip;q=1.0", "gzip"},
			{"*", "zstd"},
			{"*;q=0.5, gzip", "gzip"},
			{"*, zstd;q=0", "br"},
			{"identity", ""},
			{"gzip;q=0", ""},
			{"identity;q=1, gzip;q=0.5", ""},
			{"deflate", ""},
			{"gzip;q=2", ""}, // malformed: skipped
			{"", ""},
		} {
			res := ts.raw("GET", page, "Accept-Encoding: "+tc.accept)
			if got := res.Header.Get("Content-Encoding"); got != tc.want {
				t.Errorf("Accept-Encoding %q: Content-Encoding %q, want %q", tc.accept, got, tc.want)
				continue
			}
			if body := decode(t, tc.want, []byte(res.Body)); body != plain.Body {
				t.Errorf("Accept-Encoding %q: decoded body differs (%d bytes, want %d)", tc.accept, len(body), len(plain.Body))
			}
			if !strings.Contains(res.Header.Get("Vary"), "Accept-Encoding") { // also without Accept-Encoding: it decided
				t.Errorf("Accept-Encoding %q: Vary %q", tc.accept, res.Header.Get("Vary"))
			}
			et := res.Header.Get("ETag")
			if want := plainTag; tc.want != "" {
				want = strings.TrimSuffix(plainTag, `"`) + "-" + tc.want + `"`
				if et != want {
					t.Errorf("Accept-Encoding %q: ETag %q, want %q", tc.accept, et, want)
				}
				if n, err := fmt.Sscan(res.Header.Get("Content-Length"), new(int)); n != 1 || err != nil || len(res.Body) >= len(plain.Body)/3 {
					t.Errorf("Accept-Encoding %q: %d bytes of %d, Content-Length %q", tc.accept, len(res.Body), len(plain.Body), res.Header.Get("Content-Length"))
				}
			} else if et != want {
				t.Errorf("Accept-Encoding %q: ETag %q, want %q", tc.accept, et, want)
			}
		}
	})
	t.Run("Go's client decompresses transparently", func(t *testing.T) {
		res, err := http.Get(ts.URL + page)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		if !res.Uncompressed || string(b) != plain.Body {
			t.Errorf("uncompressed %v, %d bytes", res.Uncompressed, len(b))
		}
	})
	t.Run("small bodies are sent as they are", func(t *testing.T) {
		res := ts.raw("GET", "/big?id=lt.10", "Accept-Encoding: gzip, br, zstd")
		if res.Header.Get("Content-Encoding") != "" || res.Header.Get("Vary") != "Accept, Prefer, Range" {
			t.Errorf("Content-Encoding %q, Vary %q", res.Header.Get("Content-Encoding"), res.Header.Get("Vary"))
		}
		// ... unless the client refuses identity.
		res = ts.raw("GET", "/big?id=lt.10", "Accept-Encoding: gzip, identity;q=0")
		if res.Header.Get("Content-Encoding") != "gzip" || decode(t, "gzip", []byte(res.Body)) != ts.get("/big?id=lt.10").Body {
			t.Errorf("identity refused: Content-Encoding %q", res.Header.Get("Content-Encoding"))
		}
		// Refusing everything gets identity all the same.
		if res := ts.raw("GET", page, "Accept-Encoding: *;q=0"); res.Status != 200 || res.Header.Get("Content-Encoding") != "" {
			t.Errorf("*;q=0: status %d, Content-Encoding %q", res.Status, res.Header.Get("Content-Encoding"))
		}
	})
	t.Run("CSV, the OpenAPI document and errors", func(t *testing.T) {
		csv := ts.raw("GET", "/big?order=id&limit=1000", "Accept: text/csv", "Accept-Encoding: br")
		if csv.Header.Get("Content-Encoding") != "br" || !strings.HasPrefix(decode(t, "br", []byte(csv.Body)), "id,label,note\n1,") {
			t.Errorf("CSV: Content-Encoding %q", csv.Header.Get("Content-Encoding"))
		}
		doc := ts.raw("GET", "/", "Accept-Encoding: gzip")
		if doc.Header.Get("Content-Encoding") != "gzip" || !json.Valid([]byte(decode(t, "gzip", []byte(doc.Body)))) {
			t.Errorf("document: Content-Encoding %q", doc.Header.Get("Content-Encoding"))
		}
		if e := ts.raw("GET", "/nope", "Accept-Encoding: gzip"); e.Status != 404 || e.Header.Get("Content-Encoding") != "" {
			t.Errorf("error: %d, Content-Encoding %q", e.Status, e.Header.Get("Content-Encoding"))
		}
	})
	t.Run("If-None-Match per coding", func(t *testing.T) {
		gz := ts.raw("GET", page, "Accept-Encoding: gzip")
		tag := gz.Header.Get("ETag")
		nm := ts.raw("GET", page, "Accept-Encoding: gzip", "If-None-Match: "+tag)
		if nm.Status != 304 || nm.Body != "" || nm.Header.Get("ETag") != tag || nm.Header.Get("Content-Encoding") != "" ||
			nm.Header.Get("Vary") != "Accept, Prefer, Range, Accept-Encoding" {
			t.Errorf("304: status %d, headers %v", nm.Status, nm.Header)
		}
		// The gzip representation's tag does not validate the identity one, nor the reverse.
		if res := ts.raw("GET", page, "If-None-Match: "+tag); res.Status != 200 {
			t.Errorf("identity with gzip's tag: %d", res.Status)
		}
		if res := ts.raw("GET", page, "Accept-Encoding: gzip", "If-None-Match: "+plainTag); res.Status != 200 {
			t.Errorf("gzip with identity's tag: %d", res.Status)
		}
		// HEAD announces GET's coding and tag.
		head := ts.raw("HEAD", page, "Accept-Encoding: gzip")
		if head.Header.Get("Content-Encoding") != "gzip" || head.Header.Get("ETag") != tag {
			t.Errorf("HEAD: Content-Encoding %q, ETag %q", head.Header.Get("Content-Encoding"), head.Header.Get("ETag"))
		}
	})
	t.Run("server-compression", func(t *testing.T) {
		only := startOn(t, ts.DB, func(c *config.Config) { c.Compression = []string{"gzip"}; c.CompressionMinSize = 0 })
		if res := only.raw("GET", "/big?id=eq.1", "Accept-Encoding: zstd, br, gzip;q=0.1"); res.Header.Get("Content-Encoding") != "gzip" {
			t.Errorf("gzip only, min size 0: Content-Encoding %q", res.Header.Get("Content-Encoding"))
		}
		off := startOn(t, ts.DB, func(c *config.Config) { c.Compression = nil })
		res := off.raw("GET", page, "Accept-Encoding: gzip, br, zstd")
		if res.Header.Get("Content-Encoding") != "" || strings.Contains(res.Header.Get("Vary"), "Accept-Encoding") || res.Body != plain.Body {
			t.Errorf("off: Content-Encoding %q, Vary %q", res.Header.Get("Content-Encoding"), res.Header.Get("Vary"))
		}
	})
	t.Run("request bodies", func(t *testing.T) {
		for i, ce := range []string{"gzip", "x-gzip", "deflate", "br", "zstd", "identity"} {
			body := encodeBody(t, ce, []byte(fmt.Sprintf(`{"id":%d,"note":"%s"}`, 100+i, ce)))
			res := ts.do("POST", "/inbox", []string{jsonCT, "Content-Encoding: " + ce, "Prefer: return=representation"}, string(body))
			if res.Status != 201 || !strings.Contains(res.Body, `"note":"`+ce+`"`) {
				t.Errorf("%s: status %d: %s", ce, res.Status, res.Body)
			}
		}
		res := ts.do("POST", "/inbox", []string{jsonCT, "Content-Encoding: compress"}, "xx")
		if res.Status != 415 || !strings.Contains(res.Body, "PGWAY415") || !strings.Contains(res.Header.Get("Accept-Encoding"), "gzip") {
			t.Errorf("unknown coding: %d %v %s", res.Status, res.Header, res.Body)
		}
		if res := ts.do("POST", "/inbox", []string{jsonCT, "Content-Encoding: gzip"}, `{"id":1}`); res.Status != 400 {
			t.Errorf("not gzip: %d %s", res.Status, res.Body)
		}
	})
	t.Run("zip bombs are 413 once decompressed past server-max-body-size", func(t *testing.T) {
		small := startOn(t, ts.DB, func(c *config.Config) { c.MaxBodyBytes = 1 << 20 })
		bomb := bytes.Repeat([]byte(" "), 16<<20) // 16 MiB of JSON white space, a few KB compressed
		for _, ce := range []string{"gzip", "deflate", "br", "zstd"} {
			body := encodeBody(t, ce, bomb)
			if len(body) > 64<<10 {
				t.Fatalf("%s: %d bytes compressed", ce, len(body))
			}
			res := small.do("POST", "/inbox", []string{jsonCT, "Content-Encoding: " + ce}, string(body))
			if res.Status != 413 || !strings.Contains(res.Body, "PGRST413") || !strings.Contains(res.Body, "limit of 1048576 bytes once decompressed") {
				t.Errorf("%s: status %d: %s", ce, res.Status, res.Body)
			}
		}
		// A body within the limit once decompressed passes.
		ok := encodeBody(t, "gzip", append(append([]byte(`{"id":200,"note":"`), bytes.Repeat([]byte("x"), 1000000)...), `"}`...))
		if res := small.do("POST", "/inbox", []string{jsonCT, "Content-Encoding: gzip"}, string(ok)); res.Status != 201 {
			t.Errorf("1 MB decompressed: %d %.200s", res.Status, res.Body)
		}
	})
}

// encodeBody encodes b in a content coding, with the standard library where it has the coding.
func encodeBody(t *testing.T, coding string, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	var w io.WriteCloser
	var err error
	switch coding {
	case "identity":
		return b
	case "gzip", "x-gzip":
		w, err = gzip.NewWriterLevel(&buf, gzip.BestSpeed)
	case "deflate":
		w, err = zlib.NewWriterLevel(&buf, flate.BestSpeed)
	case "br":
		w, err = brrr.NewWriter(&buf, 1)
	case "zstd":
		w, err = zstd.NewWriter(&buf, zstd.WithEncoderLevel(zstd.SpeedFastest))
	}
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestStreamedCompression: a streamed read is compressed as it streams, each chunk decodable when it arrives.
func TestStreamedCompression(t *testing.T) {
	ts := start(t, func(c *config.Config) { c.ResponseBufferBytes = 4096 }, fixture(t), streamFixture, cacheFixture)
	const streamed = "/big?order=id&limit=4000" // ~240 KB: four 64 KiB chunks
	plain := ts.raw("GET", streamed)
	if plain.Header.Get("Content-Length") != "" || len(plain.Body) < 200000 {
		t.Fatalf("not streamed: %d bytes", len(plain.Body))
	}
	for _, c := range []string{"gzip", "br", "zstd"} {
		res := ts.raw("GET", streamed, "Accept-Encoding: "+c)
		if res.Header.Get("Content-Encoding") != c || !strings.Contains(res.Header.Get("Vary"), "Accept-Encoding") ||
			res.Header.Get("ETag") != "" || res.Header.Get("Content-Length") != "" {
			t.Errorf("%s: headers %v", c, res.Header)
		}
		if body := decode(t, c, []byte(res.Body)); body != plain.Body {
			t.Errorf("%s: decoded %d bytes, want %d", c, len(body), len(plain.Body))
		}
		if len(res.Body) > len(plain.Body)/3 {
			t.Errorf("%s: %d bytes for %d", c, len(res.Body), len(plain.Body))
		}
	}
	var rows []json.RawMessage
	if res := ts.get(streamed); json.Unmarshal([]byte(res.Body), &rows) != nil || len(rows) != 4000 {
		t.Errorf("Go's client: %d rows", len(rows))
	}
	// HTTP/1.0: no chunks, the compressed body ends with the connection.
	conn, err := net.Dial("tcp", strings.TrimPrefix(ts.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(conn, "GET %s HTTP/1.0\r\nAccept-Encoding: gzip\r\n\r\n", streamed)
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	conn.Close()
	if res.Header.Get("Content-Encoding") != "gzip" || decode(t, "gzip", b) != plain.Body {
		t.Errorf("HTTP/1.0: Content-Encoding %q, %d bytes", res.Header.Get("Content-Encoding"), len(b))
	}

	t.Run("each chunk is flushed", func(t *testing.T) {
		// slow_big takes ~40 s for its 20,000 rows, ~4 s for each 64 KiB chunk; the first rows decode long before the
		// second chunk, since the first is flushed through the encoder.
		start := time.Now()
		req, _ := http.NewRequest("GET", ts.URL+"/slow_big", nil)
		req.Header.Set("Accept-Encoding", "gzip")
		c := &http.Client{Transport: &http.Transport{DisableCompression: true}}
		res, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		zr, err := gzip.NewReader(res.Body)
		if err != nil {
			t.Fatal(err)
		}
		first := make([]byte, 2000)
		if _, err := io.ReadFull(zr, first); err != nil {
			t.Fatal(err)
		}
		if !bytes.HasPrefix(first, []byte(`[{"id":1,`)) || time.Since(start) > 2*time.Second {
			t.Errorf("first bytes %.40q after %v", first, time.Since(start))
		}
	})
}

// TestCompressionClients: real clients decode what pgway compresses: curl (--compressed: gzip, br, zstd as it was
// built with) and Node's fetch (gzip, br, and zstd where its zlib has it), buffered and streamed.
func TestCompressionClients(t *testing.T) {
	ts := start(t, func(c *config.Config) { c.ResponseBufferBytes = 64 << 10 }, fixture(t), streamFixture)
	paths := map[string]string{"buffered": "/big?order=id&limit=1000", "streamed": "/big?order=id&limit=5000",
		"two columns streamed": "/big?order=id&limit=8000&select=id,label"}
	want := map[string]string{} // URL → SHA-256 of the identity body
	for _, p := range paths {
		res := ts.raw("GET", p)
		sum := sha256.Sum256([]byte(res.Body))
		want[ts.URL+p] = hex.EncodeToString(sum[:])
	}
	if ts.raw("GET", paths["streamed"]).Header.Get("Content-Length") != "" {
		t.Fatal("not streamed")
	}

	t.Run("curl", func(t *testing.T) {
		curl, err := exec.LookPath("curl")
		if err != nil {
			t.Fatal("curl is needed for this test (apt-get install curl)")
		}
		ver, _ := exec.Command(curl, "--version").Output()
		dir := t.TempDir()
		// "" is curl's own Accept-Encoding with --compressed: every coding it decodes.
		for _, c := range []string{"", "gzip", "br", "zstd"} {
			if c != "" && !bytes.Contains(bytes.ToLower(ver), []byte(map[string]string{"gzip": "libz", "br": "brotli", "zstd": "zstd"}[c])) {
				t.Logf("curl was built without %s", c)
				continue
			}
			for name, p := range paths {
				args := []string{"-sS", "--compressed", "-D", filepath.Join(dir, "h"), "-o", filepath.Join(dir, "b")}
				if c != "" {
					args = append(args, "-H", "Accept-Encoding: "+c)
				}
				if out, err := exec.Command(curl, append(args, ts.URL+p)...).CombinedOutput(); err != nil {
					t.Fatalf("curl %s %s: %v\n%s", c, name, err, out)
				}
				head, _ := os.ReadFile(filepath.Join(dir, "h"))
				body, _ := os.ReadFile(filepath.Join(dir, "b"))
				sum := sha256.Sum256(body)
				wantCE := c
				if c == "" {
					wantCE = "zstd" // curl sends deflate, gzip, br, zstd: all equal, pgway's order
				}
				if !regexp.MustCompile(`(?im)^content-encoding: `+wantCE+`\r?$`).Match(head) || hex.EncodeToString(sum[:]) != want[ts.URL+p] {
					t.Errorf("curl %q %s: %d bytes decoded, head:\n%s", c, name, len(body), head)
				}
			}
		}
	})

	t.Run("node fetch", func(t *testing.T) {
		node, err := exec.LookPath("node")
		if err != nil {
			t.Fatal("node is needed for this test (apt-get install nodejs)")
		}
		args := []string{"testdata/httpcache/fetch.mjs"}
		for _, p := range paths {
			args = append(args, ts.URL+p)
		}
		out, err := exec.Command(node, args...).Output()
		if err != nil {
			t.Fatalf("node: %v\n%s", err, out)
		}
		seen := map[string]bool{}
		for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			var r struct {
				URL, Coding, Encoding, SHA256, Error string
				Status, Length                       int
			}
			if err := json.Unmarshal([]byte(line), &r); err != nil {
				t.Fatalf("%q: %v", line, err)
			}
			wantCE := r.Coding
			if r.Coding == "default" {
				wantCE = r.Encoding // Node 20's fetch sends "gzip, deflate" over http (gzip); later ones more
			}
			if r.Error != "" || r.Status != 200 || r.Encoding != wantCE || r.Encoding == "" || r.SHA256 != want[r.URL] {
				t.Errorf("node fetch %s %s: %+v", r.Coding, r.URL, r)
			}
			seen[r.Coding] = true
		}
		t.Logf("node %s decoded %v", strings.TrimSpace(mustOutput(exec.Command(node, "--version"))), seen)
		if !seen["gzip"] || !seen["br"] || !seen["default"] {
			t.Errorf("codings checked: %v", seen)
		}
	})
}

func mustOutput(c *exec.Cmd) string {
	b, _ := c.Output()
	return string(b)
}
