// Package plan resolves a parsed request against the schema cache into a tree with every name, type and
// relationship checked.
package plan

import (
	"github.com/pgway/pgway/internal/schemacache"
	"github.com/pgway/pgway/sidecar/internal/request"
)

// Expr is a column reference with an optional JSON path and cast.
type Expr struct {
	Column   *schemacache.Column
	JSONPath []request.JSONOp
	Cast     string // validated type name, "" for none
}

// Output is one selected value and the JSON key it is returned under.
type Output struct {
	Expr Expr
	Name string
	// Aggregate is "", "count", "sum", "avg", "min", "max"; with Expr.Column nil and "count", it is count(*).
	Aggregate     string
	AggregateCast string
}

// Cond is a WHERE condition: a leaf (Leaf set) or an and/or tree.
type Cond struct {
	Leaf     *Leaf
	Or       bool
	Negate   bool
	Children []Cond
}

// Leaf compares one expression with an operator.
type Leaf struct {
	Expr Expr
	Op   request.Condition
	// Embed is set for rel=is.null / rel=not.is.null: the test is whether the embed found a row (Expr unset).
	Embed *Embed
}

// Order is one ORDER BY term.
type Order struct {
	Expr  Expr
	Desc  bool
	Nulls string // "", "first", "last"
	// Embed is set for order=rel(col): Expr is the column of the to-one embed's relation.
	Embed *Embed
}

// Read is the plan of a read: one relation, its projection, filter, order and window.
type Read struct {
	Rel *schemacache.Relation
	// Alias names the relation in the statement (unique within it: embeds of the same table get their own).
	Alias  string
	Select []Output
	Where  []Cond // ANDed
	Order  []Order
	Offset int64
	Limit  int64 // -1: none
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
	// legacyTargets allows those names (set from the request).
	legacyTargets bool
}
