package openapi

import (
	"cmp"
	"slices"
	"strings"

	"github.com/pgway/pgway/internal/schemacache"
)

// scalarSchema maps a PostgreSQL type name (format_type spelling or an alias, without typmod) to the JSON shape
// PostgreSQL's to_json gives its values. ok is false for names it does not know.
func scalarSchema(name string) (s *schema, ok bool) {
	switch name {
	case "smallint", "int2":
		s = typed(tInteger, "int32")
		s.min, s.max = ptrF64(-32768), ptrF64(32767)
	case "integer", "int", "int4":
		s = typed(tInteger, "int32")
	case "bigint", "int8":
		s = typed(tInteger, "int64")
	case "oid", "xid", "cid", "regclass", "regproc", "regtype":
		s = typed(tInteger, "int64")
	case "numeric", "decimal":
		s = typed(tNumber, "")
	case "real", "float4":
		s = typed(tNumber, "float")
	case "double precision", "float8":
		s = typed(tNumber, "double")
	case "boolean", "bool":
		s = typed(tBoolean, "")
	case "text", "character varying", "varchar", "character", "char", "bpchar", `"char"`, "name", "citext",
		"xml", "tsvector", "tsquery", "inet", "cidr", "macaddr", "macaddr8", "bit", "bit varying", "varbit",
		"point", "line", "lseg", "box", "path", "polygon", "circle", "ltree", "pg_lsn", "txid_snapshot":
		s = typed(tString, "")
	case "money":
		s = typed(tString, "")
		s.description = "money, rendered with the currency symbol of lc_monetary"
	case "uuid":
		s = typed(tString, "uuid")
	case "date":
		s = typed(tString, "date")
	case "timestamp with time zone", "timestamptz":
		s = typed(tString, "date-time")
	case "timestamp without time zone", "timestamp":
		// Not RFC 3339 date-time: PostgreSQL renders it without an offset.
		s = typed(tString, "")
		s.description = "timestamp without time zone, e.g. 2024-01-02T03:04:05.123456"
	case "time without time zone", "time":
		// Not RFC 3339 full-time, which needs an offset.
		s = typed(tString, "")
		s.description = "time of day, e.g. 13:45:00"
	case "time with time zone", "timetz":
		s = typed(tString, "")
		s.description = "time of day with offset, e.g. 13:45:00+02"
	case "interval":
		s = typed(tString, "")
		s.description = "interval in PostgreSQL's IntervalStyle, e.g. 1 day 02:00:00"
	case "bytea":
		s = typed(tString, "")
		s.description = `bytea in hex format, e.g. \x0102`
	case "json", "jsonb":
		s = &schema{description: "any JSON value"}
	case "int4range", "int8range", "numrange", "tsrange", "tstzrange", "daterange",
		"int4multirange", "int8multirange", "nummultirange", "tsmultirange", "tstzmultirange", "datemultirange":
		s = typed(tString, "")
		s.description = "range literal, e.g. [1,10)"
	default:
		return nil, false
	}
	return s, true
}

// stripTypmod removes a "(...)" modifier: "character varying(20)" → "character varying",
// "timestamp(3) with time zone" → "timestamp with time zone".
func stripTypmod(t string) string {
	i := strings.IndexByte(t, '(')
	if i < 0 {
		return t
	}
	j := strings.IndexByte(t[i:], ')')
	if j < 0 {
		return t
	}
	return strings.TrimSpace(strings.Join(strings.Fields(t[:i]+t[i+j+1:]), " "))
}

// typeRef maps a type name to a schema: arrays to items, relation row types to a $ref of their read schema,
// known scalars to their shape, and anything else by category (0 when unknown, giving an untyped schema).
func (b *builder) typeRef(name string, cat byte) *schema {
	name = stripTypmod(strings.TrimSpace(name))
	if strings.HasSuffix(name, "[]") {
		elem := strings.TrimSuffix(name, "[]")
		for strings.HasSuffix(elem, "[]") {
			elem = strings.TrimSuffix(elem, "[]")
		}
		return b.pgArray(b.typeRef(elem, 0))
	}
	if s, ok := scalarSchema(strings.ToLower(name)); ok {
		return s
	}
	if ref := b.relationRef(name); ref != nil {
		return ref
	}
	if c, ok := b.known[name]; ok && c.TypeCategory != 'A' {
		// A domain or enum some column also uses: take its base type and labels from there.
		if len(c.EnumValues) > 0 {
			s := typed(tString, "")
			for _, v := range c.EnumValues {
				s.enum = append(s.enum, v)
			}
			return s
		}
		if c.BaseType != "" && c.BaseType != name {
			return b.typeRef(c.BaseType, c.TypeCategory)
		}
		cat = cmp.Or(cat, c.TypeCategory)
	}
	var s *schema
	switch cat {
	case 'N':
		s = typed(tNumber, "")
	case 'B':
		s = typed(tBoolean, "")
	case 'S', 'D', 'E', 'G', 'I', 'R', 'T', 'V', 'Z':
		s = typed(tString, "")
	case 'C':
		s = typed(tObject, "")
	default:
		s = &schema{}
	}
	s.description = "PostgreSQL type " + name
	return s
}

// inputNotes describe the formats inputFormat drops.
var inputNotes = map[string]string{
	"date":      "date, e.g. 2024-01-02 (PostgreSQL's date input: also infinity, -infinity and other spellings)",
	"date-time": "timestamp with time zone, e.g. 2024-01-02T03:04:05Z (PostgreSQL's input: also without an offset, in the session time zone, and infinity, -infinity)",
}

// inputFormat makes s, a schema of values a client sends (write bodies, function arguments), accept every
// input PostgreSQL reads: RFC 3339's date and date-time are narrower than PostgreSQL's date and timestamptz
// input ("infinity", "2024-01-02 03:04:05", "Jan 2, 2024"), so those formats stay on the schemas of values
// PostgreSQL renders (to_json writes RFC 3339) and become a description here. Array items included.
func inputFormat(s *schema) *schema {
	if s == nil || s.ref != "" {
		return s
	}
	if note, ok := inputNotes[s.format]; ok {
		s.format = ""
		if s.description == "" {
			s.description = note
		}
	}
	inputFormat(s.items)
	return s
}

// pgArray is a PostgreSQL array of elem: any element may be NULL.
func (b *builder) pgArray(elem *schema) *schema {
	return &schema{typ: []string{tArray}, items: b.nullable(elem)}
}

// relationRef returns a $ref to the read schema of the relation whose row type is name ("books" or
// "public.books", as format_type spells it), when that relation is in this document.
func (b *builder) relationRef(name string) *schema {
	parts := splitQualified(name)
	q := schemacache.QName{Schema: b.schema, Name: parts[len(parts)-1]}
	if len(parts) == 2 {
		q.Schema = parts[0]
	}
	if p, ok := b.rels[q]; ok {
		return refSchema(p.key)
	}
	return nil
}

// splitQualified splits a possibly schema-qualified, possibly quoted type name on dots outside quotes.
func splitQualified(s string) []string {
	var parts []string
	var cur strings.Builder
	quoted := false
	for i := 0; i < len(s); i++ {
		switch ch := s[i]; {
		case ch == '"' && quoted && i+1 < len(s) && s[i+1] == '"':
			cur.WriteByte('"')
			i++
		case ch == '"':
			quoted = !quoted
		case ch == '.' && !quoted:
			parts = append(parts, cur.String())
			cur.Reset()
		default:
			cur.WriteByte(ch)
		}
	}
	return append(parts, cur.String())
}

// columnSchema is the schema of one column's values, nullable as the column is.
func (b *builder) columnSchema(c *schemacache.Column) *schema {
	if c.Rep.ToJSON != "" || c.Rep.FromJSON != "" {
		// A domain representation: the JSON shape is whatever its cast functions make of it.
		desc := "Any JSON value: presented and read through the domain representation of " + c.Type + "."
		if c.Comment != "" {
			desc = c.Comment
		}
		return &schema{description: desc}
	}
	var s *schema
	switch {
	case len(c.EnumValues) > 0:
		s = typed(tString, "")
		for _, v := range c.EnumValues {
			s.enum = append(s.enum, v)
		}
	case c.TypeCategory == 'A' && c.ElemType != "":
		s = b.pgArray(b.typeRef(c.ElemType, 0))
	default:
		base := c.BaseType
		if base == "" {
			base = c.Type
		}
		s = b.typeRef(base, c.TypeCategory)
	}
	if s.ref == "" {
		if c.MaxLength > 0 && s.is(tString) {
			s.maxLength = ptrU64(uint64(c.MaxLength))
		}
		if c.Comment != "" {
			s.description = c.Comment // the column comment replaces any note on the type
		}
	}
	if c.Nullable {
		s = b.nullable(s)
	}
	return s
}

// nullable lets s also accept null: nullable in 3.0, a "null" type in 3.1; a $ref is wrapped.
func (b *builder) nullable(s *schema) *schema {
	if s.ref != "" {
		if b.v31 {
			return &schema{anyOf: []*schema{s, typed(tNull, "")}}
		}
		// Relation rows are objects; 3.0 needs a type beside nullable, and a $ref can have no siblings.
		return &schema{allOf: []*schema{s}, typ: []string{tObject}, nullable: true}
	}
	if len(s.typ) == 0 {
		// Untyped accepts null in JSON Schema 2020-12; 3.0 validators (kin-openapi) want nullable spelled out.
		s.nullable = !b.v31
		return s
	}
	if len(s.enum) > 0 {
		s.enum = append(s.enum, nil)
	}
	if b.v31 {
		s.typ = append(slices.Clone(s.typ), tNull)
	} else {
		s.nullable = true
	}
	return s
}

// knownTypes indexes the columns of the cache by type name (as written and with domains resolved), so that
// function parameters and array elements of a domain or enum type some column uses get its base type and labels.
func knownTypes(c *schemacache.Cache) map[string]*schemacache.Column {
	known := map[string]*schemacache.Column{}
	for _, r := range c.Relations {
		for _, col := range r.Columns {
			if col.BaseType == "" || col.TypeCategory == 'A' {
				continue
			}
			name := stripTypmod(col.Type)
			if prev, ok := known[name]; !ok || prev.Name > col.Name {
				known[name] = col
			}
			if prev, ok := known[col.BaseType]; len(col.EnumValues) > 0 && (!ok || prev.Name > col.Name) {
				known[col.BaseType] = col
			}
		}
	}
	return known
}
