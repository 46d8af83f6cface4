// Package schemacache introspects the exposed schemas into an immutable Cache and reloads it on demand.
package schemacache

import (
	"slices"
	"time"
)

// RelKind is the kind of a relation.
type RelKind uint8

// Relation kinds.
const (
	KindTable RelKind = iota
	KindView
	KindMaterializedView
	KindForeignTable
	KindPartitionedTable
)

// QName is a schema-qualified name.
type QName struct {
	Schema, Name string
}

// Cache is an immutable snapshot of the exposed schemas. Never mutate one after Load returns it.
type Cache struct {
	// Schemas are the exposed schemas, in configuration order (the first is the default).
	Schemas   []string
	Relations map[QName]*Relation
	// Routines maps a function name to its overloads.
	Routines map[QName][]*Routine
	// Relationships maps a source relation to its relationships (source, target and junction all in exposed
	// schemas), in a stable order; see RelationshipsFrom and RelationshipsBetween.
	Relationships map[QName][]*Relationship
	LoadedAt      time.Time
	// QueryDuration is the time the catalog queries took (PostgREST's "Schema cache queried in"), LoadDuration
	// that and building the cache from their results.
	QueryDuration time.Duration
	LoadDuration  time.Duration
	// ServerVersion is PostgreSQL's server_version_num.
	ServerVersion int
	// MediaHandlers are the aggregates that render a relation's rows in a media type (PostgREST's media type
	// handlers for tables and views).
	MediaHandlers map[HandlerKey]*MediaHandler
	// GeoJSON is PostGIS's ST_AsGeoJSON(record) function, which renders application/geo+json (nil: PostGIS 3 is
	// not installed in the database, and geo+json is not available).
	GeoJSON *QName
	// castTypes are the types a request may cast to (see CastType).
	castTypes castTypes

	// visibility limits hints to what one caller may use (see WithVisibility); nil in a loaded snapshot.
	visibility Visibility
}

// HandlerKey finds an aggregate media type handler: the relation it aggregates (zero for anyelement) and the
// media type (lower case, "*/*" for the any handler).
type HandlerKey struct {
	Target QName
	Media  string
}

// MediaHandler is an aggregate returning a media type domain.
type MediaHandler struct {
	Aggregate QName
	Target    QName // the relation whose row type it takes (zero for anyelement)
	Media     string
}

// MediaHandler finds the handler of rel for media, as PostgREST's lookupHandler: with the default select, the
// relation's any handler, then its handler for media; then an anyelement handler for media.
func (c *Cache) MediaHandler(rel QName, media string, defaultSelect bool) *MediaHandler {
	if len(c.MediaHandlers) == 0 {
		return nil
	}
	if defaultSelect {
		if h := c.MediaHandlers[HandlerKey{rel, "*/*"}]; h != nil {
			return h
		}
		if h := c.MediaHandlers[HandlerKey{rel, media}]; h != nil {
			return h
		}
	}
	return c.MediaHandlers[HandlerKey{QName{}, media}]
}

// Relation is a table, view, materialized view or foreign table.
type Relation struct {
	Schema  string
	Name    string
	Kind    RelKind
	Comment string
	// Columns in ordinal order.
	Columns []*Column
	// PrimaryKey lists the primary-key column names (for views: the base table's, when traceable).
	PrimaryKey []string
	// Insertable/Updatable/Deletable: for tables always true; for views from pg_relation_is_updatable
	// (auto-updatable or INSTEAD OF triggers).
	Insertable, Updatable, Deletable bool
	// HasTriggers is set when triggers or rules may change written rows (so missing NOT NULL values are not
	// necessarily an error).
	HasTriggers bool
	// ForeignKeys are this relation's outgoing foreign keys (tables only).
	ForeignKeys []*ForeignKey
	colIndex    map[string]*Column
	// computed are the relation's computed fields (functions of its row type), found by Column but not in
	// Columns (so not in *).
	computed []*Column
}

// Column is one column of a relation.
type Column struct {
	Name     string
	Position int
	// Type is format_type(atttypid, atttypmod), e.g. "character varying(20)", "integer[]", "public.mood".
	Type string
	// BaseType is the type name with domains resolved to their base, without typmod: "integer",
	// "character varying", "text[]". For enums and composites it is the qualified type name.
	BaseType string
	// TypeCategory is pg_type.typcategory of the base type (A array, B bool, D datetime, E enum, N numeric,
	// S string, U user (uuid, json), C composite, R range, ...).
	TypeCategory byte
	// ElemType is the element base type for arrays ("" otherwise).
	ElemType string
	Nullable bool
	// Default is the column default expression ("" if none). Identity and generated columns have HasDefault.
	Default    string
	HasDefault bool
	// Generated is true for GENERATED ALWAYS (stored or identity always) columns, which cannot be written.
	Generated bool
	// MaxLength is the varchar(n)/char(n) limit, 0 when unlimited.
	MaxLength  int
	EnumValues []string
	Comment    string
	// Function is set for a computed field: the function called with the row; RowOf is the relation whose
	// row type it takes.
	Function *QName
	RowOf    *QName
	// Rep are the column's domain representations (PostgREST): functions of implicit casts between its
	// domain type and json or text, quoted and qualified ("" when none).
	Rep DomainRep
}

// DomainRep are the conversion functions of a domain-typed column.
type DomainRep struct {
	ToJSON   string // domain → json: how the column appears in JSON responses
	FromText string // text → domain: how filter values are read
	FromJSON string // json → domain: how request body values are read
}

// ForeignKey is a foreign-key constraint from Columns of the owning relation to RefColumns of Ref.
type ForeignKey struct {
	Name       string
	Columns    []string
	Ref        QName
	RefColumns []string
}

// Cardinality of a relationship.
type Cardinality uint8

// Cardinalities.
const (
	ManyToOne Cardinality = iota
	OneToMany
	OneToOne
	ManyToMany
)

// Relationship links Source to Target; for ManyToMany through Junction.
type Relationship struct {
	Source      QName
	Target      QName
	Cardinality Cardinality
	// Constraint is the FK name (for M2M the source-side FK name, with JunctionTargetFK the other).
	Constraint string
	// SourceColumns pairs with TargetColumns: the source's and target's columns of the FK (M2O/O2M/O2O).
	// For M2M they are the source's columns referenced by the junction (paired with Junction.SourceColumns)
	// and the target's columns referenced by the junction (paired with Junction.TargetColumns).
	SourceColumns []string
	TargetColumns []string
	Junction      *Junction
	// Computed is the function name for relationships defined by a function (issue 7).
	Computed *QName
	// FKOnSource: the foreign key's columns are the source's (every M2O, and the O2O seen from the side that
	// holds the key); false for O2M, the other side of an O2O, M2M and computed relationships.
	FKOnSource bool
}

// Junction describes the middle table of a many-to-many relationship.
type Junction struct {
	Table            QName
	SourceConstraint string
	TargetConstraint string
	// SourceColumns are the junction's columns referencing the source; TargetColumns those referencing the target.
	SourceColumns []string
	TargetColumns []string
}

// Routine is a function callable through /rpc.
type Routine struct {
	Schema     string
	Name       string
	Comment    string
	Params     []RoutineParam
	Volatility byte // 'i' immutable, 's' stable, 'v' volatile
	ReturnType string
	ReturnsSet bool
	// ReturnsRelation is set when the function returns a row type of a known relation (or SETOF it).
	ReturnsRelation *QName
	// ReturnsScalar is true for a base-type (non-composite) return.
	ReturnsScalar bool
	Variadic      bool
	// Rows is the planner's row estimate (pg_proc.prorows) of a set-returning function.
	Rows float64
	// Columns are the result's columns when it is composite: OUT/INOUT/TABLE parameters, or the attributes of
	// the returned composite type (empty for scalars and anonymous records).
	Columns []RoutineParam
	// Settings are the function's own settings (CREATE FUNCTION … SET key = value, pg_proc.proconfig).
	Settings [][2]string
	// MediaType is set when the function returns (not SETOF) a domain named as a media type, e.g.
	// CREATE DOMAIN "text/html" AS text, or "*/*": PostgREST's media type handler. Lower case.
	MediaType string
}

// Callable reports whether PostgREST's schema cache holds the function for /rpc: one whose parameters are all
// unnamed is left out, unless it has a single parameter of a type a raw body can give (bytea, json, jsonb, text,
// xml). Such a function is then neither called nor suggested, and a request for it is PGRST202 (computed fields
// and relationships, which take a row, are not affected).
func (r *Routine) Callable() bool {
	if len(r.Params) == 0 || slices.ContainsFunc(r.Params, func(p RoutineParam) bool { return p.Name != "" }) {
		return true
	}
	if len(r.Params) > 1 {
		return false
	}
	switch r.Params[0].Type {
	case "bytea", "json", "jsonb", "text", "xml":
		return true
	}
	return false
}

// RoutineParam is an IN/INOUT/VARIADIC parameter of a routine.
type RoutineParam struct {
	Name       string
	Type       string
	HasDefault bool
	Variadic   bool
}

// Relation returns the relation schema.name.
func (c *Cache) Relation(schema, name string) (*Relation, bool) {
	r, ok := c.Relations[QName{schema, name}]
	return r, ok
}

// Column returns the named column.
func (r *Relation) Column(name string) (*Column, bool) {
	if r.colIndex == nil {
		for _, c := range r.Columns {
			if c.Name == name {
				return c, true
			}
		}
		return nil, false
	}
	if c, ok := r.colIndex[name]; ok {
		return c, true
	}
	for _, c := range r.computed {
		if c.Name == name {
			return c, true
		}
	}
	return nil, false
}

// Index builds the column lookup map; Load calls it for every relation before publishing the cache.
func (r *Relation) Index() {
	r.colIndex = make(map[string]*Column, len(r.Columns))
	for _, c := range r.Columns {
		r.colIndex[c.Name] = c
	}
}
