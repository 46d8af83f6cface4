package openapi

import "slices"

// Type names of JSON Schema.
const (
	tString  = "string"
	tNumber  = "number"
	tInteger = "integer"
	tBoolean = "boolean"
	tObject  = "object"
	tArray   = "array"
	tNull    = "null"
)

// schema is a JSON Schema object with the fields the builder uses (a $ref when ref is set), written as
// kin-openapi writes its openapi3.Schema.
type schema struct {
	ref         string
	typ         []string
	format      string
	description string
	enum        []any
	def         any
	nullable    bool
	readOnly    bool
	min, max    *float64
	maxLength   *uint64
	pattern     string
	items       *schema
	minItems    uint64
	maxItems    *uint64
	required    []string
	props       object // property name → *schema
	// additional is additionalProperties as a schema; closed writes additionalProperties: false.
	additional *schema
	closed     bool
	allOf      []*schema
	anyOf      []*schema
	oneOf      []*schema
}

func typed(t, format string) *schema { return &schema{typ: []string{t}, format: format} }

func stringSchema() *schema { return typed(tString, "") }

func refSchema(key string) *schema { return &schema{ref: "#/components/schemas/" + key} }

func ptrU64(v uint64) *uint64   { return &v }
func ptrF64(v float64) *float64 { return &v }

// is reports whether the schema's only type is t (kin-openapi's Types.Is).
func (s *schema) is(t string) bool { return len(s.typ) == 1 && s.typ[0] == t }

// members are the schema's JSON members (unsorted), as jsonWriter.schema writes them (for YAML).
func (s *schema) members() object {
	if s.ref != "" {
		return object{{"$ref", s.ref}}
	}
	o := make(object, 0, 6)
	if len(s.oneOf) != 0 {
		o.set("oneOf", s.oneOf)
	}
	if s.additional != nil {
		o.set("additionalProperties", s.additional)
	} else if s.closed {
		o.set("additionalProperties", false)
	}
	if len(s.anyOf) != 0 {
		o.set("anyOf", s.anyOf)
	}
	if len(s.allOf) != 0 {
		o.set("allOf", s.allOf)
	}
	switch len(s.typ) {
	case 0:
	case 1:
		o.set("type", s.typ[0])
	default:
		o.set("type", s.typ)
	}
	if s.format != "" {
		o.set("format", s.format)
	}
	if s.description != "" {
		o.set("description", s.description)
	}
	if len(s.enum) != 0 {
		o.set("enum", s.enum)
	}
	if s.def != nil {
		o.set("default", s.def)
	}
	if s.nullable {
		o.set("nullable", true)
	}
	if s.readOnly {
		o.set("readOnly", true)
	}
	if s.min != nil {
		o.set("minimum", *s.min)
	}
	if s.max != nil {
		o.set("maximum", *s.max)
	}
	if s.maxLength != nil {
		o.set("maxLength", *s.maxLength)
	}
	if s.pattern != "" {
		o.set("pattern", s.pattern)
	}
	if s.items != nil {
		o.set("items", s.items)
	}
	if s.minItems != 0 {
		o.set("minItems", s.minItems)
	}
	if s.maxItems != nil {
		o.set("maxItems", *s.maxItems)
	}
	if len(s.required) != 0 {
		o.set("required", s.required)
	}
	if len(s.props) != 0 {
		o.set("properties", s.props)
	}
	return o
}

// prop returns the property named k (nil: none).
func (s *schema) prop(k string) *schema {
	for i := len(s.props) - 1; i >= 0; i-- {
		if s.props[i].k == k {
			v, _ := s.props[i].v.(*schema)
			return v
		}
	}
	return nil
}

// deleteProp removes the property named k.
func (s *schema) deleteProp(k string) {
	s.props = slices.DeleteFunc(s.props, func(m member) bool { return m.k == k })
}
