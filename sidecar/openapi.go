package sidecar

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/pgway/pgway/internal/apierr"
	"github.com/pgway/pgway/internal/schemacache"
	"github.com/pgway/pgway/openapi"
	"github.com/pgway/pgway/sidecar/internal/request"
)

// docKey identifies one rendered OpenAPI document. Documents are built once per schema-cache snapshot.
type docKey struct {
	schema, role, version, format string
}

// docCache holds the documents rendered from one snapshot, and the privileges of the roles that needed them
// (for documents, hints and validation; see rolePrivileges).
type docCache struct {
	mu   sync.Mutex
	docs map[docKey][]byte

	privMu sync.Mutex
	privs  map[string]*privEntry
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

// openAPIDoc returns the rendered document for the request's schema, role and version, building it at most once
// per snapshot.
func (s *Server) openAPIDoc(h *handling, version, format string) ([]byte, error) {
	cfg := &h.snap.set.cfg
	if cfg.OpenAPIMode == "disabled" {
		return nil, apierr.New(http.StatusNotFound, "PGRST126", "Root endpoint metadata is disabled")
	}
	role := ""
	if cfg.OpenAPIMode != "ignore-privileges" {
		role = h.who.Role
	}
	dc := h.snap.docs
	key := docKey{h.schema, role, version, format}
	dc.mu.Lock()
	defer dc.mu.Unlock()
	if b, ok := dc.docs[key]; ok {
		return b, nil
	}
	opts := openapi.Options{Schema: h.schema, Version: version, ServerURL: cfg.OpenAPIServerProxyURI,
		BatchMaxOperations: cfg.BatchMaxOperations}
	if role != "" {
		p, err := s.rolePrivileges(h.snap, role)
		if err != nil {
			return nil, err
		}
		opts.Allowed = p.Allows
	}
	doc, err := openapi.Build(h.snap.cache, opts)
	if err != nil {
		return nil, apierr.Internal(err)
	}
	b, err := openapi.Marshal(doc, format)
	if err != nil {
		return nil, apierr.Internal(err)
	}
	// Request strings may point into the server's reused buffers: the cache keeps its own copies.
	key = docKey{strings.Clone(key.schema), strings.Clone(key.role), strings.Clone(key.version), strings.Clone(key.format)}
	dc.docs[key] = b
	return b, nil
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
	b, err := s.openAPIDoc(h, version, format)
	if err != nil {
		return err
	}
	resp := &h.ctx.Response
	h.etag = true
	switch format {
	case "yaml":
		resp.Header.Set("Content-Type", "application/yaml; charset=utf-8")
	default:
		resp.Header.Set("Content-Type", "application/openapi+json; charset=utf-8")
	}
	if h.ctx.IsHead() {
		resp.SkipBody = true
		return nil
	}
	resp.SetBody(b)
	return nil
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
