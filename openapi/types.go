package openapi

import (
	"cmp"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/pgway/pgway/internal/schemacache"
)

func typed(t, format string) *openapi3.Schema {
	return &openapi3.Schema{Type: &openapi3.Types{t}, Format: format}
}

func ptrU64(v uint64) *uint64   { return &v }
func ptrF64(v float64) *float64 { return &v }

// scalarSchema maps a PostgreSQL type name (format_type spelling or an alias, without typmod) to the JSON shape
// PostgreSQL's to_json gives its values. ok is false for names it does not know.
func scalarSchema(name string) (s *openapi3.Schema, ok bool) {
	switch name {
	case "smallint", "int2":
		s = typed(openapi3.TypeInteger, "int32")
		s.Min, s.Max = ptrF64(-32768), ptrF64(32767)
	case "integer", "int", "int4":
		s = typed(openapi3.TypeInteger, "int32")
	case "bigint", "int8":
		s = typed(openapi3.TypeInteger, "int64")
	case "oid", "xid", "cid", "regclass", "regproc", "regtype":
		s = typed(openapi3.TypeInteger, "int64")
	case "numeric", "decimal":
		s = typed(openapi3.TypeNumber, "")
	case "real", "float4":
		s = typed(openapi3.TypeNumber, "float")
	case "double precision", "float8":
		s = typed(openapi3.TypeNumber, "double")
	case "boolean", "bool":
		s = typed(openapi3.TypeBoolean, "")
	case "text", "character varying", "varchar", "character", "char", "bpchar", `"char"`, "name", "citext",
		"xml", "tsvector", "tsquery", "inet", "cidr", "macaddr", "macaddr8", "bit", "bit varying", "varbit",
		"point", "line", "lseg", "box", "path", "polygon", "circle", "ltree", "pg_lsn", "txid_snapshot":
		s = typed(openapi3.TypeString, "")
	case "money":
		s = typed(openapi3.TypeString, "")
		s.Description = "money, rendered with the currency symbol of lc_monetary"
	case "uuid":
		s = typed(openapi3.TypeString, "uuid")
	case "date":
		s = typed(openapi3.TypeString, "date")
	case "timestamp with time zone", "timestamptz":
		s = typed(openapi3.TypeString, "date-time")
	case "timestamp without time zone", "timestamp":
		// Not RFC 3339 date-time: PostgreSQL renders it without an offset.
		s = typed(openapi3.TypeString, "")
		s.Description = "timestamp without time zone, e.g. 2024-01-02T03:04:05.123456"
	case "time without time zone", "time":
		// Not RFC 3339 full-time, which needs an offset.
		s = typed(openapi3.TypeString, "")
		s.Description = "time of day, e.g. 13:45:00"
	case "time with time zone", "timetz":
		s = typed(openapi3.TypeString, "")
		s.Description = "time of day with offset, e.g. 13:45:00+02"
	case "interval":
		s = typed(openapi3.TypeString, "")
		s.Description = "interval in PostgreSQL's IntervalStyle, e.g. 1 day 02:00:00"
	case "bytea":
		s = typed(openapi3.TypeString, "")
		s.Description = `bytea in hex format, e.g. \x0102`
	case "json", "jsonb":
		s = &openapi3.Schema{Description: "any JSON value"}
	case "int4range", "int8range", "numrange", "tsrange", "tstzrange", "daterange",
		"int4multirange", "int8multirange", "nummultirange", "tsmultirange", "tstzmultirange", "datemultirange":
		s = typed(openapi3.TypeString, "")
		s.Description = "range literal, e.g. [1,10)"
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
func (b *builder) typeRef(name string, cat byte) *openapi3.SchemaRef {
	name = stripTypmod(strings.TrimSpace(name))
	if strings.HasSuffix(name, "[]") {
		elem := strings.TrimSuffix(name, "[]")
		for strings.HasSuffix(elem, "[]") {
			elem = strings.TrimSuffix(elem, "[]")
		}
		return b.pgArray(b.typeRef(elem, 0))
	}
	if s, ok := scalarSchema(strings.ToLower(name)); ok {
		return &openapi3.SchemaRef{Value: s}
	}
	if ref := b.relationRef(name); ref != nil {
		return ref
	}
	if c, ok := b.known[name]; ok && c.TypeCategory != 'A' {
		// A domain or enum some column also uses: take its base type and labels from there.
		if len(c.EnumValues) > 0 {
			s := typed(openapi3.TypeString, "")
			for _, v := range c.EnumValues {
				s.Enum = append(s.Enum, v)
			}
			return &openapi3.SchemaRef{Value: s}
		}
		if c.BaseType != "" && c.BaseType != name {
			return b.typeRef(c.BaseType, c.TypeCategory)
		}
		cat = cmp.Or(cat, c.TypeCategory)
	}
	var s *openapi3.Schema
	switch cat {
	case 'N':
		s = typed(openapi3.TypeNumber, "")
	case 'B':
		s = typed(openapi3.TypeBoolean, "")
	case 'S', 'D', 'E', 'G', 'I', 'R', 'T', 'V', 'Z':
		s = typed(openapi3.TypeString, "")
	case 'C':
		s = typed(openapi3.TypeObject, "")
	default:
		s = &openapi3.Schema{}
	}
	s.Description = "PostgreSQL type " + name
	return &openapi3.SchemaRef{Value: s}
}

// inputNotes describe the formats inputFormat drops.
var inputNotes = map[string]string{
	"date":      "date, e.g. 2024-01-02 (PostgreSQL's date input: also infinity, -infinity and other spellings)",
	"date-time": "timestamp with time zone, e.g. 2024-01-02T03:04:05Z (PostgreSQL's input: also without an offset, in the session time zone, and infinity, -infinity)",
}

// inputFormat makes ref, a schema of values a client sends (write bodies, function arguments), accept every
// input PostgreSQL reads: RFC 3339's date and date-time are narrower than PostgreSQL's date and timestamptz
// input ("infinity", "2024-01-02 03:04:05", "Jan 2, 2024"), so those formats stay on the schemas of values
// PostgreSQL renders (to_json writes RFC 3339) and become a description here. Array items included.
func inputFormat(ref *openapi3.SchemaRef) *openapi3.SchemaRef {
	if ref == nil || ref.Ref != "" || ref.Value == nil {
		return ref
	}
	s := ref.Value
	if note, ok := inputNotes[s.Format]; ok {
		s.Format = ""
		if s.Description == "" {
			s.Description = note
		}
	}
	inputFormat(s.Items)
	return ref
}

// pgArray is a PostgreSQL array of elem: any element may be NULL.
func (b *builder) pgArray(elem *openapi3.SchemaRef) *openapi3.SchemaRef {
	return &openapi3.SchemaRef{Value: &openapi3.Schema{Type: &openapi3.Types{openapi3.TypeArray}, Items: b.nullable(elem)}}
}

// relationRef returns a $ref to the read schema of the relation whose row type is name ("books" or
// "public.books", as format_type spells it), when that relation is in this document.
func (b *builder) relationRef(name string) *openapi3.SchemaRef {
	parts := splitQualified(name)
	q := schemacache.QName{Schema: b.schema, Name: parts[len(parts)-1]}
	if len(parts) == 2 {
		q.Schema = parts[0]
	}
	if key, ok := b.readKey[q]; ok {
		return openapi3.NewSchemaRef("#/components/schemas/"+key, b.doc.Components.Schemas[key].Value)
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
func (b *builder) columnSchema(c *schemacache.Column) *openapi3.SchemaRef {
	if c.Rep.ToJSON != "" || c.Rep.FromJSON != "" {
		// A domain representation: the JSON shape is whatever its cast functions make of it.
		desc := "Any JSON value: presented and read through the domain representation of " + c.Type + "."
		if c.Comment != "" {
			desc = c.Comment
		}
		return &openapi3.SchemaRef{Value: &openapi3.Schema{Description: desc}}
	}
	var ref *openapi3.SchemaRef
	switch {
	case len(c.EnumValues) > 0:
		s := typed(openapi3.TypeString, "")
		for _, v := range c.EnumValues {
			s.Enum = append(s.Enum, v)
		}
		ref = &openapi3.SchemaRef{Value: s}
	case c.TypeCategory == 'A' && c.ElemType != "":
		ref = b.pgArray(b.typeRef(c.ElemType, 0))
	default:
		base := c.BaseType
		if base == "" {
			base = c.Type
		}
		ref = b.typeRef(base, c.TypeCategory)
	}
	if ref.Ref == "" {
		s := ref.Value
		if c.MaxLength > 0 && s.Type.Is(openapi3.TypeString) {
			s.MaxLength = ptrU64(uint64(c.MaxLength))
		}
		if c.Comment != "" {
			s.Description = c.Comment // the column comment replaces any note on the type
		}
	}
	if c.Nullable {
		ref = b.nullable(ref)
	}
	return ref
}

// nullable lets ref also accept null: nullable in 3.0, a "null" type in 3.1; a $ref is wrapped.
func (b *builder) nullable(ref *openapi3.SchemaRef) *openapi3.SchemaRef {
	if ref.Ref != "" {
		if b.v31 {
			return &openapi3.SchemaRef{Value: &openapi3.Schema{AnyOf: openapi3.SchemaRefs{ref,
				{Value: typed(openapi3.TypeNull, "")}}}}
		}
		// Relation rows are objects; 3.0 needs a type beside nullable, and a $ref can have no siblings.
		return &openapi3.SchemaRef{Value: &openapi3.Schema{AllOf: openapi3.SchemaRefs{ref},
			Type: &openapi3.Types{openapi3.TypeObject}, Nullable: true}}
	}
	s := ref.Value
	if s.Type == nil || len(*s.Type) == 0 {
		// Untyped accepts null in JSON Schema 2020-12; 3.0 validators (kin-openapi) want nullable spelled out.
		s.Nullable = !b.v31
		return ref
	}
	if len(s.Enum) > 0 {
		s.Enum = append(s.Enum, nil)
	}
	if b.v31 {
		t := append(openapi3.Types{}, (*s.Type)...)
		t = append(t, openapi3.TypeNull)
		s.Type = &t
	} else {
		s.Nullable = true
	}
	return ref
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
