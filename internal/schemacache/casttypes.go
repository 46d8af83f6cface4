package schemacache

import "strings"

// Type is a data type a request may name in a cast. Its SQL is format_type's rendering from the catalog
// (e.g. "integer", "character varying", "api.mood", "text[]"): trusted text, never the request's.
type Type struct {
	OID    uint32
	Schema string
	Name   string // pg_type.typname
	// SQL is the type as PostgreSQL itself prints it, qualified and quoted where needed.
	SQL      string
	Category byte
	// Array is the type's array type (nil when it has none).
	Array *Type
}

// sqlTypeAliases are the SQL-standard spellings the grammar accepts for pg_catalog types (beyond typname and
// format_type's names, which are indexed from the catalog).
var sqlTypeAliases = map[string]string{
	"int": "int4", "integer": "int4", "smallint": "int2", "bigint": "int8", "real": "float4", "float": "float8",
	"double precision": "float8", "decimal": "numeric", "dec": "numeric", "boolean": "bool",
	"char": "bpchar", "character": "bpchar", "character varying": "varchar", "bit varying": "varbit",
	"timestamp without time zone": "timestamp", "timestamp with time zone": "timestamptz",
	"time without time zone": "time", "time with time zone": "timetz",
}

// castTypes indexes the cast targets by schema and lower-case name.
type castTypes map[QName]*Type

func (ts castTypes) add(t *Type) {
	ts[QName{t.Schema, t.Name}] = t
}

// CastType resolves a cast target as a request writes it (`int`, `text[]`, `double precision`, `mood`) the way
// PostgreSQL would with the request's search path: pg_catalog first, then schema, then the other exposed
// schemas. Letter case is folded as for an unquoted identifier. It reports false for anything that is not a
// known type, reserved words included.
func (c *Cache) CastType(name, schema string) (*Type, bool) {
	n := strings.ToLower(strings.Join(strings.Fields(name), " "))
	array := false
	for strings.HasSuffix(n, "[]") {
		n, array = strings.TrimSpace(strings.TrimSuffix(n, "[]")), true
	}
	if n == "" || len(n) > 63 {
		return nil, false
	}
	var t *Type
	if alias, ok := sqlTypeAliases[n]; ok {
		t = c.castTypes[QName{"pg_catalog", alias}]
	}
	if t == nil {
		t = c.castTypes[QName{"pg_catalog", n}]
	}
	if t == nil && schema != "" {
		t = c.castTypes[QName{schema, n}]
	}
	for i := 0; t == nil && i < len(c.Schemas); i++ {
		t = c.castTypes[QName{c.Schemas[i], n}]
	}
	if t == nil {
		return nil, false
	}
	if array {
		if t.Array == nil {
			return nil, false
		}
		t = t.Array
	}
	return t, true
}
