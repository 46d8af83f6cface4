package plan

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/pgway/pgway/internal/apierr"
	"github.com/pgway/pgway/internal/schemacache"
	"github.com/pgway/pgway/sidecar/internal/request"
)

// Call is the plan of an RPC: the function, how its arguments arrive, and the read over its result.
type Call struct {
	Routine *schemacache.Routine
	// Args are the named parameters given, in the routine's order; their values come from the JSON object Body.
	Args []schemacache.RoutineParam
	// Body is the JSON object of arguments ($1), or the raw body for a single unnamed parameter.
	Body []byte
	// ArrayBody: the JSON body is an array of argument objects; only the first is used, as PostgREST.
	ArrayBody bool
	// RawParam is set for a function with one unnamed json/jsonb/text/xml/bytea parameter called by POST: the
	// body itself is the argument, cast to that parameter's type.
	RawParam *schemacache.RoutineParam
	// Read is set when the function returns rows of a known relation: select, filters, order and range apply
	// to the result as to a table. Its Rel is that relation.
	Read *Read
	// Result shape when Read is nil.
	Scalar, SetOf, Void bool
	// ReadOnly: GET calls and stable/immutable functions run in a read-only transaction.
	ReadOnly bool
	// Singular is the object media type.
	Singular bool
	Count    request.Count
	Media    request.MediaType
	// CustomMedia is the function's media type domain when Media is MediaCustom ("*/*" for the any handler).
	CustomMedia string
	Explain     request.PlanOptions
	MaxRows     int64
	Offset      int64
	Limit       int64
	// MaxAffected is Prefer: max-affected with handling=strict (-1: none): more rows returned roll back.
	MaxAffected int64
	// Rollback ends a read-write call's transaction with a rollback (Prefer: tx=rollback, db-tx-end).
	Rollback bool
	// GeoJSON is PostGIS's ST_AsGeoJSON(record) when Media is MediaGeoJSON (the function's rows as features).
	GeoJSON *schemacache.QName
	// Isolation is the function's own isolation level (CREATE FUNCTION … SET default_transaction_isolation), the
	// setting's value as the catalog holds it ("" for none): the call's transaction begins with that level, over
	// the role's, as PostgREST's planIsoLvl. It is not subject to db-hoisted-tx-settings, as in PostgREST, whose
	// schema cache reads it from every function.
	Isolation string
}

// ForCall resolves /rpc/{name}: finds the overload whose parameters match the argument names (PostgREST's
// findProc) and plans the read of its result.
func ForCall(req *request.Request, c *schemacache.Cache, schema string, lim Limits) (*Call, error) {
	maxRows := lim.MaxRows
	post := req.Method == "POST"
	var keys []string
	var body []byte
	if post {
		var err error
		if body, keys, err = callBody(req); err != nil {
			return nil, err
		}
	} else {
		for _, p := range req.Params {
			if !slices.Contains(keys, p.Name) {
				keys = append(keys, p.Name)
			}
		}
	}
	slices.Sort(keys)
	argKeys := keys // the argument names as sent, which a PGRST202 quotes
	contentType := req.ContentType
	if post && contentType == "application/json" && len(keys) == 1 && keys[0] == "" {
		// {"": value}: what generated clients send for a function's single unnamed parameter (its name is
		// empty): the value is that parameter's raw body, whichever of json, jsonb, text, xml or bytea it is.
		if v, ok := unnamedValue(body); ok {
			body, keys, contentType = v, nil, anyRawBody
		}
	}
	fns := callableRoutines(c, schema, req.Relation)
	fn, raw, err := findRoutine(fns, keys, contentType, post)
	if err != nil {
		return nil, noRoutine(err, c, schema, req, argKeys, post)
	}
	if !post {
		body = queryArgs(req.Params, fn)
	} else if req.ContentType == "application/x-www-form-urlencoded" {
		// Form fields are arguments as in a query string: repeated keys fill a variadic or array parameter.
		if form, err := url.ParseQuery(string(req.Body)); err == nil {
			params := make([]request.Param, 0, len(form))
			for _, k := range slices.Sorted(maps.Keys(form)) {
				for _, v := range form[k] {
					params = append(params, request.Param{Name: k, Value: v})
				}
			}
			body = queryArgs(params, fn)
		}
	}
	media, err := callMedia(req, fn)
	if err != nil {
		return nil, err
	}
	call := &Call{
		Routine:  fn,
		Body:     body,
		ReadOnly: !post || fn.Volatility != 'v',
		Singular: req.Accept == request.MediaObject || req.Accept == request.MediaObjectStripped,
		Count:    req.Prefer.Count,
		Media:    media,
		Explain:  req.Plan,
		MaxRows:  maxRows,
		Limit:    -1,
	}
	switch media {
	case request.MediaCustom:
		call.CustomMedia = fn.MediaType
	case request.MediaGeoJSON:
		call.GeoJSON = c.GeoJSON
	}
	call.ArrayBody = post && req.ContentType == "application/json" && req.Payload != nil && !req.Payload.Object
	if raw {
		call.RawParam = &fn.Params[0]
		call.Body = req.Body
		if contentType == anyRawBody {
			call.Body = rawArgument(call.RawParam, body)
		}
	} else {
		for _, p := range fn.Params {
			if slices.Contains(keys, p.Name) {
				call.Args = append(call.Args, p)
			}
		}
	}
	if fn.ReturnsRelation != nil {
		rel, ok := c.Relation(fn.ReturnsRelation.Schema, fn.ReturnsRelation.Name)
		if ok {
			r, err := ForRead(req, c, rel, lim)
			if err != nil {
				return nil, err
			}
			r.Singular = call.Singular
			call.Read = r
		}
	}
	if call.Read == nil && !fn.ReturnsScalar && len(fn.Columns) > 0 {
		// RETURNS TABLE, OUT parameters or a composite type: its columns act as a relation's.
		r, err := ForRead(req, c, resultRelation(fn), lim)
		if err != nil {
			return nil, err
		}
		r.Singular = call.Singular
		call.Read = r
	}
	call.MaxAffected = -1
	if req.Prefer.Handling == "strict" && req.Prefer.MaxAffected >= 0 {
		if !fn.ReturnsSet {
			return nil, apierr.New(http.StatusBadRequest, "PGRST128",
				"Function must return SETOF or TABLE when max-affected preference is used with handling=strict")
		}
		call.MaxAffected = req.Prefer.MaxAffected
	}
	call.Void = fn.ReturnType == "void"
	call.Scalar = call.Read == nil && fn.ReturnsScalar
	call.SetOf = fn.ReturnsSet
	for _, rg := range req.Ranges {
		if len(rg.Path) == 0 {
			call.Offset, call.Limit = rg.Offset, rg.Limit
		}
	}
	if call.Read == nil && maxRows > 0 && (call.Limit < 0 || call.Limit > maxRows) {
		call.Limit = maxRows
	}
	return call, nil
}

// callMedia is PostgREST's negotiateContent for a call: a function returning a media type domain is that media
// type's handler (with the default select), tried for each accepted type in order before the built-in ones;
// the "*/*" domain handles every type; application/vnd.pgrst.* types always go to the built-in handlers.
func callMedia(req *request.Request, fn *schemacache.Routine) (request.MediaType, error) {
	if fn.MediaType != "" && defaultSelect(req.Select) {
		for i, a := range req.AcceptList() {
			if a.Vendored && i == req.AcceptIndex {
				break
			}
			if fn.MediaType == "*/*" || a.Mime == fn.MediaType {
				return request.MediaCustom, nil
			}
			if i == req.AcceptIndex {
				break
			}
		}
	}
	if req.AcceptErr != nil && fn.ReturnsRelation == nil {
		return 0, req.AcceptErr // a relation's rows may still have an aggregate handler: ForRead decides
	}
	return req.Accept, nil
}

func defaultSelect(sel []request.SelectItem) bool {
	return len(sel) == 0 || len(sel) == 1 && sel[0].Star
}

// callBody reads a POST body's argument names: a JSON object's keys (columns= when given), or a form.
func callBody(req *request.Request) ([]byte, []string, error) {
	switch req.ContentType {
	case "application/x-www-form-urlencoded", "text/csv":
		p := req.Payload
		if p == nil {
			return nil, nil, apierr.New(http.StatusBadRequest, "PGRST102", "Empty or invalid json")
		}
		return p.JSON, slices.Clone(p.Keys), nil
	case "application/json":
	default:
		return req.Body, nil, nil // raw body for a single unnamed parameter
	}
	if req.Columns != nil {
		return req.Body, slices.Clone(req.Columns), nil
	}
	p := req.Payload
	if p == nil {
		return []byte("{}"), nil, nil
	}
	return p.JSON, slices.Clone(p.Keys), nil
}

// callableRoutines are the overloads of schema.name that /rpc may call (schemacache.Routine.Callable).
func callableRoutines(c *schemacache.Cache, schema, name string) []*schemacache.Routine {
	fns, _ := c.Routine(schema, name)
	if slices.ContainsFunc(fns, func(fn *schemacache.Routine) bool { return !fn.Callable() }) {
		fns = slices.DeleteFunc(slices.Clone(fns), func(fn *schemacache.Routine) bool { return !fn.Callable() })
	}
	return fns
}

type routineNotFound struct{ ambiguous []*schemacache.Routine }

func (routineNotFound) Error() string { return "routine not found" }

// findRoutine is PostgREST's findProc: an overload whose required parameters are all given and whose other
// given arguments are optional parameters; else a single unnamed parameter taking the raw body.
func findRoutine(fns []*schemacache.Routine, keys []string, contentType string, post bool) (*schemacache.Routine, bool, error) {
	var named, fallback []*schemacache.Routine
	for _, fn := range fns {
		switch {
		case matchesParams(fn, keys, contentType, post):
			named = append(named, fn)
		case singleUnnamed(fn, contentType, post):
			fallback = append(fallback, fn)
		}
	}
	switch {
	case len(named) == 1:
		return named[0], false, nil
	case len(named) > 1:
		return nil, false, routineNotFound{ambiguous: named}
	case len(fallback) == 1:
		return fallback[0], true, nil
	case len(fallback) > 1:
		return nil, false, routineNotFound{ambiguous: fallback}
	}
	return nil, false, routineNotFound{}
}

func matchesParams(fn *schemacache.Routine, keys []string, contentType string, post bool) bool {
	if contentType == anyRawBody {
		return false
	}
	if len(fn.Params) == 0 {
		return len(keys) == 0 && !(post && (contentType == "application/octet-stream" || contentType == "text/plain" || contentType == "text/xml"))
	}
	for _, p := range fn.Params {
		// An unnamed parameter cannot be given by name: a function that needs one is not called this way.
		if !p.HasDefault && (p.Name == "" || !slices.Contains(keys, p.Name)) {
			return false
		}
	}
	for _, k := range keys {
		if k == "" || !slices.ContainsFunc(fn.Params, func(p schemacache.RoutineParam) bool { return p.Name == k }) {
			return false
		}
	}
	return true
}

// anyRawBody stands for the content type of a {"": value} body: the value fits a single unnamed parameter of
// any of the raw types.
const anyRawBody = "\x00any"

// unnamedValue is the value of a {"": value} body, as JSON.
func unnamedValue(body []byte) ([]byte, bool) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(body, &obj); err != nil || len(obj) != 1 {
		return nil, false
	}
	v, ok := obj[""]
	return v, ok
}

// rawArgument is the single unnamed parameter's argument from a {"": value} body: the JSON value for json and
// jsonb, a JSON string's text for text, xml and bytea.
func rawArgument(p *schemacache.RoutineParam, v []byte) []byte {
	if p.Type == "json" || p.Type == "jsonb" {
		return v
	}
	var s string
	if json.Unmarshal(v, &s) == nil {
		return []byte(s)
	}
	return v
}

func singleUnnamed(fn *schemacache.Routine, contentType string, post bool) bool {
	if !post || len(fn.Params) != 1 || fn.Params[0].Name != "" {
		return false
	}
	switch fn.Params[0].Type {
	case "json", "jsonb":
		return contentType == "application/json" || contentType == anyRawBody
	case "text":
		return contentType == "text/plain" || contentType == anyRawBody
	case "xml":
		return contentType == "text/xml" || contentType == anyRawBody
	case "bytea":
		return contentType == "application/octet-stream" || contentType == anyRawBody
	}
	return false
}

// noRoutine renders PGRST202 (404) or PGRST203 (300) as PostgREST words them.
func noRoutine(err error, c *schemacache.Cache, schema string, req *request.Request, keys []string, post bool) error {
	var nf routineNotFound
	if e, ok := err.(routineNotFound); ok {
		nf = e
	}
	if len(nf.ambiguous) > 0 {
		var parts []string
		for _, fn := range nf.ambiguous {
			var ps []string
			for _, p := range fn.Params {
				ps = append(ps, p.Name+" => "+p.Type)
			}
			parts = append(parts, fn.Schema+"."+fn.Name+"("+strings.Join(ps, ", ")+")")
		}
		return apierr.New(http.StatusMultipleChoices, "PGRST203",
			"Could not choose the best candidate function between: "+strings.Join(parts, ", ")).
			WithHint("Try renaming the parameters or the function itself in the database so function overloading can be resolved")
	}
	fn := schema + "." + req.Relation
	onlySingle := post && (req.ContentType == "text/plain" || req.ContentType == "text/xml" || req.ContentType == "application/octet-stream")
	msg := "Could not find the function " + fn
	prms := " without parameters"
	if len(keys) > 0 {
		prms = "(" + strings.Join(keys, ", ") + ")"
	}
	if !onlySingle {
		msg += prms
	}
	msg += " in the schema cache"
	det := " without parameters"
	if len(keys) == 1 {
		det = " with parameter " + keys[0]
	} else if len(keys) > 1 {
		det = " with parameters " + strings.Join(keys, ", ")
	}
	switch {
	case post && req.ContentType == "text/plain":
		det = " with a single unnamed text parameter"
	case post && req.ContentType == "text/xml":
		det = " with a single unnamed xml parameter"
	case post && req.ContentType == "application/octet-stream":
		det = " with a single unnamed bytea parameter"
	case post && req.ContentType == "application/json":
		det += " or with a single unnamed json/jsonb parameter"
	}
	e := apierr.New(http.StatusNotFound, "PGRST202", msg).
		WithDetails(fmt.Sprintf("Searched for the function %s%s, but no matches were found in the schema cache.", fn, det))
	if !onlySingle {
		// Overloads callable by name (PostgREST leaves out those with unnamed parameters).
		fns := callableRoutines(c, schema, req.Relation)
		named := make([]*schemacache.Routine, 0, len(fns))
		for _, fn := range fns {
			if !slices.ContainsFunc(fn.Params, func(p schemacache.RoutineParam) bool { return p.Name == "" }) {
				named = append(named, fn)
			}
		}
		if len(named) > 0 {
			// The function exists with other parameters: suggest the closest parameter list, as PostgREST; only
			// to a caller who may execute it (the cache's Visibility), since the list names its parameters.
			if !c.RoutineVisible(schemacache.QName{Schema: schema, Name: req.Relation}) {
				return e
			}
			if params, ok := schemacache.ClosestParams(named, keys); ok {
				e.Hint = "Perhaps you meant to call the function " + schema + "." + req.Relation + params
			}
		} else if q, ok := c.ClosestRoutine(schema, req.Relation); ok {
			e.Hint = "Perhaps you meant to call the function " + q.Schema + "." + q.Name
		}
	}
	return e
}

// resultRelation describes a function's composite result as a relation named after the function.
func resultRelation(fn *schemacache.Routine) *schemacache.Relation {
	rel := &schemacache.Relation{Schema: fn.Schema, Name: fn.Name, Kind: schemacache.KindView}
	for i, c := range fn.Columns {
		rel.Columns = append(rel.Columns, &schemacache.Column{Name: c.Name, Position: i + 1, Type: c.Type,
			BaseType: c.Type, Nullable: true})
	}
	rel.Index()
	return rel
}

// queryArgs turns GET arguments into the JSON object the call unpacks: a repeated name is an array for a
// variadic or array parameter (?v=1&v=2), else its first value counts.
func queryArgs(params []request.Param, fn *schemacache.Routine) []byte {
	obj := []byte{'{'}
	done := map[string]bool{}
	for _, p := range params {
		if done[p.Name] {
			continue
		}
		done[p.Name] = true
		if len(obj) > 1 {
			obj = append(obj, ',')
		}
		obj = apierr.AppendJSONString(obj, p.Name)
		obj = append(obj, ':')
		isArray := false
		for _, fp := range fn.Params {
			if fp.Name == p.Name && (fp.Variadic || strings.HasSuffix(fp.Type, "[]")) {
				isArray = true
			}
		}
		var vals []string
		for _, q := range params {
			if q.Name == p.Name {
				vals = append(vals, q.Value)
			}
		}
		if !isArray || len(vals) == 1 && strings.HasPrefix(vals[0], "{") {
			obj = apierr.AppendJSONString(obj, vals[len(vals)-1]) // the last of repeated keys wins, as PostgREST
			continue
		}
		obj = append(obj, '[')
		for i, v := range vals {
			if i > 0 {
				obj = append(obj, ',')
			}
			obj = apierr.AppendJSONString(obj, v)
		}
		obj = append(obj, ']')
	}
	return append(obj, '}')
}
