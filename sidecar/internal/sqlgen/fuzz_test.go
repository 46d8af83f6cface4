package sqlgen_test

import (
	"context"
	"errors"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/pgway/pgway/internal/hostile"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/pgway/pgway/sidecar/internal/plan"
	"github.com/pgway/pgway/sidecar/internal/request"
	"github.com/pgway/pgway/sidecar/internal/sqlgen"
)

// FuzzSQL runs parse → plan → SQL on the fixture schema for fuzzed query strings and bodies, and asks
// PostgreSQL's own parser about every statement it produces: exactly one statement, every relation and function
// from the schema cache or pgway's own list (checkProvenance, with libpg_query), and no syntax error or unknown
// relation when PostgreSQL plans it (EXPLAIN). The seeds put every hostile payload at every input point of the
// URL grammar and the body; `go test` runs them, `make fuzz` explores further.
func FuzzSQL(f *testing.F) {
	for _, s := range hostileSeeds(f) {
		f.Add(s.target, s.query, s.body)
	}
	f.Fuzz(func(t *testing.T, target uint8, query, body string) {
		fx := fixture(t)
		tg := targets[int(target)%len(targets)]
		in := request.Input{Method: tg.method, Path: tg.path, Query: query, Body: []byte(body),
			Prefer: "return=representation", ContentType: "application/json"}
		req, err := request.Parse(in)
		if err != nil {
			return
		}
		for _, st := range statements(t, fx, req) {
			checkProvenance(t, fx, st)
			fx.plan(t, st)
		}
	})
}

// targets are the requests FuzzSQL varies the query string and body of.
var targets = []struct{ method, path string }{
	{"GET", "/items"}, {"GET", "/books"}, {"GET", "/authors"}, {"POST", "/items"}, {"PATCH", "/books"},
	{"DELETE", "/items"}, {"PUT", "/items"}, {"GET", "/rpc/search_books"}, {"POST", "/rpc/add"}, {"POST", "/rpc/echo"},
	{"POST", "/authors"}, {"POST", "/books"},
}

// statements plans req on the fixture and builds its SQL (none when the planner refuses it).
func statements(t *testing.T, fx *fixtureDB, req *request.Request) []sqlgen.Statement {
	lim := plan.Limits{MaxRows: 100, MaxEmbedDepth: 8, MaxEmbeds: 32}
	switch req.Action {
	case request.ActionRead:
		rel, ok := fx.cache.Relation("api", req.Relation)
		if !ok {
			return nil
		}
		p, err := plan.ForRead(req, fx.cache, rel, lim)
		if err != nil {
			return nil
		}
		st := sqlgen.ForRead(p)
		out := []sqlgen.Statement{st.Main}
		if st.Estimate != nil {
			out = append(out, *st.Estimate)
		}
		return out
	case request.ActionInsert, request.ActionUpdate, request.ActionUpsert, request.ActionDelete:
		rel, ok := fx.cache.Relation("api", req.Relation)
		if !ok {
			return nil
		}
		m, err := plan.ForMutate(req, fx.cache, rel, false, lim)
		if err != nil || m.StreamBody {
			return nil
		}
		return []sqlgen.Statement{sqlgen.ForMutate(m).Main}
	case request.ActionCall:
		c, err := plan.ForCall(req, fx.cache, "api", lim)
		if err != nil {
			return nil
		}
		return []sqlgen.Statement{sqlgen.ForCall(c).Main}
	}
	return nil
}

// plan has PostgreSQL parse, analyze and plan st (EXPLAIN, in a rolled-back transaction). Errors about the
// values (a bad number, an unknown operator for a type) are the request's fault and fine; a syntax error, an
// unknown relation or parameter, or several statements mean SQL text escaped the builder.
func (f *fixtureDB) plan(t *testing.T, st sqlgen.Statement) {
	t.Helper()
	err := f.tryExplain(st)
	var pe *pgconn.PgError
	if err == nil || !errors.As(err, &pe) {
		if err != nil {
			t.Fatalf("EXPLAIN: %v\n%s", err, st.SQL)
		}
		return
	}
	switch pe.Code {
	case "42601", "42P01", "42P02", "42P10", "42701", "42702", "42712", "42725", "08P01", "XX000":
		t.Fatalf("PostgreSQL rejects the statement: %v\n%s\nargs: %s", err, st.SQL, argsString(st.Args))
	}
}

// tryExplain is explain returning PostgreSQL's error.
func (f *fixtureDB) tryExplain(st sqlgen.Statement) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	vals := make([][]byte, len(st.Args))
	for i, a := range st.Args {
		switch v := a.(type) {
		case string:
			vals[i] = []byte(v)
		case []byte:
			vals[i] = v
		case int64:
			vals[i] = strconv.AppendInt(nil, v, 10)
		}
	}
	pc := f.conn.PgConn()
	if _, err := pc.Exec(ctx, "BEGIN; SET LOCAL search_path = api, public; SET LOCAL statement_timeout = '5s'").ReadAll(); err != nil {
		return err
	}
	defer func() { _, _ = pc.Exec(ctx, "ROLLBACK").ReadAll() }()
	return pc.ExecParams(ctx, "EXPLAIN "+st.SQL, vals, nil, nil, nil).Read().Err
}

type seed struct {
	target uint8
	query  string
	body   string
}

// hostileSeeds puts each payload of ../../testdata/hostile/payloads.txt at every input point FuzzSQL varies.
func hostileSeeds(tb testing.TB) []seed {
	payloads := hostilePayloads(tb)
	enc := url.QueryEscape
	var out []seed
	add := func(target uint8, query, body string) { out = append(out, seed{target, query, body}) }
	for _, p := range payloads {
		e := enc(p)
		for _, q := range []string{
			"select=" + e, "select=id," + e, "select=" + e + ":id", "select=id::" + e, "select=price::" + e + ".sum()::" + e,
			"select=meta->" + e, "select=meta->>" + e, "select=meta->" + enc(`"`+p+`"`), "select=v:meta->arr->" + e,
			"id=eq." + e, "name=like." + e, "name=in.(" + e + ")", "name=in.(" + enc(`"`+p+`"`) + ")", "id=in.(1," + e + ")",
			"search=fts(" + e + ").a", "search=wfts." + e, "name=is." + e, "tags=cs.{" + e + "}", "meta->>" + e + "=eq.1",
			e + "=eq.1", "name=eq(any).{" + e + "}", "during=adj." + e, "name=imatch." + e,
			"or=(" + e + ")", "or=(id.eq." + e + ")", "and=(name.eq." + e + ",id.gt.1)", "not.or=(name.eq." + e + ")",
			"order=" + e, "order=" + e + ".desc", "order=name." + e, "order=meta->>" + e, "limit=" + e, "offset=" + e,
		} {
			add(0, q, "")
		}
		for _, q := range []string{
			"select=id," + e + "(id)", "select=id,authors!" + e + "(name)", "select=id,..." + e + "(name)",
			"select=title,authors!author_id(" + e + ")", "select=title,authors!author_id(name)&authors.name=eq." + e,
			"select=title,authors!author_id(name)&order=authors(" + e + ")", "select=id,book_tags(tag_id)&book_tags.order=" + e,
			"select=id,tags(id)&tags.limit=" + e, "select=id,title_upper," + e + ":title_upper", "select=" + e + ":authors!author_id(name)",
		} {
			add(1, q, "")
		}
		js := strconv.Quote(p)
		add(3, "", `{`+js+`:1}`)
		add(3, "", `{"id":1,"name":`+js+`}`)
		add(3, "columns="+e, `{"id":1}`)
		add(3, "on_conflict="+e, `[{"id":1}]`)
		add(3, "select="+e, `{"id":1}`)
		add(4, "id=eq."+e, `{"title":`+js+`}`)
		add(4, "limit=1&order="+e, `{"title":"x"}`)
		add(5, "name=eq."+e, "")
		add(6, "id=eq."+e, `{"id":`+js+`}`)
		add(7, "q="+e, "")
		add(7, e+"=1", "")
		add(7, "q=a&select="+e, "")
		add(8, "", `{"a":`+js+`,"b":1}`)
		add(8, "", `{`+js+`:1,"b":1}`)
		add(9, "", js)
		add(9, "", `{"":`+js+`}`)
		add(8, "", `{"":`+js+`}`)
		// Nested writes: the payload as a value, a key and a hint at every level, and in the representation.
		const books = `"books!books_author_id_fkey"`
		add(10, "", `{"id":1,"name":"a",`+books+`:[{"id":1,"title":`+js+`}]}`)
		add(10, "", `{"id":1,"name":"a",`+js+`:[{"id":1,"title":"t"}]}`)
		add(10, "", `{"id":1,"name":"a",`+strconv.Quote("books!"+p)+`:[{"id":1,"title":"t"}]}`)
		add(10, "", `{"id":1,"name":"a",`+books+`:[{"id":1,"title":"t",`+js+`:[{"id":1}]}]}`)
		add(10, "", `{"id":1,"name":"a",`+books+`:[{"id":1,"title":"t","tags":[{"id":1,"name":`+js+`}]}]}`)
		add(10, "", `[{"id":1,"name":"a",`+books+`:[{`+js+`:1}]}]`)
		add(10, "select=*,books!books_author_id_fkey("+e+")", `{"id":1,"name":"a",`+books+`:[{"id":1,"title":"t"}]}`)
		add(10, "select=name,books!books_author_id_fkey(title,tags(name))&books.tags.name=eq."+e,
			`{"id":1,"name":"a",`+books+`:[{"id":1,"title":"t","tags":[{"id":1,"name":"x"}]}]}`)
		add(11, "select=id,authors!books_author_id_fkey(name)", `{"id":1,"title":"t","authors!books_author_id_fkey":{"id":1,"name":`+js+`}}`)
		add(11, "", `{"id":1,"title":"t","author_id":null,"authors!books_author_id_fkey":{`+js+`:1}}`)
		add(11, "select=title,author_bios:authors!books_author_id_fkey(author_bios("+e+"))",
			`{"id":1,"title":"t","authors!books_author_id_fkey":{"id":1,"name":"n","author_bios":{"bio":`+js+`}}}`)
	}
	return out
}

// hostilePayloads reads the shared payload list (internal/hostile).
func hostilePayloads(tb testing.TB) []string {
	p, err := hostile.Payloads("../../testdata/hostile/payloads.txt")
	if err != nil {
		tb.Fatal(err)
	}
	return p
}
