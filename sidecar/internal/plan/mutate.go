package plan

import (
	"net/http"
	"slices"

	"github.com/pgway/pgway/internal/apierr"
	"github.com/pgway/pgway/internal/schemacache"
	"github.com/pgway/pgway/sidecar/internal/request"
)

// Mutate is the plan of an insert, update, single-row upsert (PUT) or delete, with the read that renders its
// representation.
type Mutate struct {
	Action request.Action
	Rel    *schemacache.Relation
	// Columns are the payload's columns (insert, update, upsert), in the payload's (sorted) key order.
	Columns []*schemacache.Column
	Payload *request.Payload
	// ApplyDefaults is Prefer: missing=default: columns missing from a row take their default, not NULL.
	ApplyDefaults bool
	// Where filters the rows to update or delete; for PUT it is matched against the payload row.
	Where []Cond
	// OnConflict is the conflict target of an upsert (on_conflict= or the primary key); Resolution is
	// "merge-duplicates" or "ignore-duplicates" ("" when not an upsert).
	OnConflict []*schemacache.Column
	Resolution string
	// Order, Limit and Offset restrict an update or delete to a window of the filtered rows (Limit -1: none).
	Order  []Order
	Limit  int64
	Offset int64
	// Return is "minimal", "headers-only" or "representation".
	Return string
	// Read renders the representation (return=representation): its Select, Order and embeds apply to the
	// affected rows. Nil otherwise.
	Read *Read
	// PrimaryKey are the relation's primary-key columns (Location header).
	PrimaryKey []*schemacache.Column
	// Singular: the object media type was asked for; exactly one row must be affected.
	Singular bool
	// MaxAffected is Prefer: max-affected with handling=strict (-1: no limit).
	MaxAffected int64
	// Rollback ends the transaction with a rollback (Prefer: tx=rollback, or db-tx-end).
	Rollback bool
	// StreamBody: the body is not bound but read from the temporary table it was streamed into.
	StreamBody bool
	// Nested are the related rows the body nests under relationship keys, inserted in the same statement
	// (inserts only; see Nested).
	Nested []*Nested
}

// ForMutate resolves a write request on rel. rollback is the transaction end decided from the config and the
// Prefer header.
func ForMutate(req *request.Request, c *schemacache.Cache, rel *schemacache.Relation, rollback bool, lim Limits) (*Mutate, error) {
	m := &Mutate{
		Action:        req.Action,
		Rel:           rel,
		Payload:       req.Payload,
		ApplyDefaults: req.Prefer.Missing == "default",
		Limit:         -1,
		Return:        req.Prefer.Return,
		PrimaryKey:    columns(rel, rel.PrimaryKey),
		Singular:      req.Accept == request.MediaObject || req.Accept == request.MediaObjectStripped,
		MaxAffected:   -1,
		Rollback:      rollback,
	}
	if m.Return == "" {
		m.Return = "minimal"
	}
	if req.Action == request.ActionUpsert {
		// PostgREST checks PUT's filters before anything else about the request.
		if err := checkPutFilters(req, rel); err != nil {
			return nil, err
		}
	}
	if req.Prefer.Handling == "strict" && req.Prefer.MaxAffected >= 0 && (m.Action == request.ActionUpdate || m.Action == request.ActionDelete) {
		m.MaxAffected = req.Prefer.MaxAffected
	}
	var nested []bodyKey
	if m.Payload != nil {
		rv := &resolver{cache: c, schema: rel.Schema, limits: lim, root: rel}
		var err error
		if m.Columns, nested, err = rv.splitKeys(rel, m.Payload.Keys, nestable(req)); err != nil {
			return nil, err
		}
		if len(nested) > 0 {
			objs, err := payloadObjects(m.Payload)
			if err != nil {
				return nil, err
			}
			if m.Nested, err = rv.nestedWrites(rel, objs, m.Columns, nested, 1); err != nil {
				return nil, err
			}
		}
	}

	// Top-level filters, logic, order and range apply to the mutation; embedded ones to the representation.
	for i := range req.Filters {
		f := &req.Filters[i]
		if len(f.Path) > 0 {
			continue
		}
		leaf, err := resolveLeaf(rel, rel.Name, f.Field, &f.Cond)
		if err != nil {
			return nil, err
		}
		m.Where = append(m.Where, Cond{Leaf: leaf})
	}
	for i := range req.Logic {
		l := &req.Logic[i]
		if len(l.Path) > 0 {
			continue
		}
		c, err := resolveLogic(rel, l)
		if err != nil {
			return nil, err
		}
		m.Where = append(m.Where, c)
	}
	for _, o := range req.Order {
		if len(o.Path) > 0 {
			continue
		}
		for _, t := range o.Terms {
			if t.Relation != "" {
				continue // ordering by an embed applies to the representation only
			}
			e, err := resolveExpr(rel, rel.Name, t.Field)
			if err != nil {
				return nil, err
			}
			m.Order = append(m.Order, Order{Expr: e, Desc: t.Desc, Nulls: nullsOf(t.Nulls)})
		}
	}
	hasRange := false
	for _, rg := range req.Ranges {
		if len(rg.Path) == 0 && (rg.Limit >= 0 || rg.Offset > 0) {
			m.Offset, m.Limit = rg.Offset, rg.Limit
			hasRange = true
		}
	}

	switch m.Action {
	case request.ActionInsert:
		if req.Prefer.Resolution != "" {
			m.OnConflict = m.PrimaryKey
			if req.OnConflict != nil {
				m.OnConflict = nil
				for _, name := range req.OnConflict {
					col, ok := rel.Column(name)
					if !ok || col.Function != nil {
						return nil, UnknownColumn(rel.Name, name)
					}
					m.OnConflict = append(m.OnConflict, col)
				}
			}
			if len(m.OnConflict) > 0 {
				m.Resolution = req.Prefer.Resolution
			}
		}
		m.Where, m.Order, m.Limit, m.Offset = nil, nil, -1, 0
	case request.ActionUpsert:
		if hasRange {
			return nil, apierr.New(http.StatusBadRequest, "PGRST114", "limit/offset querystring parameters are not allowed for PUT")
		}
		m.OnConflict = m.PrimaryKey
		m.Resolution = "merge-duplicates"
		m.Order = nil
	}
	if (m.Action == request.ActionUpdate || m.Action == request.ActionDelete) && m.Limit >= 0 {
		if rel.Kind != schemacache.KindTable && len(rel.PrimaryKey) == 0 {
			return nil, apierr.New(http.StatusBadRequest, "PGRST100",
				"limit/offset on "+rel.Name+" needs a table or a view with a primary key")
		}
	}

	if m.Return == "representation" {
		r, err := representation(req, c, rel, lim)
		if err != nil {
			return nil, err
		}
		attachWritten(r, m.Nested)
		m.Read = r
	}
	return m, nil
}

// checkPutFilters is PostgREST's rule for PUT: the filters are exactly the primary-key columns, each with a
// plain eq (405 PGRST105 otherwise).
func checkPutFilters(req *request.Request, rel *schemacache.Relation) error {
	bad := apierr.New(http.StatusMethodNotAllowed, "PGRST105",
		"Filters must include all and only primary key columns with 'eq' operators")
	if len(rel.PrimaryKey) == 0 || len(req.Logic) > 0 {
		return bad
	}
	seen := map[string]bool{}
	for _, f := range req.Filters {
		if len(f.Path) > 0 {
			continue
		}
		if f.Cond.Op != "eq" || f.Cond.Negate || f.Cond.Quant != "" || len(f.Field.JSONPath) > 0 {
			return bad
		}
		seen[f.Field.Name] = true
	}
	if len(seen) != len(rel.PrimaryKey) {
		return bad
	}
	for _, pk := range rel.PrimaryKey {
		if !seen[pk] {
			return bad
		}
	}
	return nil
}

// representation is the read that renders the affected rows: the request's select, embedded filters and
// ranges, and order; top-level filters and ranges already shaped the mutation.
func representation(req *request.Request, c *schemacache.Cache, rel *schemacache.Relation, lim Limits) (*Read, error) {
	rq := *req
	rq.Filters = slices.DeleteFunc(slices.Clone(req.Filters), func(f request.Filter) bool { return len(f.Path) == 0 })
	rq.Logic = slices.DeleteFunc(slices.Clone(req.Logic), func(l request.Logic) bool { return len(l.Path) == 0 })
	rq.Ranges = slices.DeleteFunc(slices.Clone(req.Ranges), func(r request.RangeSpec) bool { return len(r.Path) == 0 })
	rq.Prefer.Count = request.CountNone
	lim.MaxRows = 0
	r, err := ForRead(&rq, c, rel, lim)
	if err != nil {
		return nil, err
	}
	r.Count = request.CountNone
	r.Singular = false
	return r, nil
}

// columns looks up names (a key of rel's, from the catalog) among rel's columns.
func columns(rel *schemacache.Relation, names []string) []*schemacache.Column {
	out := make([]*schemacache.Column, 0, len(names))
	for _, n := range names {
		if c, ok := rel.Column(n); ok {
			out = append(out, c)
		}
	}
	return out
}
