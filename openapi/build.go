package openapi

import (
	"cmp"
	"fmt"
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

type builder struct {
	c       *schemacache.Cache
	opts    Options
	schema  string
	v31     bool
	doc     *openapi3.T
	readKey map[schemacache.QName]string
	nested  *nestedWrites
	known   map[string]*schemacache.Column // by type name, see knownTypes
	keys    *namer                         // component schema keys
	pkeys   *namer                         // component parameter keys
	bases   *namer                         // PascalCase bases of operationIds
	opIDs   *namer
	tags    *namer
}

// Build describes schema opts.Schema of c as an OpenAPI document. It is deterministic and never mutates c.
func Build(c *schemacache.Cache, opts Options) (*openapi3.T, error) {
	b := &builder{c: c, opts: opts, readKey: map[schemacache.QName]string{}, known: knownTypes(c),
		keys: newNamer(), pkeys: newNamer(), bases: newNamer(), opIDs: newNamer(), tags: newNamer()}
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
	b.doc = &openapi3.T{
		OpenAPI: "3.0.3",
		Info: &openapi3.Info{Title: cmp.Or(opts.Title, "pgway API"), Version: cmp.Or(opts.APIVersion, "1.0.0"),
			Description: strings.TrimSpace(opts.Description + "\n\n" + operatorHelp())},
		Paths: openapi3.NewPaths(),
		Components: &openapi3.Components{Schemas: openapi3.Schemas{}, Parameters: openapi3.ParametersMap{},
			Headers: openapi3.Headers{}, Responses: openapi3.ResponseBodies{}, SecuritySchemes: openapi3.SecuritySchemes{},
			RequestBodies: openapi3.RequestBodies{}},
		Security: openapi3.SecurityRequirements{{}, {"bearerAuth": []string{}}},
	}
	if b.v31 {
		b.doc.OpenAPI = "3.1.0"
	}
	// Without a proxy URI the API is relative to where the document was fetched from: "/" says so explicitly.
	b.doc.Servers = openapi3.Servers{{URL: cmp.Or(opts.ServerURL, "/")}}
	b.addShared()

	rels := b.relations()
	for _, r := range rels {
		key := b.keys.unique(componentKey(r.Name))
		b.readKey[schemacache.QName{Schema: r.Schema, Name: r.Name}] = key
		b.doc.Components.Schemas[key] = &openapi3.SchemaRef{Value: &openapi3.Schema{}}
	}
	b.nested = newNestedWrites()
	for _, r := range rels {
		b.addRelation(r)
	}
	b.addNestedWrites(rels)
	for _, fn := range b.routines() {
		b.addRoutine(fn)
	}
	b.addRoot()
	if opts.BatchMaxOperations > 0 {
		b.addBatch() // batch.go
	}
	return b.doc, nil
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
		// unnamed parameter otherwise cannot be called.
		callable := slices.DeleteFunc(slices.Clone(fns), func(fn *schemacache.Routine) bool {
			return !rawBodyParam(fn) && slices.ContainsFunc(fn.Params, func(p schemacache.RoutineParam) bool {
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

// summarize splits a COMMENT into a one-line summary and the rest, as PostgREST does.
func summarize(comment, fallback string) (summary, description string) {
	comment = strings.TrimSpace(comment)
	if comment == "" {
		return fallback, ""
	}
	first, rest, _ := strings.Cut(comment, "\n")
	return strings.TrimSpace(first), strings.TrimSpace(rest)
}

func (b *builder) addRelation(r *schemacache.Relation) {
	q := schemacache.QName{Schema: r.Schema, Name: r.Name}
	key := b.readKey[q]
	read := b.doc.Components.Schemas[key].Value
	*read = *b.rowSchema(r, false, false)
	read.Description = r.Comment

	canSelect, canInsert := b.allowed(q, PrivSelect), r.Insertable && b.allowed(q, PrivInsert)
	canUpdate, canDelete := r.Updatable && b.allowed(q, PrivUpdate), r.Deletable && b.allowed(q, PrivDelete)
	var insertKey, updateKey string
	if canInsert {
		insertKey = b.keys.unique(key + "_insert")
		b.doc.Components.Schemas[insertKey] = &openapi3.SchemaRef{Value: b.rowSchema(r, true, true)}
		b.nested.insertKey[q] = insertKey
	}
	if canUpdate {
		updateKey = b.keys.unique(key + "_update")
		b.doc.Components.Schemas[updateKey] = &openapi3.SchemaRef{Value: b.rowSchema(r, true, false)}
	}

	filters := b.filterParams(r, key, nil)
	var pkFilters openapi3.Parameters
	if len(r.PrimaryKey) > 0 {
		pkFilters = b.filterParams(r, key, r.PrimaryKey)
	}
	tag := b.tags.unique(r.Name)
	b.doc.Tags = append(b.doc.Tags, &openapi3.Tag{Name: tag, Description: cmp.Or(r.Comment, kindName(r.Kind)+" "+r.Name)})
	base := b.bases.unique(pascal(r.Name))
	item := &openapi3.PathItem{}
	summary, desc := summarize(r.Comment, "")
	op := func(method, fallback string) *openapi3.Operation {
		return &openapi3.Operation{OperationID: b.opIDs.unique(method + base), Tags: []string{tag},
			Summary: cmp.Or(summary, fallback), Description: desc}
	}
	rows := b.schemaRef(key)
	sel := b.selectParam(q, key)
	readProfile, writeProfile := b.profile("acceptProfile"), b.profile("contentProfile")

	if canSelect {
		get := op("get", "Read rows of "+r.Name)
		get.Parameters = concat(openapi3.Parameters{sel}, filters,
			openapi3.Parameters{b.paramRef("order"), b.paramRef("limit"), b.paramRef("offset"), b.paramRef("or"), b.paramRef("and"),
				b.paramRef("range"), b.paramRef("rangeUnit"), b.paramRef("preferRead")}, readProfile)
		get.Responses = b.responses(
			status{"200", b.okResponse("OK", rows, "ContentRange")},
			status{"206", b.okResponse("Partial content: a page of the rows", rows, "ContentRange")},
			errs("400", "401", "403", "404", "406", "416"))
		item.Get = get

		head := op("head", "Count rows of "+r.Name)
		head.Parameters = get.Parameters
		head.Responses = b.responses(
			status{"200", b.okResponse("OK (headers only)", nil, "ContentRange")},
			status{"206", b.okResponse("Partial content (headers only)", nil, "ContentRange")},
			errs("400", "401", "403", "404", "406", "416"))
		item.Head = head
	}
	if canInsert {
		post := op("post", "Insert rows into "+r.Name)
		post.Parameters = concat(openapi3.Parameters{sel, b.paramRef("columns"), b.paramRef("on_conflict"),
			b.paramRef("preferWrite")}, writeProfile)
		one := b.schemaRef(insertKey)
		post.RequestBody = &openapi3.RequestBodyRef{Value: &openapi3.RequestBody{Required: true,
			Description: "One row or an array of rows; NOT NULL columns without a default are required.",
			Content: openapi3.Content{
				mtJSON: {Schema: &openapi3.SchemaRef{Value: &openapi3.Schema{OneOf: openapi3.SchemaRefs{one, arrayOf(b.schemaRef(insertKey))}}}},
				mtCSV:  {Schema: &openapi3.SchemaRef{Value: stringSchema()}},
				mtForm: {Schema: b.schemaRef(insertKey)},
			}}}
		post.Responses = b.responses(
			status{"201", b.okResponse("Created; the body has the rows with Prefer: return=representation", rows,
				"ContentRange", "Location", "PreferenceApplied")},
			errs("400", "401", "403", "404", "406", "409"))
		item.Post = post
	}
	if canUpdate {
		patch := op("patch", "Update rows of "+r.Name)
		patch.Parameters = concat(openapi3.Parameters{sel, b.paramRef("columns")}, filters,
			openapi3.Parameters{b.paramRef("order"), b.paramRef("limit"), b.paramRef("or"), b.paramRef("and"), b.paramRef("preferWrite")},
			writeProfile)
		patch.RequestBody = &openapi3.RequestBodyRef{Value: &openapi3.RequestBody{Required: true,
			Description: "The columns to set on every matching row.",
			Content: openapi3.Content{
				mtJSON: {Schema: b.schemaRef(updateKey)},
				mtForm: {Schema: b.schemaRef(updateKey)},
			}}}
		patch.Responses = b.writeResponses(rows)
		item.Patch = patch
	}
	if canInsert && canUpdate && len(pkFilters) == len(r.PrimaryKey) && len(r.PrimaryKey) > 0 {
		put := op("put", "Insert or replace one row of "+r.Name)
		put.Description = strings.TrimSpace(desc + "\n\nFilter every primary-key column with `eq`; the body must be the whole row with the same key.")
		put.Parameters = concat(openapi3.Parameters{sel}, pkFilters, openapi3.Parameters{b.paramRef("preferWrite")},
			writeProfile)
		put.RequestBody = &openapi3.RequestBodyRef{Value: &openapi3.RequestBody{Required: true,
			Content: openapi3.Content{mtJSON: {Schema: b.schemaRef(insertKey)}}}}
		put.Responses = b.writeResponses(rows)
		put.Responses.Set("201", b.okResponse("Created (the row did not exist); the body has it with Prefer: return=representation",
			rows, "PreferenceApplied"))
		item.Put = put
	}
	if canDelete {
		del := op("delete", "Delete rows of "+r.Name)
		del.Parameters = concat(openapi3.Parameters{sel}, filters,
			openapi3.Parameters{b.paramRef("order"), b.paramRef("limit"), b.paramRef("or"), b.paramRef("and"), b.paramRef("preferWrite")},
			writeProfile)
		del.Responses = b.writeResponses(rows)
		item.Delete = del
	}
	b.doc.Paths.Set("/"+url.PathEscape(r.Name), item)
}

func (b *builder) writeResponses(rows *openapi3.SchemaRef) *openapi3.Responses {
	return b.responses(
		status{"200", b.okResponse("OK; the body has the rows with Prefer: return=representation", rows, "ContentRange", "PreferenceApplied")},
		status{"204", b.okResponse("No content (Prefer: return=minimal, the default)", nil, "ContentRange", "PreferenceApplied")},
		errs("400", "401", "403", "404", "406", "409"))
}

func (b *builder) profile(key string) openapi3.Parameters {
	if _, ok := b.doc.Components.Parameters[key]; ok {
		return openapi3.Parameters{b.paramRef(key)}
	}
	return nil
}

// rowSchema is a relation's row: for reading (every column, generated ones readOnly, nothing required since
// select may narrow it), or for writing (no generated columns; on insert the NOT NULL columns without a
// default are required).
func (b *builder) rowSchema(r *schemacache.Relation, write, insert bool) *openapi3.Schema {
	s := &openapi3.Schema{Type: &openapi3.Types{openapi3.TypeObject}, Properties: openapi3.Schemas{}}
	pk := map[string]bool{}
	for _, c := range r.PrimaryKey {
		pk[c] = true
	}
	for _, c := range r.Columns {
		if write && c.Generated {
			continue
		}
		prop := b.columnSchema(c)
		if write {
			inputFormat(prop)
		}
		if prop.Ref == "" {
			if notes := columnNotes(r, c, pk[c.Name]); notes != "" {
				prop.Value.Description = strings.TrimSpace(prop.Value.Description + "\n\n" + notes)
			}
			if c.Generated {
				prop.Value.ReadOnly = true
			}
		}
		s.Properties[c.Name] = prop
		if insert && !c.Nullable && !c.HasDefault && c.Default == "" {
			s.Required = append(s.Required, c.Name)
		}
	}
	if insert {
		s.Description = "A row to insert into " + r.Name
	} else if write {
		s.Description = "Columns to update in " + r.Name
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
				notes = append(notes, fmt.Sprintf("Note:\nThis is a Foreign Key to `%s.%s`.<fk table='%s' column='%s'/>",
					fk.Ref.Name, fk.RefColumns[i], fk.Ref.Name, fk.RefColumns[i]))
			}
		}
	}
	return strings.Join(notes, "\n")
}

// filterParams returns (creating them once) the per-column filter parameters of relation key, for the named
// columns or all of them.
func (b *builder) filterParams(r *schemacache.Relation, key string, only []string) openapi3.Parameters {
	var out openapi3.Parameters
	for _, c := range r.Columns {
		if reservedParams[c.Name] || (only != nil && !slices.Contains(only, c.Name)) {
			continue
		}
		pkey := "rowFilter." + key + "." + componentKey(c.Name)
		if _, ok := b.doc.Components.Parameters[pkey]; !ok {
			pkey = b.pkeys.unique(pkey)
			s := stringSchema()
			s.Pattern = FilterPattern
			desc := "Filter on `" + c.Name + "` (" + c.Type + ")"
			if c.Comment != "" {
				desc += ": " + c.Comment
			}
			b.doc.Components.Parameters[pkey] = &openapi3.ParameterRef{Value: &openapi3.Parameter{
				Name: c.Name, In: openapi3.ParameterInQuery, Description: desc + ". " + filterHelp,
				Schema: &openapi3.SchemaRef{Value: s}}}
		}
		out = append(out, b.paramRef(pkey))
	}
	return out
}

type status struct {
	code string
	resp *openapi3.ResponseRef
}

// errs lists shared error responses by status.
func errs(codes ...string) status { return status{code: strings.Join(codes, ",")} }

func (b *builder) responses(ss ...status) *openapi3.Responses {
	out := openapi3.NewResponses()
	out.Delete("default")
	for _, s := range ss {
		if s.resp != nil {
			out.Set(s.code, s.resp)
			continue
		}
		for _, code := range strings.Split(s.code, ",") {
			for _, e := range errorResponses {
				if e.status == code {
					out.Set(code, b.responseRef(e.key))
				}
			}
		}
	}
	return out
}

// okResponse is a success response with rows of item (nil: no body) and the named shared headers.
func (b *builder) okResponse(desc string, item *openapi3.SchemaRef, headers ...string) *openapi3.ResponseRef {
	if item != nil {
		// One JSON media type only: generators such as oapi-codegen match the response's Content-Type exactly
		// when several JSON types are listed, and pgway (like PostgREST) sends "; charset=utf-8".
		desc += ". With `Accept: " + mtObject + "` the single row comes as an object (406 PGRST116 unless exactly one)."
	}
	r := &openapi3.Response{Description: &desc}
	if item != nil {
		r.Content = openapi3.Content{
			mtJSON: {Schema: arrayOf(item)},
			mtCSV:  {Schema: &openapi3.SchemaRef{Value: stringSchema()}},
		}
	}
	if len(headers) > 0 {
		r.Headers = openapi3.Headers{}
		for _, h := range headers {
			r.Headers[headerName(h)] = b.headerRef(h)
		}
	}
	return &openapi3.ResponseRef{Value: r}
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

func arrayOf(item *openapi3.SchemaRef) *openapi3.SchemaRef {
	return &openapi3.SchemaRef{Value: &openapi3.Schema{Type: &openapi3.Types{openapi3.TypeArray}, Items: item}}
}

func concat(ps ...openapi3.Parameters) openapi3.Parameters {
	var out openapi3.Parameters
	for _, p := range ps {
		out = append(out, p...)
	}
	return out
}

// addRoot describes GET /, which serves this document.
func (b *builder) addRoot() {
	desc := "This OpenAPI document"
	tag := b.tags.unique("Introspection")
	get := &openapi3.Operation{OperationID: b.opIDs.unique("getOpenApi"), Tags: []string{tag},
		Summary: "OpenAPI description (this document)", Parameters: b.profile("acceptProfile"),
		Responses: b.responses(status{"200", &openapi3.ResponseRef{Value: &openapi3.Response{Description: &desc,
			Content: openapi3.Content{mtOpenAPI: {Schema: &openapi3.SchemaRef{Value: typed(openapi3.TypeObject, "")}}}}}},
			errs("401", "406"))}
	b.doc.Paths.Set("/", &openapi3.PathItem{Get: get})
	b.doc.Tags = append(b.doc.Tags, &openapi3.Tag{Name: tag, Description: "The OpenAPI description of this API"})
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

// selectParam is the select parameter of relation q: the shared one, or, when q has relationships to relations
// of this document, its own copy that lists what can be embedded (with !constraint hints where ambiguous).
func (b *builder) selectParam(q schemacache.QName, key string) *openapi3.ParameterRef {
	rels := b.c.Relationships[q]
	count := map[schemacache.QName]int{}
	for _, rel := range rels {
		count[rel.Target]++
	}
	var lines []string
	for _, rel := range rels {
		if _, ok := b.readKey[rel.Target]; !ok || rel.Target.Schema != b.schema {
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
	if len(lines) == 0 {
		return b.paramRef("select")
	}
	slices.Sort(lines)
	lines = slices.Compact(lines)
	shared := b.doc.Components.Parameters["select"].Value
	p := *shared
	p.Description = shared.Description + "\n\nEmbeddable relations:\n" + strings.Join(lines, "\n")
	pkey := b.pkeys.unique("select." + key)
	b.doc.Components.Parameters[pkey] = &openapi3.ParameterRef{Value: &p}
	return b.paramRef(pkey)
}
