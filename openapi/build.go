package openapi

import (
	"bytes"
	"cmp"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/pgway/pgway/internal/schemacache"
)

// Privileges passed to Options.Allowed.
const (
	PrivSelect  = "SELECT"
	PrivInsert  = "INSERT"
	PrivUpdate  = "UPDATE"
	PrivDelete  = "DELETE"
	PrivExecute = "EXECUTE" // for routines; the QName is the function's
)

// Options selects what Build describes.
type Options struct {
	// Schema is the exposed schema to describe; empty means the default (first) one.
	Schema string
	// Version is the OpenAPI version: "3.0" (default, emitted as 3.0.3) or "3.1" (3.1.0).
	Version string
	// ServerURL is the servers[0].url (openapi-server-proxy-uri); empty means "/" (relative to the document).
	ServerURL string
	// Allowed reports whether the role may use priv on a relation or routine; nil allows everything
	// (openapi-mode follow-privileges passes a predicate, ignore-privileges nil).
	Allowed func(obj schemacache.QName, priv string) bool
	// Title, Description and APIVersion fill the info object.
	Title, Description, APIVersion string
	// BatchMaxOperations, when positive, describes atomic batches (POST /, operationId batch) of at most that
	// many operations (server-batch-max-operations).
	BatchMaxOperations int
}

// builder plans a document (every name, in the order the names are handed out) and then writes it section by
// section, making each path item and component when it is written.
type builder struct {
	c        *schemacache.Cache
	opts     Options
	schema   string
	v31      bool
	profiles bool // several schemas are exposed: Accept-Profile and Content-Profile parameters
	known    map[string]*schemacache.Column
	keys     *namer // component schema keys
	pkeys    *namer // component parameter keys
	bases    *namer // PascalCase bases of operationIds
	opIDs    *namer
	tags     *namer

	rels     map[schemacache.QName]*relPlan // the relations of the document (their read schemas)
	relList  []*relPlan
	fnList   []*fnPlan
	rootTag  string
	rootOpID string
	batch    *batchPlan // POST / (nil: not described)
	viaQueue []*viaPlan // nested-write schemas per relationship, to plan (nested.go)
	vias     map[*schemacache.Relationship]string
	tagList  []object
	shared   map[string]object   // shared parameters
	params   map[string]paramGen // component parameters by key
	schemas  map[string]func() *schema
	paths    map[string]func() object
}

// paramGen makes a component parameter: a column filter (col set) or a relation's select parameter.
type paramGen struct {
	rel *relPlan
	col *schemacache.Column
}

// relPlan is what the plan decided for one relation.
type relPlan struct {
	r                                          *schemacache.Relation
	q                                          schemacache.QName
	key, insertKey, updateKey                  string
	canSelect, canInsert, canUpdate, canDelete bool
	filters, pkFilters                         []string // parameter keys
	tag, base                                  string
	sel                                        string // select parameter key
	get, head, post, patch, put, del           string // operationIds
	nested                                     []nestedProp
}

// fnPlan is what the plan decided for one function name (its callable overloads).
type fnPlan struct {
	fns           []*schemacache.Routine
	tag, base     string
	postID, getID string
	argsKey       string // "" for a raw body
}

func newBuilder(c *schemacache.Cache, opts Options) (*builder, error) {
	b := &builder{c: c, opts: opts, known: knownTypes(c), rels: map[schemacache.QName]*relPlan{},
		keys: newNamer(), pkeys: newNamer(), bases: newNamer(), opIDs: newNamer(), tags: newNamer(),
		params: map[string]paramGen{}, schemas: map[string]func() *schema{}, paths: map[string]func() object{}}
	switch opts.Version {
	case "", "3.0", "3.0.3":
	case "3.1", "3.1.0":
		b.v31 = true
	default:
		return nil, fmt.Errorf("building openapi: unsupported version %q (want 3.0 or 3.1)", opts.Version)
	}
	b.schema = opts.Schema
	if b.schema == "" {
		if len(c.Schemas) == 0 {
			return nil, fmt.Errorf("building openapi: the schema cache exposes no schema")
		}
		b.schema = c.Schemas[0]
	} else if len(c.Schemas) > 0 && !slices.Contains(c.Schemas, b.schema) {
		return nil, fmt.Errorf("building openapi: schema %q is not exposed", b.schema)
	}
	b.profiles = len(c.Schemas) > 1
	b.plan()
	return b, nil
}

// Write writes the document describing schema opts.Schema of c to w, as indented JSON ("json" or "") or as YAML
// ("yaml"), keys in a stable order, piece by piece: it never holds the whole document, so memory stays small
// however large the schema. It is deterministic and never mutates c.
func Write(w io.Writer, c *schemacache.Cache, opts Options, format string) error {
	b, err := newBuilder(c, opts)
	if err != nil {
		return err
	}
	var e emitter
	switch format {
	case "", "json":
		e = newJSONEmitter(w)
	case "yaml", "yml":
		e = newYAMLEmitter(w)
	default:
		return fmt.Errorf("encoding openapi document: unknown format %q (want json or yaml)", format)
	}
	b.emit(e)
	return e.finish()
}

// Build describes schema opts.Schema of c as a kin-openapi document (for diffs and validation: serving and
// printing use Write). It is deterministic and never mutates c.
func Build(c *schemacache.Cache, opts Options) (*openapi3.T, error) {
	var buf bytes.Buffer
	if err := Write(&buf, c, opts, "json"); err != nil {
		return nil, err
	}
	doc, err := openapi3.NewLoader().LoadFromData(buf.Bytes())
	if err != nil {
		return nil, fmt.Errorf("building openapi: loading the document: %w", err)
	}
	return doc, nil
}

func (b *builder) allowed(q schemacache.QName, priv string) bool {
	return b.opts.Allowed == nil || b.opts.Allowed(q, priv)
}

// relations are the relations of the schema the role may use at all, by name.
func (b *builder) relations() []*schemacache.Relation {
	var out []*schemacache.Relation
	for q, r := range b.c.Relations {
		if q.Schema != b.schema {
			continue
		}
		if b.allowed(q, PrivSelect) || b.allowed(q, PrivInsert) || b.allowed(q, PrivUpdate) || b.allowed(q, PrivDelete) {
			out = append(out, r)
		}
	}
	slices.SortFunc(out, func(x, y *schemacache.Relation) int { return strings.Compare(x.Name, y.Name) })
	return out
}

// routines are the function names of the schema the role may execute, by name, with their overloads.
func (b *builder) routines() [][]*schemacache.Routine {
	var out [][]*schemacache.Routine
	for q, fns := range b.c.Routines {
		if q.Schema != b.schema || !b.allowed(q, PrivExecute) {
			continue
		}
		// Only the overloads a request can call, as PostgREST calls them: by the names of their parameters, or
		// a single unnamed json, jsonb, text, xml or bytea parameter taking the body. An overload that needs an
		// unnamed parameter otherwise cannot be called, and PostgREST's schema cache does not hold one whose
		// parameters are all unnamed otherwise (schemacache.Routine.Callable).
		callable := slices.DeleteFunc(slices.Clone(fns), func(fn *schemacache.Routine) bool {
			return !fn.Callable() || !rawBodyParam(fn) && slices.ContainsFunc(fn.Params, func(p schemacache.RoutineParam) bool {
				return p.Name == "" && !p.HasDefault
			})
		})
		if len(callable) > 0 {
			out = append(out, callable)
		}
	}
	slices.SortFunc(out, func(x, y []*schemacache.Routine) int { return strings.Compare(x[0].Name, y[0].Name) })
	return out
}

// plan hands out every name (component keys, operationIds, tags) in the order the document has always
// given them, and records which component and path each relation and function makes.
func (b *builder) plan() {
	b.shared = b.sharedParams()
	b.keys.unique("Error")
	b.schemas["Error"] = b.errorSchema

	rels := b.relations()
	b.relList = make([]*relPlan, len(rels))
	for i, r := range rels {
		p := &relPlan{r: r, q: schemacache.QName{Schema: r.Schema, Name: r.Name}}
		p.key = b.keys.unique(componentKey(r.Name))
		b.rels[p.q] = p
		b.relList[i] = p
	}
	for _, p := range b.relList {
		b.planRelation(p)
	}
	b.planNestedWrites() // nested.go
	for _, fns := range b.routines() {
		b.planRoutine(fns)
	}
	b.rootTag = b.tags.unique("Introspection")
	b.rootOpID = b.opIDs.unique("getOpenApi")
	b.tagList = append(b.tagList, object{{"name", b.rootTag}, {"description", "The OpenAPI description of this API"}})
	b.paths["/"] = b.rootPath
	if b.opts.BatchMaxOperations > 0 {
		b.planBatch() // batch.go
	}
}

func (b *builder) planRelation(p *relPlan) {
	r, q := p.r, p.q
	p.canSelect, p.canInsert = b.allowed(q, PrivSelect), r.Insertable && b.allowed(q, PrivInsert)
	p.canUpdate, p.canDelete = r.Updatable && b.allowed(q, PrivUpdate), r.Deletable && b.allowed(q, PrivDelete)
	b.schemas[p.key] = func() *schema {
		s := b.rowSchema(r, false, false)
		s.description = r.Comment
		return s
	}
	if p.canInsert {
		p.insertKey = b.keys.unique(p.key + "_insert")
		b.schemas[p.insertKey] = func() *schema {
			s := b.rowSchema(r, true, true)
			b.nestedProperties(s, p.nested)
			return s
		}
	}
	if p.canUpdate {
		p.updateKey = b.keys.unique(p.key + "_update")
		b.schemas[p.updateKey] = func() *schema { return b.rowSchema(r, true, false) }
	}
	p.filters = b.filterParams(p, nil)
	if len(r.PrimaryKey) > 0 {
		p.pkFilters = b.filterParams(p, r.PrimaryKey)
	}
	p.tag = b.tags.unique(r.Name)
	b.tagList = append(b.tagList, object{{"name", p.tag}, {"description", cmp.Or(r.Comment, kindName(r.Kind)+" "+r.Name)}})
	p.base = b.bases.unique(pascal(r.Name))
	p.sel = "select"
	if len(b.embeddable(q)) > 0 {
		p.sel = b.pkeys.unique("select." + p.key)
		b.params[p.sel] = paramGen{rel: p}
	}
	if p.canSelect {
		p.get = b.opIDs.unique("get" + p.base)
		p.head = b.opIDs.unique("head" + p.base)
	}
	if p.canInsert {
		p.post = b.opIDs.unique("post" + p.base)
	}
	if p.canUpdate {
		p.patch = b.opIDs.unique("patch" + p.base)
	}
	if p.canInsert && p.canUpdate && len(p.pkFilters) == len(r.PrimaryKey) && len(r.PrimaryKey) > 0 {
		p.put = b.opIDs.unique("put" + p.base)
	}
	if p.canDelete {
		p.del = b.opIDs.unique("delete" + p.base)
	}
	b.paths["/"+url.PathEscape(r.Name)] = func() object { return b.relationPath(p) }
}

// hasParam reports whether the document has a component parameter key.
func (b *builder) hasParam(key string) bool {
	if _, ok := b.shared[key]; ok {
		return true
	}
	_, ok := b.params[key]
	return ok
}

// filterParams returns (planning them once) the keys of the per-column filter parameters of relation p, for
// the named columns or all of them.
func (b *builder) filterParams(p *relPlan, only []string) []string {
	var out []string
	for _, c := range p.r.Columns {
		if reservedParams[c.Name] || (only != nil && !slices.Contains(only, c.Name)) {
			continue
		}
		pkey := "rowFilter." + p.key + "." + componentKey(c.Name)
		if !b.hasParam(pkey) {
			pkey = b.pkeys.unique(pkey)
			b.params[pkey] = paramGen{rel: p, col: c}
		}
		out = append(out, pkey)
	}
	return out
}

// filterParam is a column's filter parameter.
func filterParam(c *schemacache.Column) object {
	s := stringSchema()
	s.pattern = FilterPattern
	desc := "Filter on `" + c.Name + "` (" + c.Type + ")"
	if c.Comment != "" {
		desc += ": " + c.Comment
	}
	return param(c.Name, "query", desc+". "+filterHelp, false, s)
}

// summarize splits a COMMENT into a one-line summary and the rest, as PostgREST does.
func summarize(comment, fallback string) (summary, description string) {
	comment = strings.TrimSpace(comment)
	if comment == "" {
		return fallback, ""
	}
	first, rest, _ := strings.Cut(comment, "\n")
	return strings.TrimSpace(first), strings.TrimSpace(rest)
}

// operation is an operation object.
func operation(id, tag, summary, description string) object {
	o := make(object, 0, 8)
	o.set("operationId", id)
	o.set("tags", []string{tag})
	if summary != "" {
		o.set("summary", summary)
	}
	if description != "" {
		o.set("description", description)
	}
	return o
}

// setParams sets an operation's parameters (none: no member).
func setParams(op *object, ps []any) {
	if len(ps) > 0 {
		op.set("parameters", ps)
	}
}

func refs(keys ...string) []any {
	out := make([]any, len(keys))
	for i, k := range keys {
		out[i] = paramRef(k)
	}
	return out
}

func concat(ps ...[]any) []any {
	n := 0
	for _, p := range ps {
		n += len(p)
	}
	out := make([]any, 0, n)
	for _, p := range ps {
		out = append(out, p...)
	}
	return out
}

// relationPath is the path item of a relation.
func (b *builder) relationPath(p *relPlan) object {
	r := p.r
	key := p.key
	summary, desc := summarize(r.Comment, "")
	op := func(id, fallback string) object { return operation(id, p.tag, cmp.Or(summary, fallback), desc) }
	rows := refSchema(key)
	sel := paramRef(p.sel)
	filters := refs(p.filters...)
	readProfile, writeProfile := b.profile("acceptProfile"), b.profile("contentProfile")
	item := object{}

	if p.canSelect {
		params := concat([]any{sel}, filters,
			refs("order", "limit", "offset", "or", "and", "range", "rangeUnit", "preferRead"), readProfile)
		get := op(p.get, "Read rows of "+r.Name)
		setParams(&get, params)
		get.set("responses", b.responses(
			status{"200", b.okResponse("OK", rows, "ContentRange")},
			status{"206", b.okResponse("Partial content: a page of the rows", rows, "ContentRange")},
			errs("400", "401", "403", "404", "406", "416")))
		item.set("get", get)

		head := op(p.head, "Count rows of "+r.Name)
		setParams(&head, params)
		head.set("responses", b.responses(
			status{"200", b.okResponse("OK (headers only)", nil, "ContentRange")},
			status{"206", b.okResponse("Partial content (headers only)", nil, "ContentRange")},
			errs("400", "401", "403", "404", "406", "416")))
		item.set("head", head)
	}
	if p.canInsert {
		post := op(p.post, "Insert rows into "+r.Name)
		setParams(&post, concat([]any{sel}, refs("columns", "on_conflict", "preferWrite"), writeProfile))
		one := refSchema(p.insertKey)
		post.set("requestBody", object{{"required", true},
			{"description", "One row or an array of rows; NOT NULL columns without a default are required."},
			{"content", object{
				{mtJSON, mediaType(&schema{oneOf: []*schema{one, arrayOf(refSchema(p.insertKey))}})},
				{mtCSV, mediaType(stringSchema())},
				{mtForm, mediaType(refSchema(p.insertKey))},
			}}})
		post.set("responses", b.responses(
			status{"201", b.okResponse("Created; the body has the rows with Prefer: return=representation", rows,
				"ContentRange", "Location", "PreferenceApplied")},
			errs("400", "401", "403", "404", "406", "409")))
		item.set("post", post)
	}
	if p.canUpdate {
		patch := op(p.patch, "Update rows of "+r.Name)
		setParams(&patch, concat([]any{sel, paramRef("columns")}, filters,
			refs("order", "limit", "or", "and", "preferWrite"), writeProfile))
		patch.set("requestBody", object{{"required", true},
			{"description", "The columns to set on every matching row."},
			{"content", object{
				{mtJSON, mediaType(refSchema(p.updateKey))},
				{mtForm, mediaType(refSchema(p.updateKey))},
			}}})
		patch.set("responses", b.writeResponses(rows))
		item.set("patch", patch)
	}
	if p.put != "" {
		put := op(p.put, "Insert or replace one row of "+r.Name)
		put.set("description", strings.TrimSpace(desc+"\n\nFilter every primary-key column with `eq`; the body must be the whole row with the same key."))
		setParams(&put, concat([]any{sel}, refs(p.pkFilters...), refs("preferWrite"), writeProfile))
		put.set("requestBody", object{{"required", true},
			{"content", object{{mtJSON, mediaType(refSchema(p.insertKey))}}}})
		resps := b.writeResponses(rows)
		resps.set("201", b.okResponse("Created (the row did not exist); the body has it with Prefer: return=representation",
			rows, "PreferenceApplied"))
		put.set("responses", resps)
		item.set("put", put)
	}
	if p.canDelete {
		del := op(p.del, "Delete rows of "+r.Name)
		setParams(&del, concat([]any{sel}, filters, refs("order", "limit", "or", "and", "preferWrite"), writeProfile))
		del.set("responses", b.writeResponses(rows))
		item.set("delete", del)
	}
	return item
}

func mediaType(s *schema) object { return object{{"schema", s}} }

func (b *builder) writeResponses(rows *schema) object {
	return b.responses(
		status{"200", b.okResponse("OK; the body has the rows with Prefer: return=representation", rows, "ContentRange", "PreferenceApplied")},
		status{"204", b.okResponse("No content (Prefer: return=minimal, the default)", nil, "ContentRange", "PreferenceApplied")},
		errs("400", "401", "403", "404", "406", "409"))
}

func (b *builder) profile(key string) []any {
	if b.hasParam(key) {
		return []any{paramRef(key)}
	}
	return nil
}

// rowSchema is a relation's row: for reading (every column, generated ones readOnly, nothing required since
// select may narrow it), or for writing (no generated columns; on insert the NOT NULL columns without a
// default are required).
func (b *builder) rowSchema(r *schemacache.Relation, write, insert bool) *schema {
	s := &schema{typ: []string{tObject}, props: make(object, 0, len(r.Columns))}
	var pk map[string]bool
	if len(r.PrimaryKey) > 0 {
		pk = make(map[string]bool, len(r.PrimaryKey))
		for _, c := range r.PrimaryKey {
			pk[c] = true
		}
	}
	for _, c := range r.Columns {
		if write && c.Generated {
			continue
		}
		prop := b.columnSchema(c)
		if write {
			inputFormat(prop)
		}
		if prop.ref == "" {
			if notes := columnNotes(r, c, pk[c.Name]); notes != "" {
				prop.description = strings.TrimSpace(prop.description + "\n\n" + notes)
			}
			if c.Generated {
				prop.readOnly = true
			}
		}
		s.props.set(c.Name, prop)
		if insert && !c.Nullable && !c.HasDefault && c.Default == "" {
			s.required = append(s.required, c.Name)
		}
	}
	if insert {
		s.description = "A row to insert into " + r.Name
	} else if write {
		s.description = "Columns to update in " + r.Name
	}
	return s
}

// columnNotes are PostgREST's machine-readable notes on keys (<pk/>, <fk .../>), kept for clients that read them.
func columnNotes(r *schemacache.Relation, c *schemacache.Column, isPK bool) string {
	var notes []string
	if isPK {
		notes = append(notes, "Note:\nThis is a Primary Key.<pk/>")
	}
	for _, fk := range r.ForeignKeys {
		for i, col := range fk.Columns {
			if col == c.Name && i < len(fk.RefColumns) {
				notes = append(notes, "Note:\nThis is a Foreign Key to `"+fk.Ref.Name+"."+fk.RefColumns[i]+"`.<fk table='"+
					fk.Ref.Name+"' column='"+fk.RefColumns[i]+"'/>")
			}
		}
	}
	return strings.Join(notes, "\n")
}

type status struct {
	code string
	resp object
}

// errs lists shared error responses by status.
func errs(codes ...string) status { return status{code: strings.Join(codes, ",")} }

func (b *builder) responses(ss ...status) object {
	out := make(object, 0, 8)
	for _, s := range ss {
		if s.resp != nil {
			out.set(s.code, s.resp)
			continue
		}
		for _, code := range strings.Split(s.code, ",") {
			for _, e := range errorResponses {
				if e.status == code {
					out.set(code, responseRef(e.key))
				}
			}
		}
	}
	return out
}

// okResponse is a success response with rows of item (nil: no body) and the named shared headers.
func (b *builder) okResponse(desc string, item *schema, headers ...string) object {
	if item != nil {
		// One JSON media type only: generators such as oapi-codegen match the response's Content-Type exactly
		// when several JSON types are listed, and pgway (like PostgREST) sends "; charset=utf-8".
		desc += ". With `Accept: " + mtObject + "` the single row comes as an object (406 PGRST116 unless exactly one)."
	}
	r := object{{"description", desc}}
	if item != nil {
		r.set("content", object{
			{mtJSON, mediaType(arrayOf(item))},
			{mtCSV, mediaType(stringSchema())},
		})
	}
	if len(headers) > 0 {
		hs := make(object, 0, len(headers))
		for _, h := range headers {
			hs.set(headerName(h), headerRef(h))
		}
		r.set("headers", hs)
	}
	return r
}

func headerName(key string) string {
	switch key {
	case "ContentRange":
		return "Content-Range"
	case "PreferenceApplied":
		return "Preference-Applied"
	}
	return key
}

func arrayOf(item *schema) *schema { return &schema{typ: []string{tArray}, items: item} }

// rootPath describes GET /, which serves this document.
func (b *builder) rootPath() object {
	get := operation(b.rootOpID, b.rootTag, "OpenAPI description (this document)", "")
	setParams(&get, b.profile("acceptProfile"))
	get.set("responses", b.responses(status{"200", object{{"description", "This OpenAPI document"},
		{"content", object{{mtOpenAPI, mediaType(typed(tObject, ""))}}}}},
		errs("401", "406")))
	item := object{{"get", get}}
	if b.batch != nil {
		item.set("post", b.batchOperation())
	}
	return item
}

func kindName(k schemacache.RelKind) string {
	switch k {
	case schemacache.KindView:
		return "View"
	case schemacache.KindMaterializedView:
		return "Materialized view"
	case schemacache.KindForeignTable:
		return "Foreign table"
	}
	return "Table"
}

var cardinalityNames = map[schemacache.Cardinality]string{
	schemacache.ManyToOne: "many-to-one", schemacache.OneToMany: "one-to-many",
	schemacache.OneToOne: "one-to-one", schemacache.ManyToMany: "many-to-many",
}

// embeddable lists what relation q can embed among the relations of this document (with !constraint hints
// where ambiguous), sorted, one line each.
func (b *builder) embeddable(q schemacache.QName) []string {
	rels := b.c.Relationships[q]
	if len(rels) == 0 {
		return nil
	}
	count := make(map[schemacache.QName]int, len(rels))
	for _, rel := range rels {
		count[rel.Target]++
	}
	var lines []string
	for _, rel := range rels {
		if _, ok := b.rels[rel.Target]; !ok || rel.Target.Schema != b.schema {
			continue
		}
		embed := rel.Target.Name
		if count[rel.Target] > 1 && rel.Constraint != "" {
			embed += "!" + rel.Constraint
		}
		line := "- `" + embed + "(*)`: " + cardinalityNames[rel.Cardinality]
		if rel.Junction != nil {
			line += " through " + rel.Junction.Table.Name
		}
		if rel.Computed != nil {
			line += " (computed by " + rel.Computed.Name + ")"
		}
		lines = append(lines, line)
	}
	slices.Sort(lines)
	return slices.Compact(lines)
}

// selectParam is the select parameter of relation p when it has relationships to relations of this document:
// a copy of the shared one that lists what can be embedded.
func (b *builder) selectParam(p *relPlan) object {
	return param("select", "query", selectDescription+"\n\nEmbeddable relations:\n"+strings.Join(b.embeddable(p.q), "\n"),
		false, stringSchema())
}
