package plan

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/pgway/pgway/internal/apierr"
	"github.com/pgway/pgway/internal/schemacache"
	"github.com/pgway/pgway/sidecar/internal/request"
)

// Nested writes (pgway's, beyond PostgREST: PostgREST #818). A key of an insert's JSON body that is not a column
// of the relation but names one of its relationships, as select= names an embed ("books",
// "authors!books_author_id_fkey"), holds related rows to insert in the same statement, linked to the row they
// are nested in: a to-many relationship takes an array of objects, a to-one relationship one object (null or an
// empty array: nothing). Nested objects may nest further, within db-max-embed-depth and db-max-embeds.
//
// A column keeps its meaning (PostgREST's): only a key that is not a column is looked up as a relationship, and
// one that names no relationship stays PGRST204 (PGRST200 when it has a !hint, PGRST201 when ambiguous).

// Nested is one nested write: the objects under Key in the parent's rows, inserted into Target and linked
// to their parent row through Rel.
type Nested struct {
	// Key is the body key (request text: the SQL stage binds it, never writes it).
	Key string
	// Rel is the relationship from the parent's relation to Target.
	Rel    *schemacache.Relationship
	Target *schemacache.Relation
	// Columns are the nested objects' columns (their keys, shared by every object, sorted); Nested are their
	// own nested writes, by key.
	Columns []*schemacache.Column
	Nested  []*Nested
	// Many: Key holds an array of objects (one-to-many, many-to-many), else one object.
	Many bool
	// Before: Target's rows are inserted first and their parent row's foreign key takes their key (many-to-one,
	// and one-to-one with the key on the parent's side). Otherwise the rows are inserted after their parent:
	// with the parent's key in their foreign key (one-to-many, one-to-one), or linked by new junction rows
	// (many-to-many).
	Before bool
	// N numbers the nested writes of the statement from 1 (0 is the request's own relation), parents first.
	N int
}

// Junction is the junction of a many-to-many nested write (nil otherwise).
func (n *Nested) Junction() *schemacache.Junction {
	if n.Rel.Cardinality == schemacache.ManyToMany {
		return n.Rel.Junction
	}
	return nil
}

// nestable reports whether req's body may hold nested writes: a plain insert of a JSON body without columns=.
func nestable(req *request.Request) bool {
	return req.Action == request.ActionInsert && req.Prefer.Resolution == "" && req.Columns == nil &&
		req.ContentType != "text/csv" && req.ContentType != "application/x-www-form-urlencoded"
}

// bodyKey is a body key that is not a column, resolved to the relationship it names.
type bodyKey struct {
	key string
	rel *schemacache.Relationship
}

// splitKeys sorts the keys of rel's body objects into columns and relationships. A key that is neither is
// PGRST204 (PGRST200 with a hint, PGRST201 when it names several relationships); a relationship is PGWAY103
// unless nested writes are allowed (nested).
func (rv *resolver) splitKeys(rel *schemacache.Relation, keys []string, nested bool) ([]*schemacache.Column, []bodyKey, error) {
	var cols []*schemacache.Column
	var rels []bodyKey
	for _, k := range keys {
		if col, ok := rel.Column(k); ok {
			cols = append(cols, col)
			continue
		}
		unknown := apierr.New(http.StatusBadRequest, "PGRST204",
			fmt.Sprintf("Could not find the '%s' column of '%s' in the schema cache", k, rel.Name))
		if rv.cache == nil {
			return nil, nil, unknown
		}
		name, hint, hinted := strings.Cut(k, "!")
		if hinted && (name == "" || hint == "" || strings.Contains(hint, "!")) {
			return nil, nil, unknown
		}
		found := rv.findRel(rel, name, hint)
		switch {
		case len(found) == 0 && hinted && nested:
			return nil, nil, noRelBetween(rel, name, hint, rv.cache)
		case len(found) == 0:
			return nil, nil, unknown
		case !nested:
			return nil, nil, notNestable(k, "Only a plain insert (POST without on_conflict, resolution or columns=, with a JSON body) writes related rows.")
		case len(found) > 1:
			return nil, nil, ambiguous(rel, name, found)
		case found[0].Computed != nil:
			return nil, nil, notNestable(k, "'"+name+"' is a computed relationship: only foreign-key relationships take nested rows.")
		}
		for _, o := range rels {
			if o.rel == found[0] {
				return nil, nil, conflict(fmt.Sprintf("'%s' and '%s' name the same relationship", o.key, k),
					"A row takes the related rows of one relationship under one key.")
			}
		}
		rels = append(rels, bodyKey{key: k, rel: found[0]})
	}
	return cols, rels, nil
}

// notNestable is PGWAY103: a body key names a relationship where related rows cannot be written.
func notNestable(key, why string) error {
	return apierr.New(http.StatusBadRequest, "PGWAY103", "Related rows cannot be written here").
		WithDetails(fmt.Sprintf("The body key '%s' names a relationship. %s", key, why))
}

// conflict is PGWAY104: a nested write and the body disagree about what sets a column.
func conflict(msg, details string) error {
	return apierr.New(http.StatusBadRequest, "PGWAY104", msg).WithDetails(details)
}

// object is one body object with its JSON pointer (for error details).
type object struct {
	ptr    string
	fields map[string]json.RawMessage
}

// payloadObjects decodes the top-level objects of a JSON payload.
func payloadObjects(p *request.Payload) ([]object, error) {
	if p.Object {
		var m map[string]json.RawMessage
		if err := json.Unmarshal(p.JSON, &m); err != nil {
			return nil, apierr.New(http.StatusBadRequest, "PGRST102", "Empty or invalid json")
		}
		return []object{{fields: m}}, nil
	}
	var list []map[string]json.RawMessage
	if err := json.Unmarshal(p.JSON, &list); err != nil {
		return nil, apierr.New(http.StatusBadRequest, "PGRST102", "Empty or invalid json")
	}
	out := make([]object, len(list))
	for i, m := range list {
		out[i] = object{ptr: "/" + strconv.Itoa(i), fields: m}
	}
	return out, nil
}

// isNull reports whether a JSON value is absent or null.
func isNull(v json.RawMessage) bool {
	return len(v) == 0 || bytes.Equal(bytes.TrimSpace(v), []byte("null"))
}

// jsonPointerKey escapes a key for a JSON pointer.
func jsonPointerKey(k string) string {
	return strings.ReplaceAll(strings.ReplaceAll(k, "~", "~0"), "/", "~1")
}

// nestedWrites resolves the nested writes of objs, rows of rel whose keys are cols and rels, at depth (1 for
// the request's own rows' nested keys).
func (rv *resolver) nestedWrites(rel *schemacache.Relation, objs []object, cols []*schemacache.Column, rels []bodyKey, depth int) ([]*Nested, error) {
	var out []*Nested
	setBy := map[string]string{} // rel's columns set by a nested to-one write → its key
	for _, bk := range rels {
		n, err := rv.nestedWrite(bk, objs, depth)
		if err != nil {
			return nil, err
		}
		if n.Before {
			for _, c := range n.Rel.SourceColumns {
				if other, ok := setBy[c]; ok {
					return nil, conflict(fmt.Sprintf("'%s' and '%s' both set the column '%s' of '%s'", other, n.Key, c, rel.Name),
						"Give the related row of only one of them.")
				}
				setBy[c] = n.Key
			}
		}
		out = append(out, n)
	}
	// A row gives either the foreign key's columns or the related row that sets them, not both.
	for _, n := range out {
		if !n.Before {
			continue
		}
		var given []string
		for _, c := range cols {
			if slices.Contains(n.Rel.SourceColumns, c.Name) {
				given = append(given, c.Name)
			}
		}
		if len(given) == 0 {
			continue
		}
		for _, o := range objs {
			if isNull(o.fields[n.Key]) {
				continue
			}
			for _, c := range given {
				if !isNull(o.fields[c]) {
					return nil, conflict(fmt.Sprintf("Both '%s' and '%s' set the column '%s' of '%s'", c, n.Key, c, rel.Name),
						fmt.Sprintf("%s takes the key of the related row it nests under '%s'; give '%s' as null or leave it out.",
							rowAt(o.ptr), n.Key, c))
				}
			}
		}
	}
	return out, nil
}

// rowAt names the row at a JSON pointer in details ("" is the whole body).
func rowAt(ptr string) string {
	if ptr == "" {
		return "The body's row"
	}
	return "The row at " + ptr
}

// nestedWrite resolves the nested write of key bk in objs at depth.
func (rv *resolver) nestedWrite(bk bodyKey, objs []object, depth int) (*Nested, error) {
	if max := rv.limits.MaxEmbedDepth; max > 0 && depth > max {
		return nil, apierr.New(http.StatusBadRequest, "PGWAY101", "Embedded resources are nested too deeply").
			WithDetails(fmt.Sprintf("The body nests related rows %d levels deep; the limit is %d.", depth, max)).
			WithHint("Raise db-max-embed-depth, or nest fewer levels.")
	}
	if max := rv.limits.MaxEmbeds; max > 0 && rv.n >= max {
		return nil, apierr.New(http.StatusBadRequest, "PGWAY102", "Too many embedded resources").
			WithDetails(fmt.Sprintf("The body nests the rows of more than %d relationships.", max)).
			WithHint("Raise db-max-embeds, or nest fewer relationships.")
	}
	r := bk.rel
	target, ok := rv.cache.Relation(r.Target.Schema, r.Target.Name)
	if !ok {
		return nil, notNestable(bk.key, "Its relation is not in the schema cache.")
	}
	if r.Cardinality == schemacache.ManyToMany && r.Junction == nil {
		return nil, notNestable(bk.key, "Its junction is not in the schema cache.")
	}
	rv.n++
	n := &Nested{
		Key:    bk.key,
		Rel:    r,
		Target: target,
		Many:   r.Cardinality == schemacache.OneToMany || r.Cardinality == schemacache.ManyToMany,
		Before: r.Cardinality == schemacache.ManyToOne || r.Cardinality == schemacache.OneToOne && r.FKOnSource,
		N:      rv.n,
	}
	shape := "one object"
	if n.Many {
		shape = "an array of objects"
	}
	bad := func(ptr string) error {
		return apierr.New(http.StatusBadRequest, "PGRST102", "Empty or invalid json").
			WithDetails(fmt.Sprintf("'%s' (at %s) holds the related rows to insert into '%s': %s (or null).",
				bk.key, ptr, target.Name, shape))
	}
	var children []object
	for _, o := range objs {
		v := o.fields[bk.key]
		if isNull(v) {
			continue
		}
		ptr := o.ptr + "/" + jsonPointerKey(bk.key)
		if n.Many {
			var list []json.RawMessage
			if err := json.Unmarshal(v, &list); err != nil {
				return nil, bad(ptr)
			}
			for i, el := range list {
				var m map[string]json.RawMessage
				if err := json.Unmarshal(el, &m); err != nil || m == nil {
					return nil, bad(ptr + "/" + strconv.Itoa(i))
				}
				children = append(children, object{ptr: ptr + "/" + strconv.Itoa(i), fields: m})
			}
			continue
		}
		var m map[string]json.RawMessage
		if err := json.Unmarshal(v, &m); err != nil || m == nil {
			return nil, bad(ptr)
		}
		children = append(children, object{ptr: ptr, fields: m})
	}
	// Like the rows of a bulk insert, the nested objects of one relationship share their keys: they are
	// inserted together, and a key missing from some would be NULL there rather than the column's default.
	var keys []string
	for i, o := range children {
		ks := make([]string, 0, len(o.fields))
		for k := range o.fields {
			ks = append(ks, k)
		}
		slices.Sort(ks)
		if i == 0 {
			keys = ks
		} else if !slices.Equal(keys, ks) {
			return nil, apierr.New(http.StatusBadRequest, "PGRST102", "All object keys must match").
				WithDetails(fmt.Sprintf("The related rows under '%s' have different keys (%s and %s).", bk.key, children[0].ptr, o.ptr))
		}
	}
	cols, rels, err := rv.splitKeys(target, keys, true)
	if err != nil {
		return nil, err
	}
	if !n.Before && n.Junction() == nil {
		for _, c := range cols {
			if slices.Contains(r.TargetColumns, c.Name) {
				return nil, conflict(fmt.Sprintf("The column '%s' of '%s' is set by the nested write", c.Name, target.Name),
					fmt.Sprintf("Rows nested under '%s' take '%s' from the row they are nested in; leave it out.", bk.key, c.Name))
			}
		}
	}
	n.Columns = cols
	if n.Nested, err = rv.nestedWrites(target, children, cols, rels, depth+1); err != nil {
		return nil, err
	}
	return n, nil
}

// attachWritten marks the embeds of a representation that read rows nested writes inserted: those of the
// same relationship, level by level.
func attachWritten(r *Read, ns []*Nested) {
	if r == nil || len(ns) == 0 {
		return
	}
	for _, e := range r.Embeds {
		for _, n := range ns {
			if e.Rel == n.Rel {
				e.Written = n
				attachWritten(e.Read, n.Nested)
			}
		}
	}
}
