package sidecar

import (
	"bytes"
	"container/list"
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cespare/xxhash/v2"
	"github.com/klauspost/compress/gzip"

	"github.com/pgway/pgway/internal/apierr"
	"github.com/pgway/pgway/internal/schemacache"
	"github.com/pgway/pgway/openapi"
	"github.com/pgway/pgway/sidecar/internal/request"
)

// docKey identifies one rendered OpenAPI document of a snapshot.
type docKey struct {
	schema, role, version, format string
}

// docCache holds the documents rendered from one snapshot, gzip-compressed and bounded by their total compressed
// size (least recently used first out), and the privileges of the roles that needed them (for documents, hints
// and validation; see rolePrivileges).
type docCache struct {
	mu       sync.Mutex
	docs     map[docKey]*docEntry
	lru      list.List // of *docEntry, most recently used first; only built documents
	size     int64     // compressed bytes of the documents in lru
	maxBytes int64

	privMu sync.Mutex
	privs  map[string]*privEntry
}

// docEntry is one document: done is closed once gz (or err) is set. Concurrent requests for a document being
// built wait for that one build.
type docEntry struct {
	key  docKey
	done chan struct{}
	gz   []byte // the document, gzip-compressed; never modified once set
	raw  int64  // its uncompressed size
	sum  uint64 // XXH64 of the uncompressed document: its ETag
	err  error
	elem *list.Element
}

// maxDocBytes bounds the compressed documents one snapshot keeps. A document of 10,000 tables is a few MB
// compressed (about 100 MB raw), so this holds a dozen of those, or thousands of small ones.
const maxDocBytes = 64 << 20

func newDocCache() *docCache {
	return &docCache{docs: map[docKey]*docEntry{}, privs: map[string]*privEntry{}, maxBytes: maxDocBytes}
}

// get returns the document key, building it with build when it is not cached: build writes the uncompressed
// document, compressed as it goes. Concurrent callers for one key wait for the same build; a failed build is
// not kept. A document larger than the whole bound is served but not kept.
func (dc *docCache) get(key docKey, build func(w io.Writer) error) (*docEntry, error) {
	dc.mu.Lock()
	if e, ok := dc.docs[key]; ok {
		if e.elem != nil {
			dc.lru.MoveToFront(e.elem)
		}
		dc.mu.Unlock()
		<-e.done
		return e, e.err
	}
	// Request strings may point into the server's reused buffers: the cache keeps its own copies.
	key = docKey{strings.Clone(key.schema), strings.Clone(key.role), strings.Clone(key.version), strings.Clone(key.format)}
	e := &docEntry{key: key, done: make(chan struct{})}
	dc.docs[key] = e
	dc.mu.Unlock()

	e.gz, e.raw, e.sum, e.err = compress(build)
	dc.mu.Lock()
	switch {
	case e.err != nil:
		delete(dc.docs, key)
	case int64(len(e.gz)) > dc.maxBytes:
		delete(dc.docs, key)
	default:
		e.elem = dc.lru.PushFront(e)
		dc.size += int64(len(e.gz))
		for dc.size > dc.maxBytes {
			old := dc.lru.Remove(dc.lru.Back()).(*docEntry)
			delete(dc.docs, old.key)
			dc.size -= int64(len(old.gz))
		}
	}
	dc.mu.Unlock()
	close(e.done)
	return e, e.err
}

// countingWriter counts and hashes the bytes written through it.
type countingWriter struct {
	w io.Writer
	n int64
	d *xxhash.Digest
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	_, _ = c.d.Write(p[:n])
	return n, err
}

// compress runs build into a gzip stream (the fastest level: documents are very repetitive, and the
// compressed bytes are what is kept) and returns the compressed bytes, exactly sized, the raw size and the raw
// document's XXH64. The document is compressed on another goroutine while it is written, piece by piece.
func compress(build func(w io.Writer) error) ([]byte, int64, uint64, error) {
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
	if err != nil {
		return nil, 0, 0, err
	}
	pr, pw := io.Pipe()
	zipped := make(chan error, 1)
	go func() {
		_, err := io.Copy(zw, pr)
		if err == nil {
			err = zw.Close()
		}
		pr.CloseWithError(err) // a failed compression stops the build's next write
		zipped <- err
	}()
	cw := &countingWriter{w: pw, d: xxhash.New()}
	err = build(cw)
	pw.CloseWithError(err) // nil: the reader sees the end of the document
	if zerr := <-zipped; err == nil {
		err = zerr
	}
	if err != nil {
		return nil, 0, 0, err
	}
	return bytes.Clone(buf.Bytes()), cw.n, cw.d.Sum64(), nil
}

// etag is the document's strong entity tag in the coding it is sent in (gzip or identity), as appendETag
// writes a read's.
func (e *docEntry) etag(gz bool) string {
	tag := `"` + fmt.Sprintf("%016x", e.sum)
	if gz {
		tag += "-gzip"
	}
	return tag + `"`
}

// privEntry is one role's privileges; done is closed once p or err is set.
type privEntry struct {
	done chan struct{}
	p    schemacache.Privileges
	err  error
}

// maxPrivRoles bounds how many roles' privileges one snapshot keeps (roles come from signed tokens, but a
// deployment may have many).
const maxPrivRoles = 256

// openAPIDoc returns the document for the request's schema, role and version, building it at most once per
// snapshot (while it stays cached).
func (s *Server) openAPIDoc(h *handling, version, format string) (*docEntry, error) {
	cfg := &h.snap.set.cfg
	if cfg.OpenAPIMode == "disabled" {
		return nil, apierr.New(http.StatusNotFound, "PGRST126", "Root endpoint metadata is disabled")
	}
	role := ""
	if cfg.OpenAPIMode != "ignore-privileges" {
		role = h.who.Role
	}
	snap := h.snap
	var started time.Time
	e, err := snap.docs.get(docKey{h.schema, role, version, format}, func(w io.Writer) error {
		started = time.Now()
		opts := openapi.Options{Schema: h.schema, Version: version, ServerURL: cfg.OpenAPIServerProxyURI,
			BatchMaxOperations: cfg.BatchMaxOperations}
		if role != "" {
			p, err := s.rolePrivileges(snap, role)
			if err != nil {
				return err
			}
			opts.Allowed = p.Allows
		}
		return openapi.Write(w, snap.cache, opts, format)
	})
	if err == nil && !started.IsZero() {
		// This request built it: say what it cost (the role's privileges, writing and compressing).
		s.log.Log(context.Background(), LevelNotice, "openapi document built", "schema", h.schema, "role", role, "openapi", version, "format", format,
			"bytes", e.raw, "gzip_bytes", len(e.gz), "duration_ms", float64(time.Since(started).Microseconds())/1000,
			"generation", snap.generation)
	}
	if err != nil {
		if _, ok := err.(*apierr.Error); ok {
			return nil, err
		}
		return nil, apierr.Internal(err)
	}
	return e, nil
}

// rolePrivileges returns what role may do in the exposed schemas of snap, loading it once (one query;
// concurrent callers wait for the same load). A failed load is not kept.
func (s *Server) rolePrivileges(snap *snapshot, role string) (schemacache.Privileges, error) {
	dc := snap.docs
	dc.privMu.Lock()
	e, ok := dc.privs[role]
	if !ok {
		if len(dc.privs) >= maxPrivRoles {
			for k := range dc.privs { // map order is random: drop an arbitrary role
				delete(dc.privs, k)
				break
			}
		}
		e = &privEntry{done: make(chan struct{})}
		dc.privs[strings.Clone(role)] = e // role may point into a request buffer
	}
	dc.privMu.Unlock()
	if ok {
		<-e.done
		return e.p, e.err
	}
	e.p, e.err = s.loadPrivileges(role, snap.set.cfg.DBSchemas)
	if e.err != nil {
		dc.privMu.Lock()
		if dc.privs[role] == e {
			delete(dc.privs, role)
		}
		dc.privMu.Unlock()
	}
	close(e.done)
	return e.p, e.err
}

// roleView is the request's schema cache as its role sees it in hints: "Perhaps you meant …" names only
// relations and functions the role may use. The role's privileges are loaded only when a hint is wanted.
func (s *Server) roleView(h *handling) *schemacache.Cache {
	return h.snap.cache.WithVisibility(&lazyVisibility{s: s, snap: h.snap, role: h.who.Role})
}

// lazyVisibility loads a role's privileges on first use; when they cannot be loaded, nothing is visible.
type lazyVisibility struct {
	s     *Server
	snap  *snapshot
	role  string
	once  sync.Once
	privs schemacache.Privileges
}

func (v *lazyVisibility) load() schemacache.Privileges {
	v.once.Do(func() {
		p, err := v.s.rolePrivileges(v.snap, v.role)
		if err != nil {
			v.s.log.Debug("loading privileges for hints", "role", v.role, "err", err)
			return
		}
		v.privs = p
	})
	return v.privs
}

func (v *lazyVisibility) RelationVisible(q schemacache.QName) bool {
	return v.load().RelationVisible(q)
}

func (v *lazyVisibility) RoutineVisible(q schemacache.QName) bool { return v.load().RoutineVisible(q) }

func (s *Server) loadPrivileges(role string, schemas []string) (schemacache.Privileges, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Release()
	return schemacache.LoadPrivileges(ctx, conn, role, schemas)
}

// serveOpenAPI answers GET / (and /openapi.json, /openapi.yaml) with the OpenAPI document.
func (s *Server) serveOpenAPI(h *handling, format string) error {
	version := h.snap.set.cfg.OpenAPIVersion
	if v := h.ctx.QueryArgs().Peek("openapi"); len(v) > 0 {
		switch string(v) {
		case "3.1", "3.1.0":
			version = "3.1"
		case "3.0", "3.0.3":
			version = "3.0"
		default:
			return apierr.New(http.StatusBadRequest, "PGRST100", "Unsupported OpenAPI version: "+string(v)).
				WithHint("Use openapi=3.0 or openapi=3.1")
		}
	}
	doc, err := s.openAPIDoc(h, version, format)
	if err != nil {
		return err
	}
	resp := &h.ctx.Response
	// The document's ETag was computed when it was built: finishBody, which would hash the body, leaves it alone
	// (a large document is decompressed as it is sent, never held whole).
	h.etag = false
	switch format {
	case "yaml":
		resp.Header.Set("Content-Type", "application/yaml; charset=utf-8")
	default:
		resp.Header.Set("Content-Type", "application/openapi+json; charset=utf-8")
	}
	// The document is kept compressed: sent as it is to clients that take gzip, decompressed while it is sent
	// to the others.
	resp.Header.Set("Vary", "Accept, Prefer, Range, Accept-Encoding")
	gz := acceptsGzip(h.ctx.Request.Header.Peek("Accept-Encoding"))
	if gz {
		resp.Header.Set("Content-Encoding", "gzip")
	}
	tag := doc.etag(gz)
	resp.Header.Set("ETag", tag)
	if ifNoneMatch(&h.ctx.Request.Header, []byte(tag)) {
		notModified(resp)
		return nil
	}
	if h.ctx.IsHead() {
		resp.SkipBody = true
		return nil
	}
	switch {
	case gz:
		resp.SetBodyRaw(doc.gz)
	case doc.raw <= inlineDocBytes:
		zr, err := gzip.NewReader(bytes.NewReader(doc.gz))
		if err != nil {
			return apierr.Internal(err)
		}
		body := resp.BodyWriter()
		if _, err := io.Copy(body, zr); err != nil {
			return apierr.Internal(err)
		}
	default:
		zr, err := gzip.NewReader(bytes.NewReader(doc.gz))
		if err != nil {
			return apierr.Internal(err)
		}
		resp.SetBodyStream(zr, int(doc.raw))
	}
	return nil
}

// inlineDocBytes is the largest document decompressed into the response buffer; a larger one is decompressed
// as it is sent.
const inlineDocBytes = 1 << 20

// acceptsGzip reports whether an Accept-Encoding header value accepts gzip (listed, or *, without q=0).
func acceptsGzip(v []byte) bool {
	for len(v) > 0 {
		var part []byte
		if i := bytes.IndexByte(v, ','); i >= 0 {
			part, v = v[:i], v[i+1:]
		} else {
			part, v = v, nil
		}
		coding, params, _ := bytes.Cut(part, []byte(";"))
		coding = bytes.TrimSpace(coding)
		if !bytes.EqualFold(coding, []byte("gzip")) && !bytes.EqualFold(coding, []byte("x-gzip")) && !bytes.Equal(coding, []byte("*")) {
			continue
		}
		q := bytes.TrimSpace(params)
		if k, val, ok := bytes.Cut(q, []byte("=")); ok && bytes.EqualFold(bytes.TrimSpace(k), []byte("q")) {
			if f, err := strconv.ParseFloat(string(bytes.TrimSpace(val)), 64); err == nil && f == 0 {
				continue
			}
		}
		return true
	}
	return false
}

// serveDocAlias answers /pgway/openapi.json and /pgway/openapi.yaml: the root document under a plain name.
func (s *Server) serveDocAlias(h *handling, in request.Input, format string) error {
	var err error
	if h.schema, err = h.snap.schemaFor(&request.Request{Schema: in.AcceptProfile}); err != nil {
		return err
	}
	if err := s.authenticate(h); err != nil {
		return err
	}
	return s.serveOpenAPI(h, format)
}
