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
	"github.com/pgway/pgway/sidecar/internal/plan"
	"github.com/pgway/pgway/sidecar/internal/request"
)

// docKey identifies one rendered OpenAPI document. Documents are built once per schema-cache snapshot.
type docKey struct {
	schema, role, version, format string
}

// docCache holds the documents rendered from one schema-cache snapshot, and the privileges of the roles that
// needed them (for documents, hints and validation; see rolePrivileges).
type docCache struct {
	snapshot *schemacache.Cache
	settings *settings
	mu       sync.Mutex
	docs     map[docKey][]byte

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
func (s *Server) openAPIDoc(c *call, version, format string) ([]byte, error) {
	if c.set.cfg.OpenAPIMode == "disabled" {
		return nil, apierr.New(http.StatusNotFound, "PGRST126", "Root endpoint metadata is disabled")
	}
	role := ""
	if c.set.cfg.OpenAPIMode != "ignore-privileges" {
		role = c.who.Role
	}
	dc := s.docsFor(c.cache, c.set)
	key := docKey{c.schema, role, version, format}
	dc.mu.Lock()
	defer dc.mu.Unlock()
	if b, ok := dc.docs[key]; ok {
		return b, nil
	}
	opts := openapi.Options{Schema: c.schema, Version: version, ServerURL: c.set.cfg.OpenAPIServerProxyURI}
	if role != "" {
		p, err := s.rolePrivileges(dc, role)
		if err != nil {
			return nil, err
		}
		opts.Allowed = p.Allows
	}
	doc, err := openapi.Build(c.cache, opts)
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

func (s *Server) docsFor(snapshot *schemacache.Cache, set *settings) *docCache {
	s.docsMu.Lock()
	defer s.docsMu.Unlock()
	if s.docs == nil || s.docs.snapshot != snapshot || s.docs.settings != set {
		s.docs = &docCache{snapshot: snapshot, settings: set, docs: map[docKey][]byte{}, privs: map[string]*privEntry{}}
	}
	return s.docs
}

// rolePrivileges returns what role may do in the exposed schemas of dc's snapshot, loading it once (one query;
// concurrent callers wait for the same load). A failed load is not kept.
func (s *Server) rolePrivileges(dc *docCache, role string) (schemacache.Privileges, error) {
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
	e.p, e.err = s.loadPrivileges(role, dc.settings.cfg.DBSchemas)
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
func (s *Server) roleView(c *call) *schemacache.Cache {
	return c.cache.WithVisibility(&lazyVisibility{s: s, snapshot: c.cache, set: c.set, role: c.who.Role})
}

// lazyVisibility loads a role's privileges on first use; when they cannot be loaded, nothing is visible.
type lazyVisibility struct {
	s        *Server
	snapshot *schemacache.Cache
	set      *settings
	role     string
	once     sync.Once
	privs    schemacache.Privileges
}

func (v *lazyVisibility) load() schemacache.Privileges {
	v.once.Do(func() {
		p, err := v.s.rolePrivileges(v.s.docsFor(v.snapshot, v.set), v.role)
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
func (s *Server) serveOpenAPI(c *call, format string) error {
	version := c.set.cfg.OpenAPIVersion
	if v := c.ctx.QueryArgs().Peek("openapi"); len(v) > 0 {
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
	b, err := s.openAPIDoc(c, version, format)
	if err != nil {
		return err
	}
	resp := &c.ctx.Response
	switch format {
	case "yaml":
		resp.Header.Set("Content-Type", "application/yaml; charset=utf-8")
	default:
		resp.Header.Set("Content-Type", "application/openapi+json; charset=utf-8")
	}
	if c.ctx.IsHead() {
		resp.SkipBody = true
		return nil
	}
	resp.SetBody(b)
	return nil
}

// docAlias recognises GET/HEAD /openapi.json and /openapi.yaml.
func docAlias(in request.Input) (string, bool) {
	if in.Method != "GET" && in.Method != "HEAD" {
		return "", false
	}
	switch in.Path {
	case "/openapi.json":
		return "json", true
	case "/openapi.yaml", "/openapi.yml":
		return "yaml", true
	}
	return "", false
}

func (s *Server) serveDocAlias(c *call, in request.Input, format string) error {
	var err error
	if c.schema, err = c.set.schemaFor(&request.Request{Schema: in.AcceptProfile}); err != nil {
		return err
	}
	who, aerr := c.set.auth.Authenticate(string(c.ctx.Request.Header.Peek("Authorization")), time.Now())
	if aerr != nil {
		return aerr
	}
	c.who = who
	return s.serveOpenAPI(c, format)
}

// options answers OPTIONS with the Allow header PostgREST sends.
func (s *Server) options(c *call) error {
	resp := &c.ctx.Response
	resp.Header.Set("Access-Control-Allow-Origin", "*")
	switch {
	case c.req.Relation == "":
		resp.Header.Set("Allow", "OPTIONS,GET,HEAD")
	case c.req.RPC:
		// Volatile functions only take POST; stable and immutable ones may be read with GET too.
		fns, ok := c.cache.Routine(c.schema, c.req.Relation)
		if !ok {
			return apierr.New(http.StatusNotFound, "PGRST202",
				"Could not find the function "+c.schema+"."+c.req.Relation+" in the schema cache")
		}
		allow := "OPTIONS,POST"
		for _, fn := range fns {
			if fn.Volatility != 'v' {
				allow = "OPTIONS,GET,HEAD,POST"
			}
		}
		resp.Header.Set("Allow", allow)
	default:
		rel, err := plan.Relation(s.roleView(c), c.schema, c.req.Relation)
		if err != nil {
			return err
		}
		allow := "OPTIONS,GET,HEAD"
		if rel.Insertable {
			allow += ",POST"
		}
		if rel.Insertable && rel.Updatable && len(rel.PrimaryKey) > 0 {
			allow += ",PUT"
		}
		if rel.Updatable {
			allow += ",PATCH"
		}
		if rel.Deletable {
			allow += ",DELETE"
		}
		resp.Header.Set("Allow", allow)
	}
	return nil
}
