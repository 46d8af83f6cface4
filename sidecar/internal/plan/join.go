package plan

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/pgway/pgway/internal/apierr"
	"github.com/pgway/pgway/internal/schemacache"
	"github.com/pgway/pgway/sidecar/internal/request"
)

// Embed is a related relation rendered inside each row of its parent: a to-one object, a to-many array, or
// (Spread) its columns lifted into the parent.
type Embed struct {
	// Key is the JSON key (the alias, else the relation name).
	Key Key
	Rel *schemacache.Relationship
	// Read is the child read: its Alias names the child table in the subquery.
	Read   *Read
	ToOne  bool
	Inner  bool
	Spread bool
	// Empty is rel(): joined for filtering, not rendered.
	Empty bool
	// Lateral numbers the LATERAL subquery in the parent's FROM (unique within the statement, from 1); its
	// table is aliased by the same number (Read.Alias).
	Lateral int
	// Written is set in the representation of an insert when the embed's rows were inserted by this nested
	// write: they are read from what it inserted (the statement's snapshot does not see them in the table).
	Written *Nested
}

// resolver carries what resolution needs besides the request: the schema cache, the request's schema (for
// cast types), the limits and a counter for unique aliases.
type resolver struct {
	cache  *schemacache.Cache
	schema string
	limits Limits
	n      int
	// root is the statement's own relation (referred to by its own name).
	root *schemacache.Relation
}

// maxIdentLen is PostgreSQL's NAMEDATALEN-1: a longer identifier is truncated.
const maxIdentLen = 63

// embedAliasNamed tells whether the n-th embed's table, target, may be aliased "<table>_<n>": not when that
// name is PostgreSQL's to truncate, is one of pgway's own (pgrst_…, _pgway_…), or is the name of the root
// relation or of a relation of target's or the request's schema (which the statement may refer to by name).
func (rv *resolver) embedAliasNamed(target *schemacache.Relation, n int) bool {
	a := target.Name + "_" + strconv.Itoa(n)
	if len(a) > maxIdentLen || strings.HasPrefix(a, "pgrst") || strings.HasPrefix(a, "_pgway") {
		return false
	}
	if rv.root != nil && rv.root.Name == a {
		return false
	}
	if _, ok := rv.cache.Relation(target.Schema, a); ok {
		return false
	}
	_, ok := rv.cache.Relation(rv.schema, a)
	return !ok
}

// embed resolves one rel(...) select item of parent, at depth (1 for the top level's embeds).
func (rv *resolver) embed(parent *Read, it *request.SelectItem, depth int) (*Embed, error) {
	e := it.Embed
	if max := rv.limits.MaxEmbedDepth; max > 0 && depth > max {
		return nil, apierr.New(http.StatusBadRequest, "PGWAY101", "Embedded resources are nested too deeply").
			WithDetails(fmt.Sprintf("The request nests embedded resources %d levels deep; the limit is %d.", depth, max)).
			WithHint("Raise db-max-embed-depth, or ask for fewer levels.")
	}
	if max := rv.limits.MaxEmbeds; max > 0 && rv.n >= max {
		return nil, apierr.New(http.StatusBadRequest, "PGWAY102", "Too many embedded resources").
			WithDetails(fmt.Sprintf("The request embeds more than %d resources.", max)).
			WithHint("Raise db-max-embeds, or embed fewer resources.")
	}
	if rv.cache == nil {
		return nil, noRelBetween(parent.Rel, e.Name, e.Hint, nil)
	}
	rels := rv.findRel(parent.Rel, e.Name, e.Hint)
	switch {
	case len(rels) == 0:
		return nil, noRelBetween(parent.Rel, e.Name, e.Hint, rv.cache)
	case len(rels) > 1:
		return nil, ambiguous(parent.Rel, e.Name, rels)
	}
	rel := rels[0]
	target, ok := rv.cache.Relation(rel.Target.Schema, rel.Target.Name)
	if !ok {
		return nil, noRelBetween(parent.Rel, e.Name, e.Hint, rv.cache)
	}
	rv.n++
	out := &Embed{
		Key:     Key{nonEmpty(it.Alias, e.Name)},
		Rel:     rel,
		ToOne:   rel.Cardinality == schemacache.ManyToOne || rel.Cardinality == schemacache.OneToOne,
		Inner:   e.Join == "inner",
		Spread:  e.Spread,
		Empty:   len(e.Select) == 0,
		Lateral: rv.n,
	}
	child := &Read{Rel: target, Alias: out.Lateral, NamedAlias: rv.embedAliasNamed(target, out.Lateral), Limit: -1}
	if rel.Cardinality != schemacache.ManyToMany {
		// PostgREST names an embedded table by its name and depth in errors (a many-to-many one keeps its name).
		child.sqlName = target.Name + "_" + strconv.Itoa(depth)
	}
	if !out.Empty {
		if err := child.resolveSelect(rv, e.Select, depth+1); err != nil {
			return nil, err
		}
		// An embed that selects nothing but empty embeds is empty too (PostgREST leaves it out).
		out.Empty = len(child.Select) == 0 && !rendersAnything(child)
		if out.Spread && out.ToOne {
			child.Hoisted = true
			child.GroupBy = false
		}
		if out.Spread && !out.ToOne {
			for _, o := range child.Select {
				if o.Agg != AggNone {
					return nil, apierr.New(http.StatusBadRequest, "PGRST127", "Feature not implemented").
						WithDetails("Aggregates are not implemented for one-to-many or many-to-many spreads.")
				}
			}
		}
	}
	out.Read = child
	return out, nil
}

// findRel is PostgREST's findRel (schemacache.FindRelationships) from parent in the request's schema.
func (rv *resolver) findRel(parent *schemacache.Relation, name, hint string) []*schemacache.Relationship {
	return rv.cache.FindRelationships(schemacache.QName{Schema: parent.Schema, Name: parent.Name}, rv.schema, name, hint)
}

// noRelBetween is PGRST200 with PostgREST's details and "Perhaps you meant" hint.
func noRelBetween(parent *schemacache.Relation, child, hint string, c *schemacache.Cache) error {
	using := ""
	if hint != "" {
		using = "' using the hint '" + hint
	}
	e := apierr.New(http.StatusBadRequest, "PGRST200",
		fmt.Sprintf("Could not find a relationship between '%s' and '%s' in the schema cache", parent.Name, child)).
		WithDetails(fmt.Sprintf("Searched for a foreign key relationship between '%s' and '%s%s' in the schema '%s', but no matches were found.",
			parent.Name, child, using, parent.Schema))
	if c != nil {
		// Only relations the caller may use are suggested (the cache's Visibility).
		if best, ok := c.ClosestTarget(schemacache.QName{Schema: parent.Schema, Name: parent.Name}, child); ok {
			e.Hint = "Perhaps you meant '" + best + "' instead of '" + child + "'."
		}
	}
	return e
}

// ambiguous is PGRST201 (300) with the candidates in details, as PostgREST.
func ambiguous(parent *schemacache.Relation, child string, rels []*schemacache.Relationship) error {
	type cand struct {
		Cardinality  string `json:"cardinality"`
		Embedding    string `json:"embedding"`
		Relationship string `json:"relationship"`
	}
	cols := func(c []string) string { return "(" + strings.Join(c, ", ") + ")" }
	var details []cand
	var hints []string
	for _, r := range rels {
		c := cand{Embedding: r.Source.Name + " with " + r.Target.Name}
		hintName := r.Constraint
		switch r.Cardinality {
		case schemacache.ManyToMany:
			c.Cardinality = "many-to-many"
			j := r.Junction
			c.Relationship = j.Table.Name + " using " + j.SourceConstraint + cols(j.SourceColumns) + " and " +
				j.TargetConstraint + cols(j.TargetColumns)
			hintName = j.Table.Name
		default:
			c.Cardinality = map[schemacache.Cardinality]string{schemacache.ManyToOne: "many-to-one",
				schemacache.OneToMany: "one-to-many", schemacache.OneToOne: "one-to-one"}[r.Cardinality]
			c.Relationship = r.Constraint + " using " + r.Source.Name + cols(r.SourceColumns) + " and " +
				r.Target.Name + cols(r.TargetColumns)
		}
		details = append(details, c)
		hints = append(hints, "'"+r.Target.Name+"!"+hintName+"'")
	}
	e := apierr.New(http.StatusMultipleChoices, "PGRST201",
		fmt.Sprintf("Could not embed because more than one relationship was found for '%s' and '%s'", parent.Name, child)).
		WithHint("Try changing '" + child + "' to one of the following: " + strings.Join(hints, ", ") +
			". Find the desired relationship in the 'details' key.")
	e.DetailsJSON, _ = json.Marshal(details)
	return e
}

// findEmbed walks path (names or aliases of embeds) down from r.
func (r *Read) findEmbed(path []string) (*Embed, error) {
	cur := r
	var found *Embed
	for _, name := range path {
		found = nil
		for _, e := range cur.Embeds {
			if e.Key.text == name {
				found = e
				break
			}
		}
		if found == nil {
			for _, e := range cur.Embeds {
				if e.Rel.Target.Name == name && r.legacyTargets {
					found = e
					r.Warning = "Embedded resource was referenced by relation name even though it has an alias. " +
						"This is deprecated and will stop working in a future release. Update `" + name + "` to `" +
						e.Key.text + "` in query string filters, orders or limits."
					break
				}
				if e.Rel.Target.Name == name {
					return nil, apierr.New(http.StatusBadRequest, "PGRST108",
						"'"+name+"' is not an embedded resource in this request").
						WithDetails("Target names are not allowed in filters if they have an alias").
						WithHint("Change '" + name + "' to '" + e.Key.text + "' in filters, orders or limits.")
				}
			}
		}
		if found == nil {
			return nil, apierr.New(http.StatusBadRequest, "PGRST108",
				"'"+name+"' is not an embedded resource in this request").
				WithHint("Verify that '" + name + "' is included in the 'select' query parameter.")
		}
		cur = found.Read
	}
	return found, nil
}

// embedNamed is the direct embed of r called name (nil if none).
func (r *Read) embedNamed(name string) *Embed {
	for _, e := range r.Embeds {
		if e.Key.text == name {
			return e
		}
	}
	return nil
}

// embedNullFilter turns rel=is.null / rel=not.is.null on an embed into a test of its presence (PGRST120 for any
// other operator).
func (r *Read) embedNullFilter(f request.Field, c request.Condition) (*Leaf, bool, error) {
	if len(f.JSONPath) > 0 {
		return nil, false, nil
	}
	e := r.embedNamed(f.Name)
	if e == nil {
		return nil, false, nil
	}
	if _, isCol := r.Rel.Column(f.Name); isCol {
		return nil, false, nil
	}
	v := strings.ToLower(c.Value)
	if c.Op != "is" || (v != "null" && v != "not_null") {
		return nil, false, apierr.New(http.StatusBadRequest, "PGRST120", "Bad operator on the '"+f.Name+"' embedded resource").
			WithDetails("Only is null or not is null filters are allowed on embedded resources")
	}
	is := IsNull
	if v == "not_null" {
		is = IsNotNull
	}
	return &Leaf{Embed: e, Op: OpIs, Negate: c.Negate, Is: is}, true, nil
}

// CheckAggregates is PGRST123 when select= (embeds included) uses an aggregate and db-aggregates-enabled is off.
func CheckAggregates(items []request.SelectItem, enabled bool) error {
	if enabled {
		return nil
	}
	for i := range items {
		it := &items[i]
		if it.Aggregate != "" {
			return apierr.New(http.StatusBadRequest, "PGRST123", "Use of aggregate functions is not allowed")
		}
		if it.Embed != nil {
			if err := CheckAggregates(it.Embed.Select, enabled); err != nil {
				return err
			}
		}
	}
	return nil
}

// rendersAnything reports whether r has a non-empty embed.
func rendersAnything(r *Read) bool {
	for _, e := range r.Embeds {
		if !e.Empty {
			return true
		}
	}
	return false
}

// outputAggs lists, for each output of r in order (columns, then embeds with spreads flattened), whether it is
// an aggregate computed at r's level.
func (r *Read) outputAggs() []bool {
	var out []bool
	for _, o := range r.Select {
		out = append(out, o.Agg != AggNone)
	}
	for _, e := range r.Embeds {
		switch {
		case e.Empty:
		case e.Spread && e.ToOne:
			out = append(out, e.Read.outputAggs()...)
		case e.Spread:
			for range e.Read.outputAggs() {
				out = append(out, false)
			}
		default:
			out = append(out, false)
		}
	}
	return out
}

// finishGrouping sets GroupBy once embeds are resolved: aggregates (own or hoisted from spreads) next to
// anything else group by the rest.
func (r *Read) finishGrouping() {
	if r.Hoisted {
		r.GroupBy = false
		return
	}
	agg, plain := false, false
	for _, a := range r.outputAggs() {
		if a {
			agg = true
		} else {
			plain = true
		}
	}
	r.GroupBy = agg && plain
}
