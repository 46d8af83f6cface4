package openapi

import (
	"cmp"
	"net/url"
	"slices"
	"strings"

	"github.com/pgway/pgway/internal/schemacache"
)

// planRoutine plans /rpc/{name}: POST with the arguments as a JSON object and, for stable and immutable
// functions, GET with them as query parameters. Overloads share the path; their argument objects are anyOf.
func (b *builder) planRoutine(fns []*schemacache.Routine) {
	fn := fns[0]
	p := &fnPlan{fns: fns}
	p.tag = b.tags.unique("(rpc) " + fn.Name)
	b.tagList = append(b.tagList, object{{"name", p.tag}, {"description", cmp.Or(fn.Comment, "Function "+fn.Name)}})
	p.base = b.bases.unique(pascal(fn.Name))
	p.postID = b.opIDs.unique("rpc" + p.base)
	if !(len(fns) == 1 && singleUnnamed(fn) && rawBodyContent(fn) != nil) {
		p.argsKey = b.keys.unique(componentKey(fn.Name) + "_args")
		b.schemas[p.argsKey] = func() *schema { return b.argsSchema(fns) }
	}
	if slices.ContainsFunc(fns, func(f *schemacache.Routine) bool { return f.Volatility == 'i' || f.Volatility == 's' }) {
		p.getID = b.opIDs.unique("rpc" + p.base + "Get")
	}
	b.fnList = append(b.fnList, p)
	b.paths["/rpc/"+url.PathEscape(fn.Name)] = func() object { return b.routinePath(p) }
}

// routinePath is the path item of a function name.
func (b *builder) routinePath(p *fnPlan) object {
	fns := p.fns
	fn := fns[0]
	summary, desc := summarize(fn.Comment, "Call "+fn.Name)
	item := object{}

	ok, result := b.returnSchema(fns)
	var resps object
	if result == nil && ok == "204" {
		resps = b.responses(status{"204", b.okResponse("No content (the function returns void)", nil)},
			errs("400", "401", "403", "404", "406"))
	} else {
		content := object{{mtJSON, mediaType(result)}}
		r := object{{"description", "OK"}}
		if fn.ReturnsSet || fn.ReturnsRelation != nil {
			r.set("headers", object{{"Content-Range", headerRef("ContentRange")}})
		}
		if fn.ReturnsRelation != nil && !fn.ReturnsSet {
			content.set(mtObject, mediaType(result))
		}
		if fn.ReturnsSet && result.ref == "" && result.items != nil {
			content.set(mtObject, mediaType(result.items))
		}
		r.set("content", content)
		resps = b.responses(status{"200", r}, errs("400", "401", "403", "404", "406"))
	}
	var resultParams []any
	if fn.ReturnsSet || fn.ReturnsRelation != nil {
		resultParams = refs("select", "order", "limit", "offset")
	}

	post := operation(p.postID, p.tag, summary, desc)
	setParams(&post, concat(resultParams, refs("preferRpc"), b.profile("contentProfile")))
	post.set("requestBody", b.argsBody(p))
	post.set("responses", resps)
	item.set("post", post)

	if p.getID != "" {
		get := operation(p.getID, p.tag, summary, desc)
		setParams(&get, concat(b.argQueryParams(fns), resultParams, refs("preferRead"), b.profile("acceptProfile")))
		get.set("responses", resps)
		item.set("get", get)
	}
	return item
}

// returnSchema is the response body schema of a function (anyOf when overloads return different shapes), or
// "204" and nil for void.
func (b *builder) returnSchema(fns []*schemacache.Routine) (string, *schema) {
	var out []*schema
	seen := map[string]bool{}
	for _, fn := range fns {
		if strings.EqualFold(fn.ReturnType, "void") {
			continue
		}
		s := b.returnOne(fn)
		j := jsonWriter{}
		j.value(s, 0)
		if key := string(j.buf); !seen[key] {
			seen[key] = true
			out = append(out, s)
		}
	}
	switch len(out) {
	case 0:
		return "204", nil
	case 1:
		return "200", out[0]
	}
	return "200", &schema{anyOf: out}
}

func (b *builder) returnOne(fn *schemacache.Routine) *schema {
	var one *schema
	switch {
	case fn.ReturnsRelation != nil:
		if p, ok := b.rels[*fn.ReturnsRelation]; ok {
			one = refSchema(p.key)
		} else {
			one = typed(tObject, "")
		}
	case fn.ReturnsScalar:
		one = b.typeRef(fn.ReturnType, 0)
	case len(fn.Columns) > 0:
		// RETURNS TABLE, OUT parameters or a composite type: an object with those columns.
		obj := typed(tObject, "")
		for _, c := range fn.Columns {
			obj.props.set(c.Name, b.nullable(b.typeRef(c.Type, 0)))
		}
		one = obj
	default:
		one = typed(tObject, "")
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

// rawBodyContent is the request body content of a function with a single unnamed json, text, bytea or xml
// parameter (nil for other types).
func rawBodyContent(fn *schemacache.Routine) object {
	switch strings.ToLower(stripTypmod(fn.Params[0].Type)) {
	case "json", "jsonb":
		return object{{mtJSON, mediaType(&schema{})}}
	case "text":
		return object{{mtText, mediaType(stringSchema())}}
	case "bytea":
		return object{{mtBinary, mediaType(typed(tString, "binary"))}}
	case "xml":
		return object{{mtXML, mediaType(stringSchema())}}
	}
	return nil
}

// argsBody is the POST request body: the arguments as one JSON object (a component "{name}_args"), or the raw
// body for a function with a single unnamed json, text, bytea or xml parameter.
func (b *builder) argsBody(p *fnPlan) object {
	if p.argsKey == "" {
		return object{{"required", true}, {"description", "The raw body is the function's single argument."},
			{"content", rawBodyContent(p.fns[0])}}
	}
	required := !slices.ContainsFunc(p.fns, func(f *schemacache.Routine) bool {
		return !slices.ContainsFunc(f.Params, func(pa schemacache.RoutineParam) bool { return pa.Name != "" && !pa.HasDefault })
	})
	body := object{{"content", object{
		{mtJSON, mediaType(refSchema(p.argsKey))},
		{mtForm, mediaType(refSchema(p.argsKey))},
	}}}
	if required {
		body.set("required", true)
	}
	return body
}

// argsSchema is the "{name}_args" component: the arguments as one object, anyOf the overloads.
func (b *builder) argsSchema(fns []*schemacache.Routine) *schema {
	var variants []*schema
	for _, f := range fns {
		s := &schema{typ: []string{tObject}}
		for _, p := range f.Params {
			if p.Name == "" {
				continue
			}
			s.props.set(p.Name, inputFormat(b.typeRef(p.Type, 0)))
			if !p.HasDefault {
				s.required = append(s.required, p.Name)
			}
		}
		variants = append(variants, s)
	}
	args := variants[0]
	if len(variants) > 1 {
		args = &schema{anyOf: variants, description: "One of the overloads of " + fns[0].Name}
	}
	if args.description == "" {
		args.description = "Arguments of " + fns[0].Name
	}
	return args
}

// argQueryParams are a GET call's arguments as query parameters: scalars typed, variadic arguments as
// repeated parameters, other arrays and composites as PostgreSQL literals. A parameter is required only when
// every overload requires it.
func (b *builder) argQueryParams(fns []*schemacache.Routine) []any {
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
	var out []any
	for _, name := range names {
		a := args[name]
		s := inputFormat(b.typeRef(a.p.Type, 0))
		if s.ref != "" || len(s.typ) == 0 || s.is(tObject) || (s.is(tArray) && !a.p.Variadic) {
			lit := stringSchema()
			lit.description = "PostgreSQL literal of type " + a.p.Type
			if s.is(tArray) {
				lit.description += ", e.g. {1,2,3}"
			}
			s = lit
		}
		out = append(out, param(name, "query", "Argument "+name+" ("+a.p.Type+")", a.required == len(fns), s))
	}
	return out
}
