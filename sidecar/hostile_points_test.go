package sidecar_test

import (
	"bytes"
	"encoding/json"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/golang-jwt/jwt/v5"
)

// The input points of TestHostile: one function per family, each putting one payload P at every point of its
// family. A point's name shows where P goes, so a failure reads as "filter name=like.P".

// hostileGen collects the jobs of one payload.
type hostileGen struct {
	t    testing.TB
	jobs []*hostileJob
	p    string // the payload
}

func (g *hostileGen) add(point, method, target string, headers []string, body string) *hostileJob {
	j := &hostileJob{point: point, payload: g.p, method: method, target: target, headers: headers, body: body}
	g.jobs = append(g.jobs, j)
	return j
}

func (g *hostileGen) get(point, target string, headers ...string) *hostileJob {
	return g.add(point, "GET", target, headers, "")
}

// json sends a JSON body.
func (g *hostileGen) json(point, method, target, body string, headers ...string) *hostileJob {
	return g.add(point, method, target, append([]string{"Content-Type: application/json"}, headers...), body)
}

// hostileJobs puts every payload at every input point, a role probe every 250 requests.
func hostileJobs(t testing.TB, payloads []string) []*hostileJob {
	families := []func(*hostileGen){
		pathPoints, selectPoints, embedPoints, filterPoints, logicPoints, orderPoints, rangePoints, preferPoints,
		acceptPoints, profilePoints, contentTypePoints, jsonBodyPoints, csvBodyPoints, formBodyPoints, rpcPoints,
		authPoints, headerPoints, batchPoints,
	}
	var jobs []*hostileJob
	for _, p := range payloads {
		g := &hostileGen{t: t, p: p}
		for _, f := range families {
			f(g)
		}
		jobs = append(jobs, g.jobs...)
	}
	g := &hostileGen{t: t}
	deepPoints(g)
	shapePoints(g)
	jobs = append(jobs, g.jobs...)
	var out []*hostileJob
	for i, j := range jobs {
		if i%250 == 0 {
			out = append(out, &hostileJob{point: "probe", probe: true, strict: i%500 == 0})
		}
		out = append(out, j)
	}
	return out
}

// qe encodes a query value; quoted wraps P in PostgREST's double quotes (unescaped: hostile as it is).
func qe(s string) string     { return url.QueryEscape(s) }
func quoted(s string) string { return `"` + s + `"` }

// js is P as a JSON string (invalid UTF-8 becomes U+FFFD).
func js(s string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	return strings.TrimSuffix(b.String(), "\n")
}

// rawOK tells whether P can go into a request line unencoded without breaking it.
func rawOK(s string) bool { return s != "" && !strings.ContainsAny(s, " \t\r\n\x00") }

// pathPoints: P as the relation, function or a path segment.
func pathPoints(g *hostileGen) {
	p, pe := g.p, url.PathEscape(g.p)
	g.get("path /P", "/"+pe)
	g.get("path /rpc/P", "/rpc/"+pe)
	g.get("path /items/P", "/items/"+pe)
	g.get("path /P?select=id", "/"+pe+"?select=id")
	g.json("path POST /P", "POST", "/"+pe, `{}`)
	g.json("path POST /rpc/P", "POST", "/rpc/"+pe, `{}`)
	g.add("path DELETE /P", "DELETE", "/"+pe, nil, "")
	g.add("path OPTIONS /P", "OPTIONS", "/"+pe, nil, "")
	g.add("path HEAD /rpc/P", "HEAD", "/rpc/"+pe, nil, "")
	g.get("path /docs/P", "/docs/"+pe)
	g.get("path /?openapi=P", "/?openapi="+qe(p))
	g.get("path / Accept: P", "/", "Accept: "+p)
	g.get("path / Accept-Profile: P", "/", "Accept-Profile: "+p)
	g.get("path /openapi.json?P", "/openapi.json?"+qe(p), "Accept-Profile: other")
	if rawOK(p) {
		g.get("path /P (raw)", "/"+p)
		g.get("path /rpc/P (raw)", "/rpc/"+p)
		if !strings.ContainsAny(p, "/?#") {
			g.add("method P (raw)", p, "/items", nil, "")
		}
	}
}

// selectPoints: P in select items, aliases, casts, aggregates and JSON paths.
func selectPoints(g *hostileGen) {
	p, e := g.p, qe(g.p)
	for _, pt := range []struct{ point, q string }{
		{"select=P", e},
		{"select=id,P", "id," + e},
		{"select=P:id", e + ":id"},
		{`select="P"`, qe(quoted(p))},
		{"select=id::P", "id::" + e},
		{"select=id::text::P", "id::text::" + e},
		{"select=P::text", e + "::text"},
		{"select=price.sum()::P", "price.sum()::" + e},
		{"select=price::P.sum()", "price::" + e + ".sum()"},
		{"select=price.P()", "price." + e + "()"},
		{"select=count()::P", "count()::" + e},
		{"select=P.count()", e + ".count()"},
		{"select=meta->P", "meta->" + e},
		{"select=meta->>P", "meta->>" + e},
		{`select=meta->"P"`, "meta->" + qe(quoted(p))},
		{`select=meta->>"P"::text`, "meta->>" + qe(quoted(p)) + "::text"},
		{"select=meta->arr->P", "meta->arr->" + e},
		{"select=P:meta->>P::P", e + ":meta->>" + e + "::" + e},
		{"select=tags->P", "tags->" + e},
		{"select=*,P", "*," + e},
	} {
		g.get("select "+pt.point, "/items?select="+pt.q)
	}
	g.add("select=P (HEAD)", "HEAD", "/items?select="+e, nil, "")
	g.get("select=P:id as CSV", "/items?select="+e+":id&limit=1", "Accept: text/csv")
	g.get("select=P:meta->>P as CSV", "/items?select="+e+":meta->>"+e+"&limit=1", "Accept: text/csv")
	g.get("select=id,P as a plan", "/items?select=id,"+e, "Accept: application/vnd.pgrst.plan+json")
	g.get("select=P:id as an object", "/items?select="+e+":id&id=eq.1", "Accept: application/vnd.pgrst.object+json")
	g.get("select=id,P (books)", "/books?select=id,"+e)
	g.get("select=P (books)", "/books?select="+e)
	g.get("select=P:whoami view", "/whoami?select="+e+":role")
	g.get("select=id,P as web_user", "/items?select=id,"+e).user = true
	g.get("select=P:id as web_user", "/items?select="+e+":id").user = true
	g.get("select=id::P as web_user", "/secrets?select=id::"+e).user = true
	if rawOK(p) {
		g.get("select=P (raw)", "/items?select="+p)
		g.get("select=id::P (raw)", "/items?select=id::"+p)
		g.get("select=meta->>P (raw)", "/items?select=meta->>"+p)
	}
}

// embedPoints: P as embedded resources, their hints, join types, aliases, filters, orders and limits.
func embedPoints(g *hostileGen) {
	e := qe(g.p)
	for _, pt := range []struct{ point, q string }{
		{"select=id,P(id)", "select=id," + e + "(id)"},
		{"select=id,P!inner(id)", "select=id," + e + "!inner(id)"},
		{"select=id,authors!P(name)", "select=id,authors!" + e + "(name)"},
		{"select=id,authors!author_id!P(name)", "select=id,authors!author_id!" + e + "(name)"},
		{"select=id,...P(name)", "select=id,..." + e + "(name)"},
		{"select=id,...authors!P(name)", "select=id,...authors!" + e + "(name)"},
		{"select=title,authors!author_id(P)", "select=title,authors!author_id(" + e + ")"},
		{"select=P:authors!author_id(name)", "select=" + e + ":authors!author_id(name)"},
		{"authors.name=eq.P", "select=title,authors!author_id(name)&authors.name=eq." + e},
		{"authors.P=eq.1", "select=title,authors!author_id(name)&authors." + e + "=eq.1"},
		{"P.name=eq.1", "select=title,authors!author_id(name)&" + e + ".name=eq.1"},
		{"order=authors(P)", "select=title,authors!author_id(name)&order=authors(" + e + ")"},
		{"order=authors(name).P", "select=title,authors!author_id(name)&order=authors(name)." + e},
		{"reviews.order=P", "select=id,reviews(stars)&reviews.order=" + e},
		{"reviews.limit=P", "select=id,reviews(stars)&reviews.limit=" + e},
		{"reviews.offset=P", "select=id,reviews(stars)&reviews.offset=" + e},
		{"reviews.or=(stars.eq.P)", "select=id,reviews(stars)&reviews.or=(stars.eq." + e + ")"},
		{"reviews.or=(P)", "select=id,reviews(stars)&reviews.or=(" + e + ")"},
		{"reviews=is.P", "select=id,reviews!inner(stars)&reviews=is." + e},
		{"select=id,P:title_upper", "select=id," + e + ":title_upper"},
		{"select=id,top_reviews(P)", "select=id,top_reviews(" + e + ")"},
		{"select=title,reviews(stars.sum()::P)", "select=title,reviews(stars.sum()::" + e + ")"},
		{"select=title,...reviews(stars.P())", "select=title,...reviews(stars." + e + "())"},
		{"select=id,book_tags(tags(P))", "select=id,book_tags(tags(" + e + "))"},
	} {
		g.get("embed "+pt.point, "/books?"+pt.q)
	}
	g.get("embed select=id,authors!P(name) as web_user", "/books?select=id,authors!"+e+"(name)").user = true
	g.get("embed select=id,P(word) from items", "/items?select=id,"+e+"(word)")
	g.get("embed from rpc select=id,authors!P(name)", "/rpc/books_since?y=1&select=id,authors!"+e+"(name)")
}

// filterPoints: P as every operator's argument (with not., any/all and fts languages), as the operator, the
// column and a JSON path.
func filterPoints(g *hostileGen) {
	p, e := g.p, qe(g.p)
	counts := []string{"Prefer: count=exact", "Prefer: count=planned", "Prefer: count=estimated"}
	var q []string
	for _, op := range []string{"eq", "neq", "gt", "gte", "lt", "lte", "isdistinct"} {
		q = append(q, "id="+op+".P", "name="+op+".P")
	}
	q = append(q,
		"price=gt.P", "created_at=gte.P", "mood=eq.P", "meta=eq.P", "during=eq.P",
		"name=like.P", "name=ilike.P", "name=match.P", "name=imatch.P",
		"name=like(any).{P}", "name=ilike(all).{P}", "name=eq(any).{P}", "name=match(any).{a,P}", "id=gt(any).{1,P}",
		"name=like(any).P",
		"id=in.(P)", "name=in.(P)", `name=in.("P")`, "name=in.P", "id=in.(1,P)",
		"mood=is.P", "name=is.P",
		"search=fts.P", "search=plfts.P", "search=phfts.P", "search=wfts.P", "name=fts.P",
		"search=fts(P).apple", "search=plfts(P).apple", "search=phfts(P).a", "search=wfts(P).apple",
		"tags=cs.{P}", "tags=cd.{P}", "tags=ov.{P}", "tags=cs.P", "tags=ov.(P)", "meta=cs.P", "meta=cd.P",
		"during=cs.P", "during=cd.P", "during=ov.P", "during=sl.P", "during=sr.P", "during=nxr.P", "during=nxl.P", "during=adj.P",
		"name=not.eq.P", "name=not.like(any).{P}", "id=not.in.(P)", "mood=not.is.P", "search=not.fts(P).x", "during=not.adj.P",
		"name=P", "name=P.x", "name=not.P.x", "name=eq(P).x", "name=P(any).{x}",
		"P=eq.1", `"P"=eq.1`, "meta->P=eq.1", "meta->>P=eq.x", `meta->"P"=eq.1`, `meta->>"P"=like.x`, "meta->P->>n=eq.1",
		"tags->P=eq.x", "meta->>lang=eq.P", "meta->n=gt.P", "meta->>P=fts.x",
	)
	for i, f := range q {
		col, val, _ := strings.Cut(f, "=")
		g.get("filter "+f, "/items?select=id&"+encodeWith(col, p)+"="+encodeWith(val, p), counts[i%len(counts)])
	}
	g.add("filter name=eq.P (HEAD)", "HEAD", "/items?name=eq."+e, []string{counts[0]}, "")
	g.get("filter name=eq.P as web_user", "/items?name=eq."+e).user = true
	g.get("filter id=in.(P) as web_user", "/items?id=in.("+e+")").user = true
	g.get("filter search=fts(P).x as web_user", "/items?search=fts("+e+").x").user = true
	g.get("filter RLS body=eq.P as web_user", "/notes?body=eq."+e).user = true
	g.get("filter view role=eq.P", "/whoami?role=eq."+e)
	g.get("filter other schema label=eq.P", "/widgets?label=like."+e, "Accept-Profile: other")
	g.get("filter scratch doc=cs.P", "/scratch?doc=cs."+e)
	g.get("filter scratch span=sl.P", "/scratch?span=sl."+e)
	for _, f := range []string{"id=eq.P", "id=in.(P)", "mood=eq.P", "created_at=gt.P", "during=adj.P", "tags=cs.{P}",
		"price=lt.P", "name=like.P", "meta->>n=eq.P", "P=eq.1"} {
		col, val, _ := strings.Cut(f, "=")
		g.get("filter "+f+" (strict)", "/items?"+encodeWith(col, g.p)+"="+encodeWith(val, g.p)).strict = true
	}
	if rawOK(p) {
		g.get("filter name=eq.P (raw)", "/items?name=eq."+p)
		g.get("filter id=in.(P) (raw)", "/items?id=in.("+p+")")
		g.get("filter P=eq.1 (raw)", "/items?"+p+"=eq.1")
	}
}

// logicPoints: P inside or/and trees, nested and negated.
func logicPoints(g *hostileGen) {
	for _, f := range []string{
		"or=(P)", "or=(id.eq.P)", `or=(name.eq."P")`, "or=(name.like.P,id.eq.1)", "and=(name.eq.P,id.gt.1)",
		"not.or=(name.eq.P)", "not.and=(P)", "or=(and(id.eq.1,name.eq.P),not.and(id.gt.P))", "or=(P.eq.1)",
		"or=(meta->>P.eq.1)", "or=(name.like(any).{P})", "or=(search.fts(P).x)", "or=P", "or=(id.eq.1,P)",
		"or=(name.in.(P))", "or=(not.P)", "or=(tags.cs.{P})", "and=(or(name.eq.P,and(id.eq.1,not.or(id.eq.P))))",
	} {
		col, val, _ := strings.Cut(f, "=")
		g.get("logic "+f, "/items?select=id&"+encodeWith(col, g.p)+"="+encodeWith(val, g.p))
	}
	g.get("logic or=(id.eq.P) as web_user", "/items?or=(id.eq."+qe(g.p)+")").user = true
}

// orderPoints: P as the ordered column, direction, nulls position and JSON path.
func orderPoints(g *hostileGen) {
	for _, o := range []string{"P", "P.desc", "name.P", "name.desc.P", "meta->>P", `meta->"P".asc`, "id,P",
		"P.nullsfirst", "name.asc.nullslast,P", "meta->P->>n.desc"} {
		g.get("order "+o, "/items?select=id&order="+encodeWith(o, g.p))
	}
	g.get("order on rpc P", "/rpc/pairs?order="+qe(g.p))
	if rawOK(g.p) {
		g.get("order P (raw)", "/items?order="+g.p)
	}
}

// rangePoints: P as limit, offset, Range and Range-Unit, on reads and writes.
func rangePoints(g *hostileGen) {
	p, e := g.p, qe(g.p)
	g.get("range limit=P", "/items?limit="+e)
	g.get("range offset=P", "/items?offset="+e)
	g.get("range limit=1&offset=P", "/items?limit=1&offset="+e)
	g.get("range Range: P", "/items", "Range: "+p)
	g.get("range Range: 0-P", "/items", "Range: 0-"+p)
	g.get("range Range: P-1", "/items", "Range: "+p+"-1")
	g.get("range Range-Unit: P", "/items", "Range: 0-1", "Range-Unit: "+p)
	g.get("range Range: P with count", "/items", "Range: "+p, "Prefer: count=exact")
	g.add("range PATCH limit=P", "PATCH", "/scratch?order=id&limit="+e, []string{"Content-Type: application/json"}, `{"n":2}`)
	g.add("range DELETE limit=1&order=P", "DELETE", "/scratch?limit=1&order="+e, nil, "")
	g.get("range rpc limit=P", "/rpc/series?n=3&limit="+e)
	g.get("range limit=P&offset=P (strict, db-max-rows)", "/items?limit="+e+"&offset="+e, "Prefer: count=estimated").strict = true
	g.get("range Range: 0-P (strict, db-max-rows)", "/items", "Range: 0-"+p, "Prefer: count=exact").strict = true
	g.get("range reviews.limit=P (strict, db-max-rows)", "/books?select=id,reviews(stars)&reviews.limit="+e).strict = true
}

// preferPoints: P in every preference, on a read, an insert and a call.
func preferPoints(g *hostileGen) {
	p := g.p
	prefs := []string{p, "return=" + p, "count=" + p, "resolution=" + p, "missing=" + p, "handling=" + p, "tx=" + p,
		"timezone=" + p, "max-affected=" + p, "params=" + p, p + "=1", "handling=strict, " + p, "count=exact, " + p,
		"timezone=" + p + ", handling=strict"}
	names := []string{"P", "return=P", "count=P", "resolution=P", "missing=P", "handling=P", "tx=P", "timezone=P",
		"max-affected=P", "params=P", "P=1", "handling=strict, P", "count=exact, P", "timezone=P, handling=strict"}
	for i, pr := range prefs {
		g.get("prefer "+names[i]+" (read)", "/items?select=id,created_at&limit=2", "Prefer: "+pr)
		g.json("prefer "+names[i]+" (insert)", "POST", "/scratch?select=id,at", `{"label":"x","at":"2024-01-01T00:00:00Z"}`,
			"Prefer: return=representation", "Prefer: "+pr)
	}
	g.json("prefer max-affected=P (patch)", "PATCH", "/scratch?id=eq.1", `{"n":2}`, "Prefer: handling=strict, max-affected="+p)
	g.json("prefer params=P (rpc)", "POST", "/rpc/add", `{"a":1,"b":2}`, "Prefer: params="+p)
	g.json("prefer P (rpc)", "POST", "/rpc/hello", `{"name":"x"}`, "Prefer: "+p)
	g.get("prefer timezone=P as web_user", "/items?select=created_at&limit=1", "Prefer: timezone="+p).user = true
}

// acceptPoints: P in Accept, including the plan and object media types' parameters.
func acceptPoints(g *hostileGen) {
	p := g.p
	for _, a := range []string{"P", "application/json; P", "P, text/csv", `application/vnd.pgrst.plan+json; for="P"`,
		"application/vnd.pgrst.plan+text; options=P", "application/vnd.pgrst.object+json; nulls=P", "P/P",
		`application/vnd.pgrst.plan; for="application/json"; options=analyze|P`, "text/P", "application/vnd.pgrst.P+json"} {
		g.get("accept "+a, "/items?select=id&limit=1", "Accept: "+strings.ReplaceAll(a, "P", p))
	}
	g.json("accept P (rpc)", "POST", "/rpc/hello", `{"name":"x"}`, "Accept: "+p)
	g.json("accept P (insert)", "POST", "/scratch", `{"label":"x"}`, "Accept: "+p, "Prefer: return=representation")
}

// profilePoints: P as the schema in Accept-Profile and Content-Profile.
func profilePoints(g *hostileGen) {
	p := g.p
	g.get("profile Accept-Profile: P", "/items?select=id", "Accept-Profile: "+p)
	g.get("profile Accept-Profile: P (other)", "/widgets", "Accept-Profile: "+p)
	g.get("profile Accept-Profile: other, P", "/widgets", "Accept-Profile: other, "+p)
	g.get("profile Accept-Profile: P (rpc)", "/rpc/hello?name=x", "Accept-Profile: "+p)
	g.json("profile Content-Profile: P", "POST", "/gadgets", `{"id":7,"label":"x"}`, "Content-Profile: "+p)
	g.json("profile Content-Profile: P (rpc)", "POST", "/rpc/hello", `{"name":"x"}`, "Content-Profile: "+p)
}

// contentTypePoints: P in Content-Type, for a table and a function.
func contentTypePoints(g *hostileGen) {
	p := g.p
	for _, ct := range []string{"P", "application/json; charset=P", "text/csv; P", "application/x-www-form-urlencoded; P",
		"P; charset=utf-8", "application/P"} {
		h := "Content-Type: " + strings.ReplaceAll(ct, "P", p)
		g.add("content-type "+ct, "POST", "/scratch", []string{h}, `{"label":"x"}`)
	}
	g.add("content-type P (rpc)", "POST", "/rpc/hello", []string{"Content-Type: " + p}, `{"name":"x"}`)
	g.add("content-type P (patch)", "PATCH", "/scratch?id=eq.1", []string{"Content-Type: " + p}, `{"n":2}`)
}

// jsonBodyPoints: P as JSON keys and values (objects, arrays, nested), raw inside a JSON document, and in the
// columns=, on_conflict= and select= of writes; padded variants take the streamed (COPY) path.
func jsonBodyPoints(g *hostileGen) {
	p, e, J := g.p, qe(g.p), js(g.p)
	bodies := []struct{ point, body string }{
		{`{"label":P}`, `{"label":` + J + `}`},
		{`{P:1}`, `{` + J + `:1}`},
		{`[{"label":P}]`, `[{"label":` + J + `}]`},
		{`[{"label":"a"},{P:1}]`, `[{"label":"a"},{` + J + `:1}]`},
		{`{"doc":{P:[P,{"k":P}]}}`, `{"label":"x","doc":{` + J + `:[` + J + `,{"k":` + J + `}]}}`},
		{`{"doc":P}`, `{"doc":` + J + `}`},
		{`{"tags":[P]}`, `{"tags":[` + J + `]}`},
		{`{"n":P}`, `{"n":` + J + `}`},
		{`{"at":P}`, `{"at":` + J + `}`},
		{`{"span":P}`, `{"span":` + J + `}`},
		{`{"label":P,"id":P}`, `{"label":` + J + `,"id":` + J + `}`},
		{`{"label":"P"} raw`, `{"label":"` + p + `"}`},
		{`{"P":1} raw`, `{"` + p + `":1}`},
		{`P raw body`, p},
		{`{"doc":P} raw`, `{"doc":` + p + `}`},
	}
	for _, b := range bodies {
		g.json("body POST "+b.point, "POST", "/scratch", b.body, "Prefer: return=representation")
	}
	for _, b := range bodies[:5] {
		g.json("body POST "+b.point+" (streamed)", "POST", "/scratch", b.body+strings.Repeat(" ", 2100))
	}
	g.json(`body PATCH {"label":P,"doc":{P:P}}`, "PATCH", "/scratch?id=eq.1", `{"label":`+J+`,"doc":{`+J+`:`+J+`}}`)
	g.json(`body PATCH {P:"x"}`, "PATCH", "/scratch?id=eq.1", `{`+J+`:"x"}`)
	g.json(`body PATCH {"n":P} (streamed)`, "PATCH", "/scratch?id=eq.1", `{"n":`+J+`}`+strings.Repeat(" ", 2100))
	g.json(`body PUT {"id":1,"label":P}`, "PUT", "/scratch?id=eq.1", `{"id":1,"label":`+J+`}`)
	g.json(`body PUT id=eq.P {"id":P}`, "PUT", "/scratch?id=eq."+e, `{"id":`+J+`,"label":"x"}`)
	g.json(`body PUT P=eq.1`, "PUT", "/scratch?"+e+"=eq.1", `{"id":1,"label":"x"}`)
	g.json(`body POST {"label":P} as a plan with analyze`, "POST", "/scratch", `{"label":`+J+`}`,
		"Accept: application/vnd.pgrst.plan+json; options=analyze|verbose")
	g.json(`body POST {"label":P} as an object`, "POST", "/scratch", `[{"label":`+J+`},{"label":"y"}]`,
		"Accept: application/vnd.pgrst.object+json", "Prefer: return=representation")
	g.json(`body POST on_conflict=P`, "POST", "/clients?on_conflict="+e, `[{"id":1,"name":"x"}]`, "Prefer: resolution=merge-duplicates")
	g.json(`body POST upsert {"name":P}`, "POST", "/clients?on_conflict=name", `{"id":1,"name":`+J+`}`,
		"Prefer: resolution=merge-duplicates, return=representation")
	g.json(`body POST upsert ignore {"id":P}`, "POST", "/clients", `{"id":`+J+`,"name":"x"}`, "Prefer: resolution=ignore-duplicates")
	g.json(`body POST columns=P`, "POST", "/scratch?columns="+e, `{"label":"x"}`)
	g.json(`body POST columns=label,P`, "POST", "/scratch?columns=label,"+e, `{"label":"x"}`)
	g.json(`body POST columns="P"`, "POST", "/scratch?columns="+qe(quoted(p)), `{"label":"x"}`)
	g.json(`body POST select=P`, "POST", "/scratch?select="+e, `{"label":"x"}`, "Prefer: return=representation")
	g.json(`body POST {"k2":P} Location`, "POST", "/compound", `{"k1":1000,"k2":`+J+`}`, "Prefer: return=headers-only")
	g.json(`body POST books select=id,authors!author_id(P)`, "POST", "/books?select=id,authors!author_id("+e+")",
		`{"id":100,"title":"x","author_id":1}`, "Prefer: return=representation")
	g.json(`body POST missing=default {P:1}`, "POST", "/tasks?columns=title,rank", `[{"title":"x"},{`+J+`:1}]`, "Prefer: missing=default")
	g.add(`body PATCH label=eq.P`, "PATCH", "/scratch?label=eq."+e, []string{"Content-Type: application/json"}, `{"n":2}`)
	g.add(`body DELETE label=eq.P`, "DELETE", "/scratch?label=eq."+e, nil, "")
	g.add(`body DELETE P=eq.1`, "DELETE", "/scratch?"+e+"=eq.1", nil, "")
	g.add(`body DELETE or=(label.eq.P)`, "DELETE", "/clients?or=(name.eq."+e+")", nil, "")
	g.json(`body POST other schema {"label":P}`, "POST", "/gadgets", `{"id":8,"label":`+J+`}`, "Content-Profile: other")
	g.json(`body POST view {"title":P}`, "POST", "/open_tasks", `{"title":`+J+`}`, "Prefer: return=representation")
	g.json(`body POST trigger view {"client":P}`, "POST", "/project_names", `{"id":99,"name":"x","client":`+J+`}`)
	g.json(`body POST no_pk {"a":P} (trigger header)`, "POST", "/no_pk", `{"a":`+J+`,"b":"x"}`)
	g.json(`body POST {"label":P} as web_user`, "POST", "/scratch", `{"label":`+J+`}`, "Prefer: return=representation").user = true
	g.json(`body PATCH {P:1} as web_user`, "PATCH", "/scratch?id=eq.1", `{`+J+`:1}`).user = true
	for _, b := range []struct{ point, body string }{bodies[0], bodies[1], bodies[4], bodies[7], bodies[8], bodies[9], bodies[6], bodies[11]} {
		g.json("body POST "+b.point+" (strict)", "POST", "/scratch", b.body).strict = true
	}
	g.json(`body PATCH id=eq.P {"n":P} (strict)`, "PATCH", "/scratch?id=eq."+e, `{"n":`+J+`}`).strict = true
	g.json(`body POST tasks {"title":P} (strict)`, "POST", "/tasks", `{"title":`+J+`}`).strict = true
}

// csvField quotes P as a CSV field.
func csvField(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// csvBodyPoints: P as CSV header names and values, quoted and raw.
func csvBodyPoints(g *hostileGen) {
	p := g.p
	csv := []string{"Content-Type: text/csv"}
	for _, b := range []struct{ point, body string }{
		{"label,n / P,1", "label,n\n" + csvField(p) + ",1"},
		{"P / x (header)", csvField(p) + "\nx"},
		{"label,P / x,1", "label," + csvField(p) + "\nx,1"},
		{"label / P raw", "label\n" + p},
		{"P / x raw header", p + "\nx"},
		{"tags / {P}", "tags\n" + csvField("{"+p+"}")},
	} {
		g.add("csv POST "+b.point, "POST", "/scratch", csv, b.body)
	}
	g.add("csv POST label / P as CSV", "POST", "/scratch?select=label", append(csv, "Prefer: return=representation", "Accept: text/csv"),
		"label\n"+csvField(p))
	g.add("csv PATCH label / P", "PATCH", "/scratch?id=eq.1", csv, "label\n"+csvField(p))
}

// formBodyPoints: P in form bodies, as keys and values, for tables and functions.
func formBodyPoints(g *hostileGen) {
	p, e := g.p, qe(g.p)
	form := []string{"Content-Type: application/x-www-form-urlencoded"}
	g.add("form POST label=P", "POST", "/scratch", form, "label="+e)
	g.add("form POST P=x", "POST", "/scratch", form, e+"=x")
	g.add("form rpc name=P", "POST", "/rpc/hello", form, "name="+e)
	g.add("form rpc P=x", "POST", "/rpc/hello", form, e+"=x")
	g.add("form rpc variadic v=P&v=P", "POST", "/rpc/joined", form, "v="+e+"&v="+e)
	g.add("form rpc a=P&b=1", "POST", "/rpc/add", form, "a="+e+"&b=1")
	g.add("form rpc name=P raw", "POST", "/rpc/hello", form, "name="+p)
}

// rpcPoints: P as function arguments (query and body), their names, and the select/filters of results.
func rpcPoints(g *hostileGen) {
	p, e, J := g.p, qe(g.p), js(g.p)
	for _, q := range []string{"hello?name=P", "add?a=P&b=1", "add?P=1&b=1", "add?a=1&b=1&P=1", "hello?name=x&select=P",
		"projects_of?client=1&name=eq.P", "projects_of?client=P", "pairs?k=eq.P", "pairs?select=P:k", "joined?v=P&v=b",
		"overloaded?a=P", "series?n=P", "divmod?a=7&b=P", "first_project?select=id,P(id)", "noop?P=1",
		"books_since?y=P&select=id", "projects_of?client=1&or=(name.eq.P)"} {
		g.get("rpc GET "+q, "/rpc/"+encodeRPC(q, p))
	}
	for _, b := range []struct{ fn, point, body string }{
		{"hello", `{"name":P}`, `{"name":` + J + `}`},
		{"hello", `{P:"x"}`, `{` + J + `:"x"}`},
		{"hello", `{"name":"P"} raw`, `{"name":"` + p + `"}`},
		{"add", `{"a":P,"b":1}`, `{"a":` + J + `,"b":1}`},
		{"echo_json", `P`, J},
		{"echo_json", `{P:[P]}`, `{` + J + `:[` + J + `]}`},
		{"echo_json", `P raw`, p},
		{"joined", `{"v":[P]}`, `{"v":[` + J + `,"b"]}`},
		{"overloaded", `{"a":P}`, `{"a":` + J + `}`},
		{"new_client", `{"id":9999,"name":P}`, `{"id":9999,"name":` + J + `}`},
		{"drop_counters", `{"above":P}`, `{"above":` + J + `}`},
		{"fail", `{"msg":P}`, `{"msg":` + J + `}`},
		{"divmod", `{"a":1,"b":P}`, `{"a":1,"b":` + J + `}`},
		{"pairs", `[{P:1}]`, `[{` + J + `:1}]`},
	} {
		g.json("rpc POST "+b.fn+" "+b.point, "POST", "/rpc/"+b.fn, b.body)
	}
	g.add("rpc POST echo_json text/plain P", "POST", "/rpc/echo_json", []string{"Content-Type: text/plain"}, p)
	g.add("rpc POST echo_json octet-stream P", "POST", "/rpc/echo_json", []string{"Content-Type: application/octet-stream"}, p)
	g.get("rpc GET projects_of?client=1&order=P with a count", "/rpc/projects_of?client=1&order="+e, "Prefer: count=exact")
	g.json(`rpc POST add params=single-object {"a":P}`, "POST", "/rpc/add", `{"a":`+J+`}`, "Prefer: params=single-object")
	g.json(`rpc POST projects_of?select=P`, "POST", "/rpc/projects_of?select="+e, `{"client":1}`)
	g.json(`rpc POST projects_of?name=eq.P`, "POST", "/rpc/projects_of?name=eq."+e, `{"client":1}`)
	g.add("rpc HEAD hello?name=P", "HEAD", "/rpc/hello?name="+e, nil, "")
	g.json(`rpc POST hello {"name":P} as web_user`, "POST", "/rpc/hello", `{"name":`+J+`}`).user = true
	g.get("rpc GET hello?name=P as web_user", "/rpc/hello?name="+e).user = true
	g.get("rpc GET add?a=P&b=1 (strict)", "/rpc/add?a="+e+"&b=1").strict = true
	g.json(`rpc POST add {"a":P,"b":1} (strict)`, "POST", "/rpc/add", `{"a":`+J+`,"b":1}`).strict = true
	g.json(`rpc POST hello {P:1} (strict)`, "POST", "/rpc/hello", `{`+J+`:1}`).strict = true
}

// encodeRPC encodes a "fn?query" template: the query with P replaced.
func encodeRPC(tmpl, p string) string {
	fn, q, _ := strings.Cut(tmpl, "?")
	var parts []string
	for _, kv := range strings.Split(q, "&") {
		k, v, _ := strings.Cut(kv, "=")
		parts = append(parts, encodeWith(k, p)+"="+encodeWith(v, p))
	}
	return fn + "?" + strings.Join(parts, "&")
}

// encodeWith query-encodes a template, with each P replaced by the payload p.
func encodeWith(tmpl, p string) string {
	ps := strings.Split(tmpl, "P")
	for i := range ps {
		ps[i] = qe(ps[i])
	}
	return strings.Join(ps, qe(p))
}

// authPoints: P in Authorization and in a signed JWT's role, sub, other claims and header.
func authPoints(g *hostileGen) {
	p := g.p
	g.get("auth Authorization: P", "/items?select=id&limit=1", "Authorization: "+p)
	g.get("auth Authorization: Bearer P", "/items?select=id&limit=1", "Authorization: Bearer "+p)
	g.get("auth Authorization: Basic P", "/items?select=id&limit=1", "Authorization: Basic "+p)
	valid := token(g.t, jwt.MapClaims{"role": "web_user"})
	g.get("auth Authorization: Bearer JWT+P", "/whoami?select=role", "Authorization: Bearer "+valid+p)
	bearer := func(claims jwt.MapClaims) string { return "Authorization: Bearer " + token(g.t, claims) }
	g.get("auth JWT role=P", "/canary", bearer(jwt.MapClaims{"role": p})).canary = p == "web_user"
	g.get("auth JWT role=P (whoami)", "/whoami", bearer(jwt.MapClaims{"role": p}))
	g.get("auth JWT sub=P (RLS)", "/notes", bearer(jwt.MapClaims{"role": "web_user", "sub": p}))
	g.get("auth JWT {P:P}", "/whoami", bearer(jwt.MapClaims{"role": "web_user", p: p}))
	g.get("auth JWT exp=P", "/whoami", bearer(jwt.MapClaims{"role": "web_user", "exp": p}))
	g.get("auth JWT aud=P", "/whoami", bearer(jwt.MapClaims{"role": "web_user", "aud": p}))
	g.get("auth JWT header kid=P", "/whoami", "Authorization: Bearer "+rawToken(g.t, `{"alg":"HS256","typ":"JWT","kid":`+js(p)+`}`, `{"role":"web_user"}`))
	g.get("auth JWT header alg=P", "/whoami", "Authorization: Bearer "+rawToken(g.t, `{"alg":`+js(p)+`}`, `{"role":"web_user"}`))
	g.get("auth JWT payload P raw", "/whoami", "Authorization: Bearer "+rawToken(g.t, `{"alg":"HS256"}`, p))
}

// headerPoints: P in headers pgway passes to PostgreSQL (request.headers, request.cookies) or echoes.
func headerPoints(g *hostileGen) {
	p := g.p
	g.get("header X-Trace: P (request.headers)", "/whoami", "X-Trace: "+p)
	g.get("header X-Request-Id: P (echoed)", "/items?select=id&limit=1", "X-Request-Id: "+p)
	g.get("header Cookie: a=P", "/whoami", "Cookie: a="+p)
	g.get("header Cookie: P=1", "/whoami", "Cookie: "+p+"=1")
	g.get("header X-Trace: P as web_user", "/whoami", "X-Trace: "+p).user = true
	if rawOK(p) && !strings.ContainsAny(p, ":") {
		g.get("header P: x (name)", "/whoami", "X-"+p+": x")
	}
}

// deepPoints: sizes and nestings no payload list has (recursion, large lists, long names).
func deepPoints(g *hostileGen) {
	rep := strings.Repeat
	g.p = "(deep)"
	g.get("deep or nesting 1000", "/items?or=("+rep("or(", 1000)+"id.eq.1"+rep(")", 1000)+")")
	g.get("deep not. x2000", "/items?name="+rep("not.", 2000)+"eq.x")
	g.get("deep embeds x300", "/books?select=id,"+rep("authors!author_id(id,books(id,", 150)+"id"+rep("))", 150))
	g.get("deep select 5000 columns", "/items?select="+strings.TrimSuffix(rep("id,", 5000), ","))
	g.get("deep select 3000 aliases", "/items?select="+strings.TrimSuffix(rep("a:id::text,", 3000), ","))
	in := make([]string, 10000)
	for i := range in {
		in[i] = strconv.Itoa(i)
	}
	g.get("deep in.(10000 values)", "/items?select=id&id=in.("+strings.Join(in, ",")+")")
	g.get("deep value 50000 chars", "/items?name=eq."+rep("a", 50000))
	g.get("deep alias 10000 chars", "/items?select="+rep("a", 10000)+":id")
	g.get("deep json path 1000 keys", "/items?select=meta"+rep("->a", 1000))
	g.get("deep order 2000 terms", "/items?order="+strings.TrimSuffix(rep("id.desc,", 2000), ","))
	g.get("deep headers 70000 bytes", "/items", "X-Big: "+rep("a", 70000))
	g.get("deep 2000 filters", "/items?"+strings.TrimSuffix(rep("id=gt.0&", 2000), "&"))
	g.json("deep body nested arrays 10000", "POST", "/scratch", `{"doc":`+rep("[", 10000)+rep("]", 10000)+`}`)
	g.json("deep body nested arrays 100000", "POST", "/scratch", `{"doc":`+rep("[", 100000)+rep("]", 100000)+`}`)
	g.json("deep body nested objects 10000", "POST", "/scratch", `{"doc":`+rep(`{"a":`, 10000)+"1"+rep("}", 10000)+`}`)
	g.json("deep rpc body nested 100000", "POST", "/rpc/echo_json", rep("[", 100000)+rep("]", 100000))
	keys := make([]string, 10000)
	for i := range keys {
		keys[i] = `"k` + strconv.Itoa(i) + `":1`
	}
	g.json("deep body 10000 keys", "POST", "/scratch", "{"+strings.Join(keys, ",")+"}")
	rows := rep(`{"label":"x"},`, 20000)
	g.json("deep body 20000 rows", "POST", "/scratch", "["+strings.TrimSuffix(rows, ",")+"]")
	g.add("deep csv 5000 columns", "POST", "/scratch", []string{"Content-Type: text/csv"}, strings.TrimSuffix(rep("label,", 5000), ",")+"\nx")
}

// shapePoints: bodies whose shape, not a payload, is hostile (duplicate keys, trailing data, BOMs, scalars,
// nulls, numbers out of range, empty ranges), on a table, a function and both validation modes.
func shapePoints(g *hostileGen) {
	g.p = "(shape)"
	json := []string{`{"label":"x","label":"y"}`, `{"label":"x"}}`, `{"label":"x"} {"label":"y"}`, `[1,2]`, `"str"`, `null`,
		`[]`, `[[]]`, `[null]`, `{}`, `[{}]`, "\xef\xbb\xbf{\"label\":\"x\"}", "{\"label\":\"x\"}\x00", `{"n":1e400}`, `{"n":-0}`,
		`{"n":1.5}`, `{"n":2147483648}`, `{"at":"infinity"}`, `{"at":"epoch"}`, `{"span":"[1,0)"}`, `{"span":"empty"}`,
		`{"tags":[[["a"]]]}`, `{"tags":"{a,b}"}`, `{"doc":"\u0000"}`, `{"label":"\u0000"}`, `{"label":"\ud800"}`,
		`[{"label":"x"},{"n":1}]`, `[{"label":"x"},1]`, `{"id":null,"label":"x"}`, "\xff\xfe{\x00}\x00", ` `, ``}
	for _, b := range json {
		g.json("shape POST "+b, "POST", "/scratch", b, "Prefer: return=representation")
		g.json("shape POST "+b+" (strict)", "POST", "/scratch", b).strict = true
		g.json("shape PATCH "+b, "PATCH", "/scratch?id=eq.1", b)
		g.json("shape rpc echo_json "+b, "POST", "/rpc/echo_json", b)
		g.json("shape rpc add single-object "+b, "POST", "/rpc/add", b, "Prefer: params=single-object")
		g.json("shape rpc hello "+b+" (strict)", "POST", "/rpc/hello", b).strict = true
	}
	csv := []string{"", "label", "label\n", "label\r\nx\r\n", "\xef\xbb\xbflabel\nx", "label,n\nx", "label\nx,1", `label` + "\n" + `"x`,
		"label,label\nx,y", ",\n,", "n\nnot a number", "tags\n{a,b}", "label\n\"\"\"\"", "\"\"\nx"}
	for _, b := range csv {
		g.add("shape CSV POST "+b, "POST", "/scratch", []string{"Content-Type: text/csv"}, b)
		g.add("shape CSV POST "+b+" (strict)", "POST", "/scratch", []string{"Content-Type: text/csv"}, b).strict = true
	}
}

// batch sends an atomic batch of the given operations (a JSON array's items).
func (g *hostileGen) batch(point string, ops ...string) *hostileJob {
	return g.add(point, "POST", "/", []string{"Content-Type: application/vnd.pgway.batch+json"},
		`{"operations": [`+strings.Join(ops, ", ")+`]}`)
}

// batchPoints: P in an atomic batch — in an operation's path, query, headers, body, method, in a reference's
// target and source, and as a value that references carry from one operation's result into another's filter,
// function argument and body (bound, never SQL). Writes are rolled back (the client's Prefer: tx=rollback is the
// batch's).
func batchPoints(g *hostileGen) {
	p, e, J := g.p, qe(g.p), js(g.p)
	insert := `{"method": "POST", "path": "/scratch?select=label,doc", "headers": {"Prefer": "return=representation"}, ` +
		`"body": {"label": ` + J + `, "doc": {"k": ` + J + `}}}`
	g.batch("batch ref P into a filter operand", insert,
		`{"method": "GET", "path": "/items?select=id&name=eq.", "refs": {"/query/name": "/0/body/0/label"}}`)
	g.batch("batch ref P into a not.like operand", insert,
		`{"method": "GET", "path": "/items?select=id&name=not.like.", "refs": {"/query/name": "/0/body/0/label"}}`)
	g.batch("batch ref P into an embedded filter", insert,
		`{"method": "GET", "path": "/items?select=id&meta->>lang=eq.", "refs": {"/query/meta->>lang": "/0/body/0/doc/k"}}`)
	g.batch("batch ref P into a function argument", insert,
		`{"method": "GET", "path": "/rpc/hello?name=", "refs": {"/query/name": "/0/body/0/label"}}`)
	g.batch("batch ref P into a body", insert,
		`{"method": "POST", "path": "/scratch", "body": {"n": 1}, "refs": {"/body/label": "/0/body/0/label", "/body/doc": "/0/body/0/doc"}}`)
	g.batch("batch ref P into an rpc body", insert,
		`{"method": "POST", "path": "/rpc/echo_json", "body": {}, "refs": {"/body/x": "/0/body/0"}}`)
	g.batch("batch ref target /query/P", insert,
		`{"method": "GET", "path": "/items?`+e+`=eq.", "refs": {"/query/`+strings.NewReplacer("~", "~0", "/", "~1").Replace(jsInner(p))+`": "/0/body/0/label"}}`)
	g.batch("batch ref target P", insert, `{"method": "GET", "path": "/items?id=eq.", "refs": {`+J+`: "/0/status"}}`)
	g.batch("batch ref source P", insert, `{"method": "GET", "path": "/items?id=eq.", "refs": {"/query/id": `+J+`}}`)
	g.batch("batch ref source /0/body/P", insert, `{"method": "GET", "path": "/items?name=eq.", "refs": {"/query/name": "/0/body/`+jsInner(p)+`"}}`)
	g.batch("batch path /P", `{"method": "GET", "path": `+js("/"+p)+`}`)
	g.batch("batch path /items?select=P", `{"method": "GET", "path": `+js("/items?select="+e)+`}`)
	g.batch("batch path /items?name=eq.P", `{"method": "GET", "path": `+js("/items?name=eq."+e)+`}`)
	g.batch("batch path /rpc/hello?name=P", `{"method": "GET", "path": `+js("/rpc/hello?name="+e)+`}`)
	g.batch("batch method P", `{"method": `+J+`, "path": "/items"}`)
	g.batch("batch header Prefer: P", `{"method": "POST", "path": "/scratch", "headers": {"Prefer": `+J+`}, "body": {"label": "x"}}`)
	g.batch("batch header Accept: P", `{"method": "GET", "path": "/items", "headers": {"Accept": `+J+`}}`)
	g.batch("batch header Accept-Profile: P", `{"method": "GET", "path": "/items", "headers": {"Accept-Profile": `+J+`}}`)
	g.batch("batch header P: x", `{"method": "GET", "path": "/items", "headers": {`+J+`: "x"}}`)
	g.batch("batch body {label: P}", `{"method": "POST", "path": "/scratch", "body": {"label": `+J+`}}`)
	g.batch("batch body {P: 1}", `{"method": "POST", "path": "/scratch", "body": {`+J+`: 1}}`)
	g.batch("batch CSV body P", `{"method": "POST", "path": "/scratch", "headers": {"Content-Type": "text/csv"}, "body": `+js("label\n"+p)+`}`)
	g.add("batch raw body P", "POST", "/", []string{"Content-Type: application/vnd.pgway.batch+json"}, p)
	g.add("batch Prefer: P", "POST", "/", []string{"Content-Type: application/vnd.pgway.batch+json", "Prefer: " + strings.NewReplacer("\r", "", "\n", "").Replace(p)},
		`{"operations": [{"method": "GET", "path": "/items?select=id"}]}`)
	g.batch("batch ref P as web_user", insert,
		`{"method": "GET", "path": "/canary?select=id&word=eq.", "refs": {"/query/word": "/0/body/0/label"}}`).user = true
	g.batch("batch ref P (strict)", insert,
		`{"method": "GET", "path": "/items?select=id&id=eq.", "refs": {"/query/id": "/0/body/0/label"}}`).strict = true
}

// jsInner is P as the inside of a JSON string (no quotes).
func jsInner(s string) string { return strings.TrimSuffix(strings.TrimPrefix(js(s), `"`), `"`) }
