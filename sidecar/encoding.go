package sidecar

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	brrr "github.com/molecule-man/go-brrr"
	"github.com/valyala/fasthttp"

	"github.com/pgway/pgway/internal/apierr"
)

// coding is a content coding of a response body (RFC 9110 8.4.1).
type coding uint8

const (
	identity coding = iota
	gzipCoding
	brCoding
	zstdCoding
	numCodings
)

// codingNames are the codings' names, as Content-Encoding and Accept-Encoding spell them.
var codingNames = [numCodings]string{"identity", "gzip", "br", "zstd"}

// Compression levels: the fastest of each coding, as for any dynamic content. On a JSON page of 1,000 rows
// (150 KB) each takes ~0.5 ms of one core and leaves 15-17% of the bytes (gzip's higher levels save one more
// point for twice the time).
const (
	gzipLevel = gzip.BestSpeed
	brLevel   = 1 // 0 is faster but leaves a third more bytes
)

var zstdLevel = zstd.SpeedFastest

// zstdWindow bounds zstd's window (default 8 MiB): what an encoder holds (~1.5 MB in all with 256 KiB, as gzip's
// and brotli's) and what a client must keep. A JSON body seldom repeats itself farther back.
const zstdWindow = 256 << 10

// parseCodings maps server-compression's names (validated by config) to codings, in their order.
func parseCodings(names []string) []coding {
	out := make([]coding, 0, len(names))
	for _, n := range names {
		for c := gzipCoding; c < numCodings; c++ {
			if codingNames[c] == n {
				out = append(out, c)
			}
		}
	}
	return out
}

// negotiate picks a response's content coding from the request's Accept-Encoding (RFC 9110 12.5.3): among
// offered (the server's codings, in its order of preference) the one the client gives the highest q-value, the
// first of equals; identity when the client accepts none of them (q=0, or not listed and no "*") or prefers
// identity to all of them. identityRefused reports that the client refused identity ("identity;q=0", or "*;q=0"
// with no identity entry). No header, or an empty one, is identity. Malformed elements are skipped.
func negotiate(ae []byte, offered []coding) (best coding, identityRefused bool) {
	var q [numCodings]int // q-values in thousandths; -1: not listed
	for i := range q {
		q[i] = -1
	}
	star := -1
	for rest := ae; len(rest) > 0; {
		var elem []byte
		if i := bytes.IndexByte(rest, ','); i >= 0 {
			elem, rest = rest[:i], rest[i+1:]
		} else {
			elem, rest = rest, nil
		}
		name, params, _ := bytes.Cut(elem, []byte{';'})
		name = bytes.TrimSpace(name)
		qv := 1000
		ok := true
		for len(params) > 0 && ok {
			var p []byte
			p, params, _ = bytes.Cut(params, []byte{';'})
			p = bytes.TrimSpace(p)
			if len(p) >= 2 && (p[0] == 'q' || p[0] == 'Q') && p[1] == '=' {
				qv, ok = parseQ(p[2:])
			}
		}
		if !ok || len(name) == 0 {
			continue
		}
		var c coding
		switch {
		case len(name) == 1 && name[0] == '*':
			star = max(star, qv)
			continue
		case bytes.EqualFold(name, []byte("gzip")) || bytes.EqualFold(name, []byte("x-gzip")):
			c = gzipCoding
		case bytes.EqualFold(name, []byte("br")):
			c = brCoding
		case bytes.EqualFold(name, []byte("zstd")):
			c = zstdCoding
		case bytes.EqualFold(name, []byte("identity")):
			c = identity
		default:
			continue
		}
		q[c] = max(q[c], qv)
	}
	qOf := func(c coding) int {
		switch {
		case q[c] >= 0:
			return q[c]
		case star >= 0:
			return star
		case c == identity:
			return 1 // acceptable unless refused, but after any listed coding
		}
		return 0
	}
	bq := 0
	for _, c := range offered {
		if v := qOf(c); v > bq {
			best, bq = c, v
		}
	}
	qi := qOf(identity)
	if qi > bq {
		best = identity
	}
	return best, qi == 0
}

// parseQ reads a qvalue (RFC 9110 12.4.2: 0, 0.5, 1, 1.000; at most three decimals) in thousandths.
func parseQ(b []byte) (int, bool) {
	if len(b) == 0 || b[0] != '0' && b[0] != '1' || len(b) > 5 || len(b) > 1 && b[1] != '.' {
		return 0, false
	}
	v := int(b[0]-'0') * 1000
	scale := 100
	for _, d := range b[min(len(b), 2):] {
		if d < '0' || d > '9' {
			return 0, false
		}
		v += int(d-'0') * scale
		scale /= 10
	}
	if v > 1000 {
		return 0, false
	}
	return v, true
}

// compressible reports whether a body of this Content-Type is worth compressing: text, JSON, XML, YAML, CSV,
// JavaScript. Images, archives, octet streams (media type handlers may send them) are already compressed or
// opaque.
func compressible(ct []byte) bool {
	if i := bytes.IndexByte(ct, ';'); i >= 0 {
		ct = ct[:i]
	}
	if len(ct) >= 5 && bytes.EqualFold(ct[:5], []byte("text/")) {
		return true
	}
	var lower [96]byte
	if len(ct) > len(lower) {
		return false
	}
	l := lower[:len(ct)]
	for i, c := range ct {
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		l[i] = c
	}
	for _, s := range [...]string{"json", "xml", "yaml", "csv", "javascript", "+text"} {
		if bytes.Contains(l, []byte(s)) {
			return true
		}
	}
	return false
}

// compressor is a pooled encoder of one coding with its output buffer.
type compressor struct {
	c   coding
	out appendWriter
	gz  *gzip.Writer
	br  *brrr.Writer
	zs  *zstd.Encoder
}

// appendWriter appends what is written to b.
type appendWriter struct{ b []byte }

func (w *appendWriter) Write(p []byte) (int, error) {
	w.b = append(w.b, p...)
	return len(p), nil
}

// compressors pools encoders per coding: making one costs far more than using it (zstd's tables, brotli's
// hashers).
var compressors [numCodings]sync.Pool

// maxKeptOutput bounds the output buffer a pooled compressor keeps.
const maxKeptOutput = 1 << 20

// getCompressor returns an encoder of c that writes to its own buffer, emptied, for a body of about sizeHint
// bytes (0: unknown, a stream).
func getCompressor(c coding, sizeHint int) *compressor {
	z, _ := compressors[c].Get().(*compressor)
	if z == nil {
		z = &compressor{c: c}
		var err error
		switch c {
		case gzipCoding:
			z.gz, err = gzip.NewWriterLevel(&z.out, gzipLevel)
		case brCoding:
			z.br, err = brrr.NewWriter(&z.out, brLevel)
		case zstdCoding:
			z.zs, err = zstd.NewWriter(&z.out, zstd.WithEncoderLevel(zstdLevel), zstd.WithEncoderConcurrency(1),
				zstd.WithWindowSize(zstdWindow), zstd.WithLowerEncoderMem(true))
		}
		if err != nil {
			panic(fmt.Sprintf("%s encoder: %v", codingNames[c], err)) // constant options
		}
	}
	z.out.b = z.out.b[:0]
	switch c {
	case gzipCoding:
		z.gz.Reset(&z.out)
	case brCoding:
		z.br.ResetWithSizeHint(&z.out, uint(sizeHint))
	case zstdCoding:
		z.zs.Reset(&z.out)
	}
	return z
}

// put returns z to its pool.
func (z *compressor) put() {
	if cap(z.out.b) > maxKeptOutput {
		z.out.b = nil
	}
	compressors[z.c].Put(z)
}

func (z *compressor) encoder() interface {
	io.Writer
	Flush() error
	Close() error
} {
	switch z.c {
	case gzipCoding:
		return z.gz
	case brCoding:
		return z.br
	}
	return z.zs
}

// write compresses p into z.out (it may keep part of it buffered until flush or close).
func (z *compressor) write(p []byte) error {
	_, err := z.encoder().Write(p)
	return err
}

// flush writes everything written so far to z.out, decodable by the client without what follows.
func (z *compressor) flush() error { return z.encoder().Flush() }

// close ends the compressed stream in z.out.
func (z *compressor) close() error { return z.encoder().Close() }

// compressBody replaces the buffered body of resp with its encoding in c.
func compressBody(resp *fasthttp.Response, c coding) error {
	body := resp.Body()
	z := getCompressor(c, len(body))
	defer z.put()
	if err := z.write(body); err != nil {
		return err
	}
	if err := z.close(); err != nil {
		return err
	}
	resp.SetBody(z.out.b)
	return nil
}

// defaultMaxBody is fasthttp's request body limit, which applies when server-max-body-size is 0.
const defaultMaxBody = fasthttp.DefaultMaxRequestBodySize

// requestBody is the request's body decoded from its Content-Encoding (gzip, x-gzip, deflate, br, zstd,
// identity), read through a reader bounded by server-max-body-size: a body that decompresses beyond it is 413
// PGRST413 as soon as the limit is passed, never inflated further (a zip bomb costs at most the limit).
func (s *Server) requestBody(h *handling) ([]byte, error) {
	req := &h.ctx.Request
	ce := bytes.TrimSpace(req.Header.ContentEncoding())
	if len(ce) == 0 || bytes.EqualFold(ce, []byte("identity")) {
		return req.Body(), nil
	}
	limit := s.cfg.MaxBodyBytes
	if limit <= 0 {
		limit = defaultMaxBody
	}
	var b []byte
	var err error
	switch {
	case bytes.EqualFold(ce, []byte("gzip")) || bytes.EqualFold(ce, []byte("x-gzip")):
		b, err = req.BodyGunzipWithLimit(limit)
	case bytes.EqualFold(ce, []byte("deflate")):
		b, err = req.BodyInflateWithLimit(limit)
	case bytes.EqualFold(ce, []byte("br")):
		b, err = req.BodyUnbrotliWithLimit(limit)
	case bytes.EqualFold(ce, []byte("zstd")):
		b, err = req.BodyUnzstdWithLimit(limit)
	default:
		err = fasthttp.ErrContentEncodingUnsupported
	}
	switch {
	case err == nil:
		return b, nil
	case errors.Is(err, fasthttp.ErrContentEncodingUnsupported):
		return nil, apierr.New(http.StatusUnsupportedMediaType, "PGWAY415", "Unsupported Content-Encoding").
			WithDetails("Request bodies may be encoded with gzip, deflate, br or zstd.").
			WithHeader("Accept-Encoding", "gzip, deflate, br, zstd")
	case errors.Is(err, fasthttp.ErrBodyTooLarge):
		return nil, apierr.New(http.StatusRequestEntityTooLarge, "PGRST413", "Request body too large").
			WithDetails(fmt.Sprintf("The request body exceeds the limit of %d bytes once decompressed.", limit))
	}
	return nil, apierr.New(http.StatusBadRequest, "PGWAY400", "Malformed request body").
		WithDetails("The request body is not valid " + strings.ToLower(string(ce)) + ".")
}
