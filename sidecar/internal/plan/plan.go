// Package plan resolves a parsed request against the schema cache into a tree with every name, type and
// relationship checked.
//
// A plan carries no request text that the SQL stage could write as SQL: relations, columns, functions and types
// are schema cache values; operators, aggregates and orderings are enums; JSON path keys, filter values and
// ranges are values the SQL stage binds as parameters; the response's JSON keys are Keys, which it writes only as
// quoted result-column names.
package plan

import (
	"github.com/pgway/pgway/internal/schemacache"
	"github.com/pgway/pgway/sidecar/internal/request"
)

// Key is a JSON key of the response: a select alias, a column name, or the last key of a JSON path. It is text
// the client chose; the SQL stage writes it only as a quoted identifier naming a result column.
type Key struct{ text string }

// String is the key's text.
func (k Key) String() string { return k.text }

// Agg is an aggregate function of select=.
type Agg uint8

// Aggregates.
const (
	AggNone Agg = iota
	AggCount
	AggSum
	AggAvg
	AggMin
	AggMax
)

var aggNames = map[string]Agg{"count": AggCount, "sum": AggSum, "avg": AggAvg, "min": AggMin, "max": AggMax}

// PathStep is one step of a JSON path: an object key or an array index, bound as parameters.
type PathStep struct {
	Key     string // the object key (IsIndex false)
	Index   int32  // the array index (IsIndex true)
	IsIndex bool
	Text    bool // ->> (true) or -> (false)
}

// Expr is a column reference with an optional JSON path and cast.
type Expr struct {
	Column *schemacache.Column
	Path   []PathStep
	Cast   *schemacache.Type // nil for none
}

// Output is one selected value and the JSON key it is returned under.
type Output struct {
	Expr Expr
	Key  Key
	// Agg is the aggregate applied to Expr; AggCount with Expr.Column nil is count(*).
	Agg     Agg
	AggCast *schemacache.Type
}

// Cond is a WHERE condition: a leaf (Leaf set) or an and/or tree.
type Cond struct {
	Leaf     *Leaf
	Or       bool
	Negate   bool
	Children []Cond
}

// Op is a filter operator.
type Op uint8

// Operators (PostgREST's names).
const (
	OpEq Op = iota
	OpNeq
	OpGt
	OpGte
	OpLt
	OpLte
	OpLike
	OpIlike
	OpMatch
	OpImatch
	OpIn
	OpIs
	OpIsDistinct
	OpFts
	OpPlFts
	OpPhFts
	OpWFts
	OpCs
	OpCd
	OpOv
	OpSl
	OpSr
	OpNxr
	OpNxl
	OpAdj
)

var opNames = map[string]Op{
	"eq": OpEq, "neq": OpNeq, "gt": OpGt, "gte": OpGte, "lt": OpLt, "lte": OpLte, "like": OpLike, "ilike": OpIlike,
	"match": OpMatch, "imatch": OpImatch, "in": OpIn, "is": OpIs, "isdistinct": OpIsDistinct, "fts": OpFts,
	"plfts": OpPlFts, "phfts": OpPhFts, "wfts": OpWFts, "cs": OpCs, "cd": OpCd, "ov": OpOv, "sl": OpSl, "sr": OpSr,
	"nxr": OpNxr, "nxl": OpNxl, "adj": OpAdj,
}

// Quant is the any/all modifier of an operator (eq(any).{…}).
type Quant uint8

// Quantifiers.
const (
	QuantNone Quant = iota
	QuantAny
	QuantAll
)

// IsValue is the operand of is.
type IsValue uint8

// is operands.
const (
	IsNull IsValue = iota
	IsNotNull
	IsTrue
	IsFalse
	IsUnknown
)

var isValues = map[string]IsValue{"null": IsNull, "not_null": IsNotNull, "true": IsTrue, "false": IsFalse, "unknown": IsUnknown}

// Leaf compares one expression with an operator; every operand is a value to bind.
type Leaf struct {
	Expr   Expr
	Op     Op
	Negate bool
	Quant  Quant
	Is     IsValue // for OpIs and embed presence tests
	// Lang is the text search configuration of an fts operator ("" for the default).
	Lang string
	// Value is the operand; List the items of in and of any/all, ListNull the bare nulls of in.
	Value    string
	List     []string
	ListNull []bool
	// Embed is set for rel=is.null / rel=not.is.null: the test is whether the embed found a row (Expr unset).
	Embed *Embed
}

// Nulls places NULLs in an ordering.
type Nulls uint8

// Null orderings.
const (
	NullsDefault Nulls = iota
	NullsFirst
	NullsLast
)

// Order is one ORDER BY term.
type Order struct {
	Expr  Expr
	Desc  bool
	Nulls Nulls
	// Embed is set for order=rel(col): Expr is the column of the to-one embed's relation.
	Embed *Embed
}

// Read is the plan of a read: one relation, its projection, filter, order and window.
type Read struct {
	Rel *schemacache.Relation
	// Alias numbers the relation in the statement: 0 is the relation's own name, n > 0 the n-th embed's table.
	Alias int
	// NamedAlias aliases the n-th embed's table "<table>_<n>" (cities_1), as PostgREST names it in its plans;
	// false where that name could be taken for another relation of the statement (see embedAliasNamed).
	NamedAlias bool
	Select     []Output
	Where      []Cond // ANDed
	Order      []Order
	Offset     int64
	Limit      int64 // -1: none
	// GroupBy is set when Select mixes aggregates with plain columns.
	GroupBy bool
	// Embeds are the related resources rendered after Select, in select order.
	Embeds []*Embed
	// Hoisted marks the read of a spread to-one embed: its aggregates are computed by the parent, over the
	// parent's rows and grouping (PostgREST 12's aggregates in spreads).
	Hoisted bool

	// Top-level options (unused on embedded reads).
	Count    request.Count
	Media    request.MediaType
	Explain  request.PlanOptions
	MaxRows  int64 // db-max-rows, 0 = unlimited
	Singular bool  // the object media type: exactly one row expected
	// Warning is PostgREST's deprecation Warning text when a filter, order or limit named an aliased embed by
	// its relation (url-use-legacy-target-names).
	Warning string
	// Handler is the aggregate media type handler rendering the rows (Media is then MediaCustom).
	Handler *schemacache.MediaHandler
	// GeoJSON is PostGIS's ST_AsGeoJSON(record), which renders each row when Media is MediaGeoJSON.
	GeoJSON *schemacache.QName
	// legacyTargets allows those names (set from the request).
	legacyTargets bool
	// sqlName is the name PostgREST's SQL gives this embedded read's table (see embed), which PostgreSQL's
	// unknown-column error quotes; empty for the top level's own name.
	sqlName string
}

// Limits bound the work one request may ask for.
type Limits struct {
	MaxRows       int64 // db-max-rows (0: none)
	MaxEmbedDepth int   // how deep embeds may nest (0: no limit)
	MaxEmbeds     int   // how many embeds one request may have in all (0: no limit)
}
