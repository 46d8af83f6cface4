package openapi

import (
	"cmp"
	"encoding/json"
	"net/url"
	"slices"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/pgway/pgway/internal/schemacache"
)

// addRoutine describes /rpc/{name}: POST with the arguments as a JSON object and, for stable and immutable
// functions, GET with them as query parameters. Overloads share the path; their argument objects are anyOf.
func (b *builder) addRoutine(fns []*schemacache.Routine) {
	fn := fns[0]
	tag := b.tags.unique("(rpc) " + fn.Name)
	b.doc.Tags = append(b.doc.Tags, &openapi3.Tag{Name: tag, Description: cmp.Or(fn.Comment, "Function "+fn.Name)})
	base := b.bases.unique(pascal(fn.Name))
	summary, desc := summarize(fn.Comment, "Call "+fn.Name)
	item := &openapi3.PathItem{}

	ok, result := b.returnSchema(fns)
	var resps *openapi3.Responses
	if result == nil && ok == "204" {
		resps = b.responses(status{"204", b.okResponse("No content (the function returns void)", nil)},
			errs("400", "401", "403", "404", "406"))
	} else {
		r := &openapi3.Response{Description: ptr("OK"), Content: openapi3.Content{mtJSON: {Schema: result}}}
		if fn.ReturnsSet || fn.ReturnsRelation != nil {
			r.Headers = openapi3.Headers{"Content-Range": b.headerRef("ContentRange")}
		}
		if fn.ReturnsRelation != nil && !fn.ReturnsSet {
			r.Content[mtObject] = &openapi3.MediaType{Schema: result}
		}
		if fn.ReturnsSet && result.Value != nil && result.Value.Items != nil {
			r.Content[mtObject] = &openapi3.MediaType{Schema: result.Value.Items}
		}
		resps = b.responses(status{"200", &openapi3.ResponseRef{Value: r}}, errs("400", "401", "403", "404", "406"))
	}
	var resultParams openapi3.Parameters
	if fn.ReturnsSet || fn.ReturnsRelation != nil {
		resultParams = openapi3.Parameters{b.paramRef("select"), b.paramRef("order"), b.paramRef("limit"), b.paramRef("offset")}
	}

	post := &openapi3.Operation{OperationID: b.opIDs.unique("rpc" + base), Tags: []string{tag},
		Summary: summary, Description: desc, Responses: resps}
	post.Parameters = concat(resultParams, openapi3.Parameters{b.paramRef("preferRpc")}, b.profile("contentProfile"))
	post.RequestBody = b.argsBody(fns)
	item.Post = post

	if slices.ContainsFunc(fns, func(f *schemacache.Routine) bool { return f.Volatility == 'i' || f.Volatility == 's' }) {
		get := &openapi3.Operation{OperationID: b.opIDs.unique("rpc" + base + "Get"), Tags: []string{tag},
			Summary: summary, Description: desc, Responses: resps}
		get.Parameters = concat(b.argQueryParams(fns), resultParams,
			openapi3.Parameters{b.paramRef("preferRead")}, b.profile("acceptProfile"))
		item.Get = get
	}
	b.doc.Paths.Set("/rpc/"+url.PathEscape(fn.Name), item)
}

func ptr[T any](v T) *T { return &v }

// returnSchema is the response body schema of a function (anyOf when overloads return different shapes), or
// "204" and nil for void.
func (b *builder) returnSchema(fns []*schemacache.Routine) (string, *openapi3.SchemaRef) {
	var out openapi3.SchemaRefs
	seen := map[string]bool{}
	for _, fn := range fns {
		if strings.EqualFold(fn.ReturnType, "void") {
			continue
		}
		s := b.returnOne(fn)
		key, _ := json.Marshal(s)
		if !seen[string(key)] {
			seen[string(key)] = true
			out = append(out, s)
		}
	}
	switch len(out) {
	case 0:
		return "204", nil
	case 1:
		return "200", out[0]
	}
	return "200", &openapi3.SchemaRef{Value: &openapi3.Schema{AnyOf: out}}
}

func (b *builder) returnOne(fn *schemacache.Routine) *openapi3.SchemaRef {
	var one *openapi3.SchemaRef
	switch {
	case fn.ReturnsRelation != nil:
		if key, ok := b.readKey[*fn.ReturnsRelation]; ok {
			one = b.schemaRef(key)
		} else {
			one = &openapi3.SchemaRef{Value: typed(openapi3.TypeObject, "")}
		}
	case fn.ReturnsScalar:
		one = b.typeRef(fn.ReturnType, 0)
	case len(fn.Columns) > 0:
		// RETURNS TABLE, OUT parameters or a composite type: an object with those columns.
		obj := typed(openapi3.TypeObject, "")
		obj.Properties = openapi3.Schemas{}
		for _, c := range fn.Columns {
			obj.Properties[c.Name] = b.nullable(b.typeRef(c.Type, 0))
		}
		one = &openapi3.SchemaRef{Value: obj}
	default:
		one = &openapi3.SchemaRef{Value: typed(openapi3.TypeObject, "")}
	}
	if fn.ReturnsSet {
		return arrayOf(one)
	}
	if fn.ReturnsScalar {
		return b.nullable(one) // a scalar function may return NULL
	}
	return one
}

// singleUnnamed reports whether fn takes one unnamed parameter, which PostgREST fills with the raw body.
func singleUnnamed(fn *schemacache.Routine) bool {
	return len(fn.Params) == 1 && fn.Params[0].Name == ""
}

// rawBodyParam reports whether fn's single unnamed parameter is of a type the raw body can fill.
func rawBodyParam(fn *schemacache.Routine) bool {
	if !singleUnnamed(fn) {
		return false
	}
	switch strings.ToLower(stripTypmod(fn.Params[0].Type)) {
	case "json", "jsonb", "text", "xml", "bytea":
		return true
	}
	return false
}

// argsBody is the POST request body: the arguments as one JSON object (a component "{name}_args"), or the raw
// body for a function with a single unnamed json, text, bytea or xml parameter.
func (b *builder) argsBody(fns []*schemacache.Routine) *openapi3.RequestBodyRef {
	fn := fns[0]
	if len(fns) == 1 && singleUnnamed(fn) {
		t := strings.ToLower(stripTypmod(fn.Params[0].Type))
		content := openapi3.Content{}
		switch t {
		case "json", "jsonb":
			content[mtJSON] = &openapi3.MediaType{Schema: &openapi3.SchemaRef{Value: &openapi3.Schema{}}}
		case "text":
			content[mtText] = &openapi3.MediaType{Schema: &openapi3.SchemaRef{Value: stringSchema()}}
		case "bytea":
			content[mtBinary] = &openapi3.MediaType{Schema: &openapi3.SchemaRef{Value: typed(openapi3.TypeString, "binary")}}
		case "xml":
			content[mtXML] = &openapi3.MediaType{Schema: &openapi3.SchemaRef{Value: stringSchema()}}
		}
		if len(content) > 0 {
			return &openapi3.RequestBodyRef{Value: &openapi3.RequestBody{Required: true,
				Description: "The raw body is the function's single argument.", Content: content}}
		}
	}
	var variants openapi3.SchemaRefs
	for _, f := range fns {
		s := &openapi3.Schema{Type: &openapi3.Types{openapi3.TypeObject}, Properties: openapi3.Schemas{}}
		for _, p := range f.Params {
			if p.Name == "" {
				continue
			}
			s.Properties[p.Name] = inputFormat(b.typeRef(p.Type, 0))
			if !p.HasDefault {
				s.Required = append(s.Required, p.Name)
			}
		}
		variants = append(variants, &openapi3.SchemaRef{Value: s})
	}
	args := variants[0]
	if len(variants) > 1 {
		args = &openapi3.SchemaRef{Value: &openapi3.Schema{AnyOf: variants,
			Description: "One of the overloads of " + fn.Name}}
	}
	key := b.keys.unique(componentKey(fn.Name) + "_args")
	if args.Value.Description == "" {
		args.Value.Description = "Arguments of " + fn.Name
	}
	b.doc.Components.Schemas[key] = args
	required := !slices.ContainsFunc(variants, func(v *openapi3.SchemaRef) bool { return len(v.Value.Required) == 0 })
	return &openapi3.RequestBodyRef{Value: &openapi3.RequestBody{Required: required,
		Content: openapi3.Content{
			mtJSON: {Schema: b.schemaRef(key)},
			mtForm: {Schema: b.schemaRef(key)},
		}}}
}

// argQueryParams are a GET call's arguments as query parameters: scalars typed, variadic arguments as
// repeated parameters, other arrays and composites as PostgreSQL literals. A parameter is required only when
// every overload requires it.
func (b *builder) argQueryParams(fns []*schemacache.Routine) openapi3.Parameters {
	type arg struct {
		p        schemacache.RoutineParam
		required int
	}
	var names []string
	args := map[string]*arg{}
	for _, f := range fns {
		for _, p := range f.Params {
			if p.Name == "" || reservedParams[p.Name] {
				continue
			}
			a, ok := args[p.Name]
			if !ok {
				a = &arg{p: p}
				args[p.Name] = a
				names = append(names, p.Name)
			} else if a.p.Type != p.Type {
				a.p.Type = "text" // overloads disagree: PostgreSQL resolves the literal
				a.p.Variadic = false
			}
			if !p.HasDefault {
				a.required++
			}
		}
	}
	var out openapi3.Parameters
	for _, name := range names {
		a := args[name]
		s := inputFormat(b.typeRef(a.p.Type, 0))
		if v := s.Value; s.Ref != "" || v.Type == nil || v.Type.Is(openapi3.TypeObject) ||
			(v.Type.Is(openapi3.TypeArray) && !a.p.Variadic) {
			lit := stringSchema()
			lit.Description = "PostgreSQL literal of type " + a.p.Type
			if v.Type.Is(openapi3.TypeArray) {
				lit.Description += ", e.g. {1,2,3}"
			}
			s = &openapi3.SchemaRef{Value: lit}
		}
		out = append(out, &openapi3.ParameterRef{Value: &openapi3.Parameter{Name: name, In: openapi3.ParameterInQuery,
			Required: a.required == len(fns), Description: "Argument " + name + " (" + a.p.Type + ")", Schema: s}})
	}
	return out
}
