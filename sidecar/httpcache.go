package sidecar

import (
	"bytes"
	"net/http"

	"github.com/cespare/xxhash/v2"
	"github.com/valyala/fasthttp"
)

// finishBody completes a buffered response: for a read, its ETag and the answer to If-None-Match (304 Not
// Modified); then its content coding (compressed when the client accepts one, the body reaches
// server-compression-min-size and its type is worth it), with Content-Encoding and Vary: Accept-Encoding.
//
// A body under server-compression-min-size costs a length comparison here (and the ETag's hash for a read): the
// Accept-Encoding header is not even read unless it might refuse identity.
func (s *Server) finishBody(h *handling) {
	resp := &h.ctx.Response
	status := resp.StatusCode()
	if status < 200 || status == http.StatusNoContent || status == http.StatusNotModified || resp.IsBodyStream() {
		return // a body stream (a large OpenAPI document being decompressed) is sent as it is read, never held
	}
	body := resp.Body()
	size := len(body)
	// counted: a HEAD read, whose rows were hashed and measured but not kept.
	counted := h.body != nil && h.body.countOnly && h.body.framing != nil
	if counted {
		size = h.body.size
	}
	set := h.snap.set
	// negotiated: the coding depends on Accept-Encoding (Vary), whichever it is — a body that may be
	// compressed, or a small one whose client refuses identity.
	c, negotiated := identity, false
	if len(set.codings) > 0 && size > 0 && len(resp.Header.ContentEncoding()) == 0 {
		ae := h.ctx.Request.Header.Peek("Accept-Encoding")
		large := size >= set.cfg.CompressionMinSize
		if (large || bytes.Contains(ae, []byte("q=0"))) && compressible(resp.Header.ContentType()) {
			best, refused := negotiate(ae, set.codings)
			if large || refused {
				c, negotiated = best, true
			}
		}
	}
	// A read has an ETag, unless its GET would stream (a HEAD counted past server-response-buffer-size): a
	// streamed response's head leaves before its body is known.
	if h.etag && (status == http.StatusOK || status == http.StatusPartialContent) && !(counted && h.body.wouldStream) {
		var buf [64]byte
		tag := resp.Header.Peek("ETag") // set by response.headers: kept
		switch {
		case len(tag) == 0:
			tag = appendETag(buf[:0], h, body, counted, c)
			resp.Header.SetBytesV("ETag", tag)
		case c != identity && !bytes.HasPrefix(tag, []byte("W/")):
			// The function's strong tag names its identity representation: the compressed one only matches
			// it weakly.
			tag = append(append(buf[:0], "W/"...), tag...)
			resp.Header.SetBytesV("ETag", tag)
		}
		if ifNoneMatch(&h.ctx.Request.Header, tag) {
			notModified(resp)
			if negotiated {
				varyAcceptEncoding(&resp.Header)
			}
			return
		}
	}
	if c != identity {
		if len(body) > 0 {
			if err := compressBody(resp, c); err != nil {
				s.log.Error("compressing a response", "coding", codingNames[c], "err", err)
				return
			}
		}
		resp.Header.Set("Content-Encoding", codingNames[c])
	}
	if negotiated {
		varyAcceptEncoding(&resp.Header)
	}
}

// defaultVary is the Vary of reads, as PostgREST sends it.
const defaultVary = "Accept, Prefer, Range"

// varyAcceptEncoding adds Accept-Encoding to Vary (without allocating for the usual Vary).
func varyAcceptEncoding(h *fasthttp.ResponseHeader) {
	if string(h.Peek("Vary")) == defaultVary {
		h.Set("Vary", defaultVary+", Accept-Encoding")
		return
	}
	addVary(h, "Accept-Encoding")
}

// appendETag appends a read's strong entity tag: a 64-bit xxHash (XXH64) of its identity body, Content-Type and
// Content-Range, in hex, and the content coding the body is sent in ("…-gzip"), so that each representation
// — media type, selected columns, page, coding — has its own tag, the same across restarts and replicas.
// counted: the body was hashed as its rows arrived (HEAD).
func appendETag(dst []byte, h *handling, body []byte, counted bool, c coding) []byte {
	var d xxhash.Digest
	if counted {
		d = h.body.digest
	} else {
		d.Reset()
		_, _ = d.Write(body)
	}
	resp := &h.ctx.Response
	_, _ = d.Write([]byte{0})
	_, _ = d.Write(resp.Header.ContentType())
	_, _ = d.Write([]byte{0})
	_, _ = d.Write(resp.Header.Peek("Content-Range"))
	const hex = "0123456789abcdef"
	sum := d.Sum64()
	dst = append(dst, '"')
	for shift := 60; shift >= 0; shift -= 4 {
		dst = append(dst, hex[sum>>uint(shift)&15])
	}
	if c != identity {
		dst = append(dst, '-')
		dst = append(dst, codingNames[c]...)
	}
	return append(dst, '"')
}

// ifNoneMatch evaluates If-None-Match for a GET or HEAD (RFC 9110 13.1.2): true when a field value is "*" or
// lists tag by the weak comparison (the opaque tags are equal, W/ or not). A malformed list ends where it stops
// parsing: what came before counts.
func ifNoneMatch(h *fasthttp.RequestHeader, tag []byte) bool {
	if len(h.Peek("If-None-Match")) == 0 {
		return false
	}
	opaque := bytes.TrimPrefix(tag, []byte("W/"))
	for _, v := range h.PeekAll("If-None-Match") {
		if matchesAny(v, opaque) {
			return true
		}
	}
	return false
}

// matchesAny reports whether the If-None-Match value v is "*" or lists the opaque tag.
func matchesAny(v, opaque []byte) bool {
	for {
		for len(v) > 0 && (v[0] == ' ' || v[0] == '\t' || v[0] == ',') {
			v = v[1:]
		}
		switch {
		case len(v) == 0:
			return false
		case v[0] == '*':
			return true
		}
		v = bytes.TrimPrefix(v, []byte("W/"))
		if len(v) == 0 || v[0] != '"' {
			return false
		}
		end := bytes.IndexByte(v[1:], '"')
		if end < 0 {
			return false
		}
		if bytes.Equal(v[:end+2], opaque) {
			return true
		}
		v = v[end+2:]
	}
}

// notModified turns a response into 304 Not Modified: no body, and of its headers those RFC 9110 15.4.5 asks for
// (ETag, Cache-Control, Content-Location, Vary, Expires…) and pgway's own, without the representation's metadata
// (Content-Type, Content-Range, Content-Encoding, Content-Length).
func notModified(resp *fasthttp.Response) {
	resp.SetStatusCode(http.StatusNotModified)
	resp.ResetBody()
	for _, k := range []string{"Content-Type", "Content-Range", "Content-Encoding", "Content-Length"} {
		resp.Header.Del(k)
	}
}
