package openapi

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
	required    []string
	props       object // property name → *schema
	allOf       []*schema
	anyOf       []*schema
	oneOf       []*schema
}

func typed(t, format string) *schema { return &schema{typ: []string{t}, format: format} }

func stringSchema() *schema { return typed(tString, "") }

func refSchema(key string) *schema { return &schema{ref: "#/components/schemas/" + key} }

func ptrU64(v uint64) *uint64   { return &v }
func ptrF64(v float64) *float64 { return &v }

// is reports whether the schema's only type is t (kin-openapi's Types.Is).
func (s *schema) is(t string) bool { return len(s.typ) == 1 && s.typ[0] == t }
