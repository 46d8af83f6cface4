package sidecar

import (
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/pgway/pgway/internal/schemacache"
	"github.com/pgway/pgway/sidecar/internal/request"
	"github.com/pgway/pgway/sidecar/internal/validate"
)

// validateRequest checks the request against the contract of its relation before planning (openapi-validate =
// strict): filter values and JSON body fields against the columns' types, lengths and enums.
func (s *Server) validateRequest(c *handling) error {
	if c.snap.set.cfg.OpenAPIValidate == "off" {
		return nil
	}
	var p validate.Problems
	req := c.req
	if req.RPC {
		fn := c.snap.validators.Function(c.schema, req.Relation)
		if fn == nil {
			return nil
		}
		if req.Method == "POST" {
			if req.ContentType == "application/json" && req.Columns == nil && req.Payload != nil {
				fn.Body(req.Payload.JSON, &p)
			}
		} else {
			fn.Args(req.Params, &p)
		}
		return s.unlessDenied(c, p.Err(), schemacache.QName{Schema: c.schema, Name: req.Relation}, "function",
			schemacache.PrivExecute)
	}
	rel := c.snap.validators.Relation(c.schema, req.Relation)
	if rel == nil {
		return nil
	}
	var privs []string
	switch req.Action {
	case request.ActionRead, request.ActionDelete:
		rel.Query(req, &p)
		privs = []string{schemacache.PrivSelect}
		if req.Action == request.ActionDelete {
			privs = []string{schemacache.PrivDelete}
		}
	case request.ActionInsert, request.ActionUpdate, request.ActionUpsert:
		rel.Query(req, &p)
		if req.ContentType == "application/json" && req.Columns == nil && req.Payload != nil {
			plainInsert := req.Action == request.ActionInsert && req.Prefer.Resolution == ""
			if plainInsert {
				// The body's fields and the related rows it nests (nested writes).
				rel.InsertBody(req.Payload.JSON, req.Payload.Keys, &p)
			} else {
				rel.Body(req.Payload.JSON, &p)
			}
			// A plain insert must name every required column (an upsert's conflict may be an update, and an
			// empty array inserts nothing).
			if plainInsert && (req.Payload.Object || len(req.Payload.Keys) > 0) {
				rel.Required(req.Payload.Keys, &p)
			}
		}
		switch {
		case req.Action == request.ActionUpdate:
			privs = []string{schemacache.PrivUpdate}
		case req.Action == request.ActionUpsert && req.Prefer.Resolution != "ignore-duplicates":
			privs = []string{schemacache.PrivInsert, schemacache.PrivUpdate}
		default:
			privs = []string{schemacache.PrivInsert}
		}
	}
	q := schemacache.QName{Schema: c.schema, Name: req.Relation}
	err := p.Err()
	if denied := s.unlessDenied(c, err, q, relationWord(c.snap.cache, q), privs...); denied != err {
		return denied
	}
	for _, nq := range p.Nested() {
		// A problem in nested rows describes their relation's columns: only to a role that may insert there.
		if denied := s.unlessDenied(c, err, nq, relationWord(c.snap.cache, nq), schemacache.PrivInsert); denied != err {
			return denied
		}
	}
	return err
}

// unlessDenied returns err, a validation error about obj, unless the request's role lacks one of privs on obj:
// then it is PostgreSQL's own answer, 42501 "permission denied for <what> <name>" (401 for the anonymous role,
// 403 otherwise), so validation never describes columns or arguments the role may not see. It runs only when
// validation found a problem — a valid request goes on and PostgreSQL checks privileges itself — and the
// role's privileges are loaded once per schema-cache snapshot. If they cannot be loaded, the request goes on
// to PostgreSQL unvalidated, which answers for itself (e.g. a JWT role that does not exist).
func (s *Server) unlessDenied(c *handling, err error, obj schemacache.QName, what string, privs ...string) error {
	if err == nil {
		return nil
	}
	p, lerr := s.rolePrivileges(c.snap, c.who.Role)
	if lerr != nil {
		s.log.Debug("loading privileges for validation", "role", c.who.Role, "err", lerr)
		return nil
	}
	for _, priv := range privs {
		if !p.Allows(obj, priv) {
			return &pgconn.PgError{Severity: "ERROR", Code: "42501", Message: "permission denied for " + what + " " + obj.Name}
		}
	}
	return err
}

// relationWord is how PostgreSQL names the kind of relation q in a permission error.
func relationWord(c *schemacache.Cache, q schemacache.QName) string {
	rel, ok := c.Relation(q.Schema, q.Name)
	if !ok {
		return "table"
	}
	switch rel.Kind {
	case schemacache.KindView:
		return "view"
	case schemacache.KindMaterializedView:
		return "materialized view"
	case schemacache.KindForeignTable:
		return "foreign table"
	}
	return "table"
}
