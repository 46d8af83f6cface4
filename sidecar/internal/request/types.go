// Package request turns a raw HTTP request into a request.Request: the client's intent, with no schema knowledge.
package request

// Action is what the request asks for.
type Action uint8

// Actions.
const (
	ActionRead   Action = iota // GET/HEAD on a relation
	ActionInsert               // POST on a relation
	ActionUpdate               // PATCH
	ActionUpsert               // PUT (single-row upsert)
	ActionDelete               // DELETE
	ActionCall                 // /rpc/fn
	ActionInfo                 // OPTIONS
	ActionSchema               // GET / (OpenAPI document)
)

// Request is the parsed intent of one HTTP request.
type Request struct {
	Action   Action
	Method   string // GET, HEAD, POST, PATCH, PUT, DELETE, OPTIONS
	Head     bool   // HEAD: no body
	Relation string // table, view or (for ActionCall) function name; "" for the root
	RPC      bool   // the path is /rpc/{function}
	// Schema is the profile the client asked for (Accept-Profile for GET/HEAD, Content-Profile otherwise);
	// "" means the default (first exposed) schema. Validated against the config by the caller.
	Schema       string
	ProfileGiven bool

	Select  []SelectItem // nil: "*"
	Filters []Filter     // column filters, including embedded ones (Filter.Path)
	Logic   []Logic      // or=/and= trees, including embedded ones (Logic.Path)
	Order   []OrderSpec  // order=, including embedded ones (OrderSpec.Path)
	Ranges  []RangeSpec  // limit/offset (top level Path nil, embedded with Path) and the Range header (top level)
	// Columns is the columns= parameter for writes (nil when absent).
	Columns    []string
	OnConflict []string // on_conflict=

	Prefer Preferences
	Accept MediaType // the negotiated output media type
	// Plan holds the EXPLAIN options when Accept is MediaPlan.
	Plan PlanOptions
	// For reads and RPC: the index in AcceptList of the type Accept was negotiated from (-1 when none was),
	// and the PGRST107 error for that case: a media type handler (a function returning a media type domain,
	// an aggregate over a relation) may still produce one of them, which the plan decides.
	AcceptIndex  int
	AcceptErr    error
	acceptHeader string // the Accept header, kept for AcceptList (it may alias the server's request buffer)
	// ContentType is the body's media type for writes ("application/json", "text/csv", ...).
	ContentType string
	Body        []byte
	// Payload is the parsed body of an insert, update or upsert.
	Payload *Payload
	// StrictTargetNames rejects an aliased embed's relation name in filters, orders and limits (PGRST108);
	// set by the server from url-use-legacy-target-names = false.
	StrictTargetNames bool
	// Params are the RPC function arguments given in the query string (GET /rpc/fn?a=1) — name → raw value.
	Params []Param
}

// Param is one raw query-string argument for an RPC call.
type Param struct {
	Name, Value string
}

// JSONOp is one step of a JSON path: col->key, col->>key, col->0.
type JSONOp struct {
	Text  bool   // ->> (true) or -> (false)
	Key   string // the key or index text
	Index bool   // Key is an integer array index
}

// Field names a column, possibly followed by a JSON path.
type Field struct {
	Name     string
	JSONPath []JSONOp
}

// SelectItem is one element of select=.
type SelectItem struct {
	// Star is "*" (Field, Embed unset).
	Star bool
	// Field is the column (with optional JSON path); empty Name with Aggregate "count" means count().
	Field Field
	Alias string
	Cast  string
	// Aggregate is "", "count", "sum", "avg", "min" or "max"; AggregateCast is the cast after the aggregate
	// (avg(price)::int → Field price, Aggregate avg, AggregateCast int).
	Aggregate     string
	AggregateCast string
	// Embed is set for rel(...) items.
	Embed *Embed
}

// Embed is an embedded resource in select=: alias:rel!hint!inner(...).
type Embed struct {
	Name   string // relation (or computed relationship) name
	Hint   string // disambiguation hint after '!' ("" if none)
	Join   string // "", "inner" or "left"
	Spread bool   // ...rel(...)
	Select []SelectItem
}

// Filter is col=op.value (Path names the embed it applies to, e.g. "authors" for authors.name=eq.x).
type Filter struct {
	Path  []string
	Field Field
	Cond  Condition
}

// Condition is the operator part of a filter: [not.]op[(modifier)].value.
type Condition struct {
	Negate bool
	Op     string // eq neq gt gte lt lte like ilike match imatch in is isdistinct fts plfts phfts wfts cs cd ov sl sr nxr nxl adj
	// Quant is "any" or "all" for eq/like/ilike/gt/gte/lt/lte/match/imatch(any|all).
	Quant string
	// Lang is the fts language: fts(english).
	Lang string
	// Value is the raw operand (unquoted). For in, and for any/all, the List holds the items.
	Value string
	List  []string
	// ListNull marks which List items were a bare null in in.(...) (unquoted NULL).
	ListNull []bool
}

// Logic is an or=/and= tree: [not.]or=(a.eq.1,and(b.gt.2,c.lt.3)).
type Logic struct {
	Path     []string
	Negate   bool
	Or       bool // true: or, false: and
	Children []LogicNode
}

// LogicNode is a leaf filter or a nested tree.
type LogicNode struct {
	Filter *Filter // Path unset inside trees
	Logic  *Logic
}

// OrderSpec is order= (Path for embedded: authors.order=name).
type OrderSpec struct {
	Path  []string
	Terms []OrderTerm
}

// OrderTerm is one column of an order=.
type OrderTerm struct {
	// Relation is set for ordering by a to-one embed's column: order=author(name).desc.
	Relation string
	Field    Field
	Desc     bool
	Nulls    string // "", "first", "last"
}

// RangeSpec is a limit/offset pair for the top level (Path nil) or an embed.
type RangeSpec struct {
	Path   []string
	Offset int64
	Limit  int64 // -1: unbounded
}

// Count is the Prefer: count= preference.
type Count uint8

// Counts.
const (
	CountNone Count = iota
	CountExact
	CountPlanned
	CountEstimated
)

// Preferences are the parsed Prefer header values. Applied lists what is echoed in Preference-Applied.
type Preferences struct {
	Return       string // "", "minimal", "headers-only", "representation"
	Count        Count
	Resolution   string // "", "merge-duplicates", "ignore-duplicates"
	Missing      string // "", "default", "null"
	Handling     string // "", "strict", "lenient"
	Tx           string // "", "commit", "rollback"
	Timezone     string
	MaxAffected  int64  // -1: unset
	Params       string // "single-object" (legacy)
	Unrecognized []string
}

// MediaType is the response media type negotiated from Accept.
type MediaType uint8

// Media types.
const (
	MediaJSON           MediaType = iota // application/json
	MediaObject                          // application/vnd.pgrst.object+json
	MediaCSV                             // text/csv
	MediaPlan                            // application/vnd.pgrst.plan(+json|+text)
	MediaArrayStripped                   // application/vnd.pgrst.array+json;nulls=stripped
	MediaObjectStripped                  // application/vnd.pgrst.object+json;nulls=stripped
	MediaOpenAPI                         // application/openapi+json
	// MediaCustom is a media type handler's output: a function returning a domain named like "text/html" or
	// "*/*", or an aggregate doing so over a relation's rows; the value is sent as is. Chosen by the plan,
	// never by Parse.
	MediaCustom
	// MediaNDJSON is application/x-ndjson (pgway): one JSON object per row and line, streamed.
	MediaNDJSON
	// MediaGeoJSON is application/geo+json: the rows as a GeoJSON FeatureCollection (PostGIS's ST_AsGeoJSON).
	MediaGeoJSON
)

// AcceptedMedia is one media type of an RPC's Accept header, in preference order.
type AcceptedMedia struct {
	Mime     string // lower case, without parameters for PostgREST's own types
	Vendored bool   // application/vnd.pgrst.*: always PostgREST's built-in handlers
}

// PlanOptions are the parameters of application/vnd.pgrst.plan.
type PlanOptions struct {
	Format   string // "text" or "json"
	For      string // the media type the plan is for ("" = application/json)
	Analyze  bool
	Verbose  bool
	Settings bool
	Buffers  bool
	WAL      bool
}

// Input is the raw HTTP request as the sidecar hands it over (no fasthttp types cross this boundary).
type Input struct {
	Method string
	// Path is the URL path without the version prefix, e.g. "/items" or "/rpc/fn".
	Path string
	// Query is the raw (still percent-encoded) query string without '?'.
	Query          string
	Accept         string
	Prefer         string
	Range          string
	RangeUnit      string
	AcceptProfile  string
	ContentProfile string
	ContentType    string
	Body           []byte
}
