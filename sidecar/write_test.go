package sidecar_test

import (
	"context"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/pgway/pgway/internal/config"
)

// writeCase is one write exchange followed by a look at the table: the request, the expected response and,
// when table is set, the JSON of `SELECT json_agg(t ORDER BY 1) FROM table t` afterwards.
type writeCase struct {
	name    string
	method  string
	path    string
	headers []string
	reqBody string
	status  int
	header  []string // "Name: value" pairs that must match exactly
	absent  []string // headers that must not be there
	body    string   // JSON compare when it starts with [ or {; exact otherwise; "-" for an empty body
	// contains lists substrings the body must contain.
	contains []string
	table    string // e.g. "api.tasks" or "api.tasks WHERE id > 3"
	rows     string // expected json_agg of the table's rows ordered by the first column ("null" for none)
}

func writeFixture(t testing.TB) string {
	t.Helper()
	b, err := os.ReadFile("testdata/write_fixture.sql")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func runWrites(t *testing.T, ts *testServer, cases []writeCase) {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), ts.DB.URL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	for _, tc := range cases {
		ok := t.Run(tc.name, func(t *testing.T) {
			res := ts.do(tc.method, tc.path, tc.headers, tc.reqBody)
			if tc.status != 0 && res.Status != tc.status {
				t.Fatalf("%s %s: status %d, want %d; body %s", tc.method, tc.path, res.Status, tc.status, res.Body)
			}
			for _, h := range tc.header {
				k, v, _ := strings.Cut(h, ":")
				if got := res.Header.Get(k); got != strings.TrimSpace(v) {
					t.Errorf("header %s = %q, want %q", k, got, strings.TrimSpace(v))
				}
			}
			for _, k := range tc.absent {
				if v, ok := res.Header[http2canon(k)]; ok {
					t.Errorf("header %s = %q, want none", k, v)
				}
			}
			for _, sub := range tc.contains {
				if !strings.Contains(res.Body, sub) {
					t.Errorf("body %s\ndoes not contain %q", res.Body, sub)
				}
			}
			switch tc.body {
			case "":
			case "-":
				if res.Body != "" {
					t.Errorf("body %q, want empty", res.Body)
				}
			default:
				assertBody(t, res.Body, tc.body)
			}
			if tc.table != "" {
				var got *string
				from, where, _ := strings.Cut(tc.table, " WHERE ")
				inner := "SELECT * FROM " + from
				if where != "" {
					inner += " WHERE " + where
				}
				sql := "SELECT json_agg(t)::text FROM (" + inner + " ORDER BY 1) t"
				if err := conn.QueryRow(context.Background(), sql).Scan(&got); err != nil {
					t.Fatal(err)
				}
				g := "null"
				if got != nil {
					g = *got
				}
				if tc.rows == "null" {
					if g != "null" {
						t.Fatalf("table %s: %s, want no rows", tc.table, g)
					}
					return
				}
				assertBody(t, g, tc.rows)
			}
		})
		if !ok {
			return // later steps depend on this one's effect
		}
	}
}

func http2canon(k string) string {
	parts := strings.Split(strings.ToLower(k), "-")
	for i, p := range parts {
		if p != "" {
			parts[i] = strings.ToUpper(p[:1]) + p[1:]
		}
	}
	return strings.Join(parts, "-")
}

const jsonCT = "Content-Type: application/json"

func TestInsert(t *testing.T) {
	ts := start(t, nil, fixture(t), writeFixture(t))
	runWrites(t, ts, []writeCase{
		{name: "single object, return minimal by default", method: "POST", path: "/clients",
			headers: []string{jsonCT}, reqBody: `{"id":3,"name":"Google"}`, status: 201, body: "-",
			header: []string{"Content-Range: */*"}, absent: []string{"Content-Type", "Location", "Preference-Applied"},
			table: "api.clients WHERE id = 3", rows: `[{"id":3,"name":"Google"}]`},
		{name: "return=minimal is applied", method: "POST", path: "/clients",
			headers: []string{jsonCT, "Prefer: return=minimal"}, reqBody: `{"id":4,"name":"IBM"}`, status: 201, body: "-",
			header: []string{"Preference-Applied: return=minimal"}, absent: []string{"Content-Type"}},
		{name: "headers-only gives Location", method: "POST", path: "/projects?select=name",
			headers: []string{jsonCT, "Prefer: return=headers-only"}, reqBody: `{"id":11,"name":"New Project","client_id":2}`,
			status: 201, body: "-",
			header: []string{"Location: /projects?id=eq.11", "Content-Range: */*", "Preference-Applied: return=headers-only"}},
		{name: "headers-only with a composite key", method: "POST", path: "/compound",
			headers: []string{jsonCT, "Prefer: return=headers-only"}, reqBody: `{"k1":3,"k2":"hello world","extra":null}`,
			status: 201, header: []string{"Location: /compound?k1=eq.3&k2=eq.hello+world"}},
		{name: "representation with select, alias and cast", method: "POST", path: "/tasks?select=id,label:title,done::text",
			headers: []string{jsonCT, "Prefer: return=representation"}, reqBody: `{"title":"write tests"}`, status: 201,
			body:   `[{"id":1,"label":"write tests","done":"false"}]`,
			header: []string{"Content-Type: application/json; charset=utf-8", "Preference-Applied: return=representation"},
			table:  "api.tasks", rows: `[{"id":1,"title":"write tests","done":false,"rank":10,"project":null}]`},
		{name: "bulk array in one statement, representation ordered", method: "POST", path: "/tasks?select=title,rank&order=title.desc",
			headers: []string{jsonCT, "Prefer: return=representation,count=exact"},
			reqBody: `[{"title":"a","rank":1},{"title":"b","rank":2},{"title":"c","rank":null}]`, status: 201,
			body:   `[{"title":"c","rank":null},{"title":"b","rank":2},{"title":"a","rank":1}]`,
			header: []string{"Content-Range: */3", "Preference-Applied: return=representation, count=exact"}},
		{name: "one bad row inserts nothing (check violation 23514)", method: "POST", path: "/tasks",
			headers: []string{jsonCT}, reqBody: `[{"title":"ok"},{"title":"this title is much too long to pass"}]`,
			status: 400, contains: []string{`"code":"23514"`},
			table: "api.tasks WHERE title = 'ok'", rows: "null"},
		{name: "not null 23502 is 400", method: "POST", path: "/tasks",
			headers: []string{jsonCT}, reqBody: `{"title":null}`, status: 400, contains: []string{`"code":"23502"`}},
		{name: "unique 23505 is 409", method: "POST", path: "/clients",
			headers: []string{jsonCT}, reqBody: `{"id":99,"name":"Apple"}`, status: 409, contains: []string{`"code":"23505"`}},
		{name: "foreign key 23503 is 409", method: "POST", path: "/projects",
			headers: []string{jsonCT}, reqBody: `{"id":50,"name":"x","client_id":999}`, status: 409, contains: []string{`"code":"23503"`}},
		{name: "invalid json is PGRST102", method: "POST", path: "/clients",
			headers: []string{jsonCT}, reqBody: `{"id":`, status: 400,
			body: `{"code":"PGRST102","message":"Empty or invalid json","details":null,"hint":null}`},
		{name: "non-uniform keys is PGRST102", method: "POST", path: "/clients",
			headers: []string{jsonCT}, reqBody: `[{"id":5,"name":"a"},{"id":6}]`, status: 400,
			body: `{"code":"PGRST102","message":"All object keys must match","details":null,"hint":null}`},
		{name: "unknown body key is PGRST204", method: "POST", path: "/clients",
			headers: []string{jsonCT}, reqBody: `{"id":5,"nope":1}`, status: 400,
			body: `{"code":"PGRST204","message":"Could not find the 'nope' column of 'clients' in the schema cache","details":null,"hint":null}`},
		{name: "columns= ignores extra keys, missing ones are null", method: "POST", path: "/tasks?columns=title,project&select=title,rank,project",
			headers: []string{jsonCT, "Prefer: return=representation"},
			reqBody: `[{"title":"x1","extra":true,"project":1},{"title":"x2"}]`, status: 201,
			body: `[{"title":"x1","rank":10,"project":1},{"title":"x2","rank":10,"project":null}]`},
		{name: "missing=default fills defaults", method: "POST", path: "/tasks?columns=title,rank,done&select=title,rank,done",
			headers: []string{jsonCT, "Prefer: return=representation, missing=default"},
			reqBody: `[{"title":"d1"},{"title":"d2","rank":3}]`, status: 201,
			body:   `[{"title":"d1","rank":10,"done":false},{"title":"d2","rank":3,"done":false}]`,
			header: []string{"Preference-Applied: missing=default, return=representation"}},
		{name: "csv body", method: "POST", path: "/clients?select=id,name",
			headers: []string{"Content-Type: text/csv", "Prefer: return=representation"},
			reqBody: "id,name\n20,\"Acme, Inc\"\n21,Initech\n", status: 201,
			body: `[{"id":20,"name":"Acme, Inc"},{"id":21,"name":"Initech"}]`},
		{name: "csv representation", method: "POST", path: "/clients?select=id,name",
			headers: []string{jsonCT, "Prefer: return=representation", "Accept: text/csv"},
			reqBody: `{"id":22,"name":"Hooli"}`, status: 201, body: "id,name\n22,Hooli",
			header: []string{"Content-Type: text/csv; charset=utf-8"}},
		{name: "form body", method: "POST", path: "/clients",
			headers: []string{"Content-Type: application/x-www-form-urlencoded", "Prefer: return=representation"},
			reqBody: "id=23&name=Pied+Piper", status: 201, body: `[{"id":23,"name":"Pied Piper"}]`},
		{name: "empty object inserts defaults", method: "POST", path: "/no_pk",
			headers: []string{jsonCT, "Prefer: return=representation"}, reqBody: `{}`, status: 201,
			body: `[{"a":null,"b":null}]`},
		{name: "empty array inserts nothing", method: "POST", path: "/no_pk",
			headers: []string{jsonCT, "Prefer: return=representation"}, reqBody: `[]`, status: 201, body: `[]`},
		{name: "no primary key: no Location", method: "POST", path: "/no_pk",
			headers: []string{jsonCT, "Prefer: return=headers-only"}, reqBody: `{"a":"1","b":"2"}`, status: 201,
			absent: []string{"Location"}},
		{name: "object media type with one row", method: "POST", path: "/clients",
			headers: []string{jsonCT, "Prefer: return=representation", "Accept: application/vnd.pgrst.object+json"},
			reqBody: `{"id":30,"name":"Solo"}`, status: 201, body: `{"id":30,"name":"Solo"}`},
		{name: "object media type with two rows is 406 and rolls back", method: "POST", path: "/clients",
			headers: []string{jsonCT, "Prefer: return=representation", "Accept: application/vnd.pgrst.object+json"},
			reqBody: `[{"id":31,"name":"Duo1"},{"id":32,"name":"Duo2"}]`, status: 406,
			body:  `{"code":"PGRST116","message":"Cannot coerce the result to a single JSON object","details":"The result contains 2 rows","hint":null}`,
			table: "api.clients WHERE id IN (31, 32)", rows: "null"},
		{name: "anon without INSERT grant is 401", method: "POST", path: "/readonly_things",
			headers: []string{jsonCT}, reqBody: `{"id":2,"v":"y"}`, status: 401, contains: []string{`"code":"42501"`}},
		{name: "authenticated without INSERT grant is 403", method: "POST", path: "/readonly_things",
			headers: []string{jsonCT, "Authorization: Bearer " + token(t, map[string]any{"role": "web_user"})},
			reqBody: `{"id":2,"v":"y"}`, status: 403, contains: []string{`"code":"42501"`}},
		{name: "Content-Profile picks the schema", method: "POST", path: "/gadgets",
			headers: []string{jsonCT, "Content-Profile: other"}, reqBody: `{"id":1,"label":"g"}`, status: 201,
			header: []string{"Content-Profile: other"}, table: "other.gadgets", rows: `[{"id":1,"label":"g"}]`},
		{name: "unknown Content-Profile is 406", method: "POST", path: "/gadgets",
			headers: []string{jsonCT, "Content-Profile: nope"}, reqBody: `{"id":1}`, status: 406,
			contains: []string{`"code":"PGRST106"`}},
		{name: "auto-updatable view", method: "POST", path: "/open_tasks?select=title,done",
			headers: []string{jsonCT, "Prefer: return=representation"}, reqBody: `{"title":"via view"}`, status: 201,
			body: `[{"title":"via view","done":false}]`},
		{name: "view with INSTEAD OF trigger", method: "POST", path: "/project_names",
			headers: []string{jsonCT}, reqBody: `{"id":40,"name":"Trigger","client":"Apple"}`, status: 201,
			table: "api.projects WHERE id = 40", rows: `[{"id":40,"name":"Trigger","client_id":2}]`},
		{name: "view that cannot be written: PostgreSQL's error", method: "POST", path: "/project_counts",
			headers: []string{jsonCT}, reqBody: `{"client_id":1,"n":1}`, status: 500, contains: []string{`"code":"55000"`}},
	})
}

func TestUpsert(t *testing.T) {
	ts := start(t, nil, fixture(t), writeFixture(t))
	runWrites(t, ts, []writeCase{
		{name: "merge-duplicates updates and inserts", method: "POST", path: "/clients",
			headers: []string{jsonCT, "Prefer: resolution=merge-duplicates, return=representation"},
			reqBody: `[{"id":1,"name":"Microsoft Corp"},{"id":3,"name":"Netflix"}]`, status: 201,
			body:   `[{"id":1,"name":"Microsoft Corp"},{"id":3,"name":"Netflix"}]`,
			header: []string{"Preference-Applied: resolution=merge-duplicates, return=representation"},
			table:  "api.clients", rows: `[{"id":1,"name":"Microsoft Corp"},{"id":2,"name":"Apple"},{"id":3,"name":"Netflix"}]`},
		{name: "merge-duplicates that only updates is 200", method: "POST", path: "/clients",
			headers: []string{jsonCT, "Prefer: resolution=merge-duplicates"},
			reqBody: `[{"id":1,"name":"MS"}]`, status: 200, table: "api.clients WHERE id = 1", rows: `[{"id":1,"name":"MS"}]`},
		{name: "ignore-duplicates", method: "POST", path: "/clients",
			headers: []string{jsonCT, "Prefer: resolution=ignore-duplicates, return=representation"},
			reqBody: `[{"id":2,"name":"Pear"},{"id":4,"name":"Amazon"}]`, status: 201, body: `[{"id":4,"name":"Amazon"}]`,
			table: "api.clients WHERE id IN (2, 4)", rows: `[{"id":2,"name":"Apple"},{"id":4,"name":"Amazon"}]`},
		{name: "on_conflict on a unique column", method: "POST", path: "/clients?on_conflict=name",
			headers: []string{jsonCT, "Prefer: resolution=merge-duplicates, return=representation"},
			reqBody: `{"id":6,"name":"Amazon"}`, status: 200, body: `[{"id":6,"name":"Amazon"}]`,
			table: "api.clients WHERE name = 'Amazon'", rows: `[{"id":6,"name":"Amazon"}]`},
		{name: "PUT inserts", method: "PUT", path: "/compound?k1=eq.9&k2=eq.z",
			headers: []string{jsonCT, "Prefer: return=representation"}, reqBody: `{"k1":9,"k2":"z","extra":"new"}`,
			status: 201, body: `[{"k1":9,"k2":"z","extra":"new"}]`},
		{name: "PUT replaces", method: "PUT", path: "/compound?k1=eq.9&k2=eq.z",
			headers: []string{jsonCT, "Prefer: return=representation"}, reqBody: `{"k1":9,"k2":"z","extra":"changed"}`,
			status: 200, body: `[{"k1":9,"k2":"z","extra":"changed"}]`},
		{name: "PUT minimal is 204", method: "PUT", path: "/compound?k1=eq.9&k2=eq.z",
			headers: []string{jsonCT}, reqBody: `{"k1":9,"k2":"z","extra":"again"}`, status: 204, body: "-",
			table: "api.compound WHERE k1 = 9", rows: `[{"k1":9,"k2":"z","extra":"again"}]`},
		{name: "PUT body must match the URL key", method: "PUT", path: "/compound?k1=eq.9&k2=eq.z",
			headers: []string{jsonCT}, reqBody: `{"k1":8,"k2":"z","extra":"bad"}`, status: 400,
			body:  `{"code":"PGRST115","message":"Payload values do not match URL in primary key column(s)","details":null,"hint":null}`,
			table: "api.compound WHERE k1 = 8", rows: "null"},
		{name: "PUT needs every key column with eq", method: "PUT", path: "/compound?k1=eq.9",
			headers: []string{jsonCT}, reqBody: `{"k1":9,"k2":"z"}`, status: 405,
			body: `{"code":"PGRST105","message":"Filters must include all and only primary key columns with 'eq' operators","details":null,"hint":null}`},
		{name: "PUT rejects limit", method: "PUT", path: "/compound?k1=eq.9&k2=eq.z&limit=1",
			headers: []string{jsonCT}, reqBody: `{"k1":9,"k2":"z"}`, status: 400, contains: []string{`"code":"PGRST114"`}},
	})
}

func TestUpdateDelete(t *testing.T) {
	ts := start(t, nil, fixture(t), writeFixture(t))
	runWrites(t, ts, []writeCase{
		{name: "patch minimal is 204 with Content-Range", method: "PATCH", path: "/projects?client_id=eq.1",
			headers: []string{jsonCT, "Prefer: count=exact"}, reqBody: `{"name":"Win"}`, status: 204, body: "-",
			header: []string{"Content-Range: 0-1/2", "Preference-Applied: count=exact"}, absent: []string{"Content-Type"},
			table: "api.projects WHERE client_id = 1", rows: `[{"id":1,"name":"Win","client_id":1},{"id":2,"name":"Win","client_id":1}]`},
		{name: "patch representation with or filter", method: "PATCH", path: "/projects?or=(id.eq.3,id.eq.4)&select=id,name&order=id",
			headers: []string{jsonCT, "Prefer: return=representation"}, reqBody: `{"name":"Mac"}`, status: 200,
			body: `[{"id":3,"name":"Mac"},{"id":4,"name":"Mac"}]`, header: []string{"Content-Range: 0-1/*"}},
		{name: "patch nothing matched", method: "PATCH", path: "/projects?id=eq.999",
			headers: []string{jsonCT, "Prefer: return=representation"}, reqBody: `{"name":"x"}`, status: 200, body: `[]`,
			header: []string{"Content-Range: */*"}},
		{name: "patch empty array is 204 with */*", method: "PATCH", path: "/projects?select=id",
			headers: []string{jsonCT}, reqBody: `[{}]`, status: 204, body: "-", header: []string{"Content-Range: */*"},
			absent: []string{"Content-Type"}},
		{name: "patch empty body changes nothing", method: "PATCH", path: "/projects?id=eq.1",
			headers: []string{jsonCT, "Prefer: return=representation"}, reqBody: `{}`, status: 200, body: `[]`},
		{name: "patch with limit and order", method: "PATCH", path: "/projects?order=id.desc&limit=1&client_id=eq.2",
			headers: []string{jsonCT, "Prefer: return=representation"}, reqBody: `{"name":"Last"}`, status: 200,
			body: `[{"id":4,"name":"Last","client_id":2}]`, table: "api.projects WHERE client_id = 2",
			rows: `[{"id":3,"name":"Mac","client_id":2},{"id":4,"name":"Last","client_id":2}]`},
		{name: "max-affected strict exceeded rolls back", method: "PATCH", path: "/projects?client_id=eq.1",
			headers: []string{jsonCT, "Prefer: max-affected=1, handling=strict"}, reqBody: `{"name":"Too many"}`, status: 400,
			body:  `{"code":"PGRST124","message":"Query result exceeds max-affected preference constraint","details":"The query affects 2 rows","hint":null}`,
			table: "api.projects WHERE name = 'Too many'", rows: "null"},
		{name: "max-affected within the limit", method: "PATCH", path: "/projects?id=eq.5",
			headers: []string{jsonCT, "Prefer: max-affected=1, handling=strict"}, reqBody: `{"name":"Fine"}`, status: 204,
			header: []string{"Preference-Applied: handling=strict, max-affected=1"}},
		{name: "tx=rollback is ignored with db-tx-end=commit", method: "PATCH", path: "/projects?id=eq.5",
			headers: []string{jsonCT, "Prefer: tx=rollback"}, reqBody: `{"name":"Kept"}`, status: 204,
			absent: []string{"Preference-Applied"}, table: "api.projects WHERE id = 5", rows: `[{"id":5,"name":"Kept","client_id":null}]`},
		{name: "unknown preference with handling=strict", method: "PATCH", path: "/projects?id=eq.5",
			headers: []string{jsonCT, "Prefer: handling=strict, nope=1"}, reqBody: `{"name":"x"}`, status: 400,
			contains: []string{`"code":"PGRST122"`}},
		{name: "unknown column in filter", method: "PATCH", path: "/projects?nope=eq.1",
			headers: []string{jsonCT}, reqBody: `{"name":"x"}`, status: 400, contains: []string{`"code":"42703"`}},
		{name: "patch through an auto-updatable view", method: "PATCH", path: "/open_tasks?title=eq.nothing",
			headers: []string{jsonCT}, reqBody: `{"done":true}`, status: 204},
		{name: "delete representation", method: "DELETE", path: "/projects?id=eq.5&select=id,name",
			headers: []string{"Prefer: return=representation, count=exact"}, status: 200,
			body: `[{"id":5,"name":"Kept"}]`, header: []string{"Content-Range: */1"},
			table: "api.projects WHERE id = 5", rows: "null"},
		{name: "delete minimal", method: "DELETE", path: "/projects?id=eq.4", status: 204, body: "-",
			table: "api.projects WHERE id = 4", rows: "null"},
		{name: "delete with limit", method: "DELETE", path: "/projects?client_id=eq.1&order=id&limit=1",
			headers: []string{"Prefer: return=representation"}, status: 200, body: `[{"id":1,"name":"Win","client_id":1}]`,
			table: "api.projects WHERE client_id = 1", rows: `[{"id":2,"name":"Win","client_id":1}]`},
		{name: "delete blocked by a foreign key is 409", method: "DELETE", path: "/clients?id=eq.1", status: 409,
			contains: []string{`"code":"23503"`}},
	})
}

func TestTxEndOverride(t *testing.T) {
	rpc, err := os.ReadFile("testdata/rpc_fixture.sql")
	if err != nil {
		t.Fatal(err)
	}
	ts := start(t, func(c *config.Config) { c.DBTxEnd = "commit-allow-override" }, fixture(t), writeFixture(t), string(rpc))
	runWrites(t, ts, []writeCase{
		{name: "reads report tx too", method: "GET", path: "/clients?select=id&id=eq.1", headers: []string{"Prefer: tx=rollback"},
			status: 200, body: `[{"id":1}]`, header: []string{"Preference-Applied: tx=rollback"}},
		{name: "a volatile call rolls back", method: "POST", path: "/rpc/new_client", headers: []string{jsonCT, "Prefer: tx=rollback"},
			reqBody: `{"id":80,"name":"Ghost call"}`, status: 200, body: `{"id":80,"name":"Ghost call"}`,
			header: []string{"Preference-Applied: tx=rollback"}, table: "api.clients WHERE id = 80", rows: "null"},
		{name: "errors report tx", method: "POST", path: "/clients", headers: []string{jsonCT, "Prefer: tx=rollback"},
			reqBody: `{"id":1,"name":"dup"}`, status: 409, header: []string{"Preference-Applied: tx=rollback"}},
		{name: "tx=rollback returns the representation and keeps nothing", method: "POST", path: "/clients",
			headers: []string{jsonCT, "Prefer: tx=rollback, return=representation"}, reqBody: `{"id":70,"name":"Ghost"}`,
			status: 201, body: `[{"id":70,"name":"Ghost"}]`,
			header: []string{"Preference-Applied: return=representation, tx=rollback"},
			table:  "api.clients WHERE id = 70", rows: "null"},
		{name: "tx=commit", method: "POST", path: "/clients",
			headers: []string{jsonCT, "Prefer: tx=commit"}, reqBody: `{"id":71,"name":"Real"}`, status: 201,
			header: []string{"Preference-Applied: tx=commit"}, table: "api.clients WHERE id = 71", rows: `[{"id":71,"name":"Real"}]`},
	})
}

func TestTxEndRollbackAll(t *testing.T) {
	ts := start(t, func(c *config.Config) { c.DBTxEnd = "rollback" }, fixture(t), writeFixture(t))
	runWrites(t, ts, []writeCase{
		{name: "every write rolls back", method: "DELETE", path: "/projects?id=eq.5", status: 204,
			table: "api.projects WHERE id = 5", rows: `[{"id":5,"name":"Orphan","client_id":null}]`},
	})
}

func TestBodyLimit(t *testing.T) {
	ts := start(t, func(c *config.Config) { c.MaxBodyBytes = 1024 }, fixture(t), writeFixture(t))
	runWrites(t, ts, []writeCase{
		{name: "too large", method: "POST", path: "/no_pk", headers: []string{jsonCT},
			reqBody: `[` + strings.Repeat(`{"a":"xxxxxxxxxx","b":"y"},`, 100) + `{"a":"z","b":"z"}]`, status: 413,
			contains: []string{`"code"`}, table: "api.no_pk", rows: "null"},
	})
}

// TestStreamedWrites runs writes whose bodies exceed server-stream-body-size: they are copied to PostgreSQL with
// COPY from the request buffer (no second copy) and behave exactly like bound ones.
func TestStreamedWrites(t *testing.T) {
	ts := start(t, func(c *config.Config) { c.StreamBodyBytes = 40 }, fixture(t), writeFixture(t))
	runWrites(t, ts, []writeCase{
		{name: "bulk insert with representation", method: "POST", path: "/tasks?select=title,rank&order=title",
			headers: []string{jsonCT, "Prefer: return=representation, count=exact"},
			reqBody: `[{"title":"streamed a","rank":1},{"title":"streamed b","rank":2}]`, status: 201,
			body: `[{"title":"streamed a","rank":1},{"title":"streamed b","rank":2}]`, header: []string{"Content-Range: */2"}},
		{name: "one bad row inserts nothing", method: "POST", path: "/tasks", headers: []string{jsonCT},
			reqBody: `[{"title":"fine one"},{"title":"this title is far too long for the check constraint"}]`, status: 400,
			contains: []string{`"code":"23514"`}, table: "api.tasks WHERE title = 'fine one'", rows: "null"},
		{name: "upsert with missing=default", method: "POST", path: "/clients?columns=id,name&select=id,name",
			headers: []string{jsonCT, "Prefer: return=representation, resolution=merge-duplicates, missing=default"},
			reqBody: `[{"id":1,"name":"Microsoft (streamed)"},{"id":60,"name":"Streamed new"}]`, status: 201,
			body: `[{"id":1,"name":"Microsoft (streamed)"},{"id":60,"name":"Streamed new"}]`},
		{name: "patch with max-affected exceeded rolls back", method: "PATCH", path: "/projects?client_id=eq.1",
			headers: []string{jsonCT, "Prefer: max-affected=1, handling=strict"}, reqBody: `{"name":"a name long enough to stream"}`,
			status: 400, contains: []string{`"code":"PGRST124"`},
			table: "api.projects WHERE client_id = 1", rows: `[{"id":1,"name":"Windows 7","client_id":1},{"id":2,"name":"Windows 10","client_id":1}]`},
		{name: "the connection is clean afterwards", method: "GET", path: "/projects?select=id&id=eq.1", status: 200, body: `[{"id":1}]`},
	})
	// A large body with the default threshold.
	big := start(t, nil, fixture(t), writeFixture(t))
	var sb strings.Builder
	sb.WriteString("[")
	for i := 0; i < 30000; i++ {
		if i > 0 {
			sb.WriteString(",")
		}
		sb.WriteString(`{"a":"row ` + strings.Repeat("x", 20) + `","b":"` + strconv.Itoa(i) + `"}`)
	}
	sb.WriteString("]")
	if sb.Len() < 1<<20 {
		t.Fatalf("test body only %d bytes", sb.Len())
	}
	runWrites(t, big, []writeCase{
		{name: "30000 rows, over 1 MiB, one request", method: "POST", path: "/no_pk", headers: []string{jsonCT, "Prefer: count=exact"},
			reqBody: sb.String(), status: 201, header: []string{"Content-Range: */30000"}},
	})
}

// edgeFixture holds tables for write cases found with PostgREST's own InsertSpec and UpsertSpec.
const edgeFixture = `
CREATE TABLE api.surr (id int GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, name text, extra text);
INSERT INTO api.surr (id, name, extra) VALUES (1, 'existing', 'existing value');
SELECT setval(pg_get_serial_sequence('api.surr', 'id'), 1);
GRANT SELECT, INSERT, UPDATE ON api.surr TO web_anon;
GRANT USAGE ON SEQUENCE api.surr_id_seq TO web_anon;
CREATE TABLE api.stars (article_id int, user_id int, created_at timestamptz DEFAULT now(), PRIMARY KEY (article_id, user_id));
GRANT SELECT (article_id, user_id), INSERT (article_id, user_id), UPDATE (article_id, user_id) ON api.stars TO web_anon;
CREATE FUNCTION api.label(api.clients) RETURNS text LANGUAGE sql STABLE AS $$ SELECT 'client ' || $1.name $$;
CREATE FUNCTION api.label(api.projects) RETURNS text LANGUAGE sql STABLE AS $$ SELECT 'project ' || $1.name $$;
`

func TestWriteEdgeCases(t *testing.T) {
	ts := start(t, nil, fixture(t), writeFixture(t), edgeFixture)
	runWrites(t, ts, []writeCase{
		{name: "an upsert of no rows is 200", method: "POST", path: "/clients",
			headers: []string{jsonCT, "Prefer: return=representation, resolution=merge-duplicates"}, reqBody: `[]`,
			status: 200, body: `[]`},
		{name: "missing=default fills an identity column", method: "POST", path: "/surr?columns=id,name&select=name,extra",
			headers: []string{jsonCT, "Prefer: return=representation, resolution=merge-duplicates, missing=default"},
			reqBody: `[{"id":1,"name":"updated"},{"name":"new"}]`, status: 201,
			body:  `[{"name":"updated","extra":"existing value"},{"name":"new","extra":null}]`,
			table: "api.surr WHERE id = 1", rows: `[{"id":1,"name":"updated","extra":"existing value"}]`},
		{name: "PUT checks its filters before its columns", method: "PUT", path: "/clients?nope=not.eq.1", headers: []string{jsonCT},
			reqBody: `{"id":1,"name":"x"}`, status: 405,
			body: `{"code":"PGRST105","message":"Filters must include all and only primary key columns with 'eq' operators","details":null,"hint":null}`},
		{name: "representation returns only the columns it needs (column privileges)", method: "POST",
			path: "/stars?select=article_id,user_id", headers: []string{jsonCT, "Prefer: return=representation"},
			reqBody: `{"article_id":2,"user_id":1}`, status: 201, body: `[{"article_id":2,"user_id":1}]`},
		{name: "an overloaded computed field on the written rows", method: "PATCH", path: "/clients?id=eq.1&select=id,label",
			headers: []string{jsonCT, "Prefer: return=representation"}, reqBody: `{"name":"Microsoft"}`, status: 200,
			body: `[{"id":1,"label":"client Microsoft"}]`},
		{name: "and still fails for a column the role may not read", method: "POST",
			path: "/stars?select=article_id,created_at", headers: []string{jsonCT, "Prefer: return=representation"},
			reqBody: `{"article_id":3,"user_id":1}`, status: 401, contains: []string{`"code":"42501"`}},
	})
}

func TestWritePlanDisabled(t *testing.T) {
	ts := start(t, func(c *config.Config) { c.DBPlanEnabled = false }, fixture(t), writeFixture(t))
	runWrites(t, ts, []writeCase{
		{name: "a plan of a write with plans disabled is 406 and writes nothing", method: "DELETE", path: "/clients?id=eq.2",
			headers: []string{"Accept: application/vnd.pgrst.plan"}, status: 406, contains: []string{`"code":"PGRST107"`},
			table: "api.clients WHERE id = 2", rows: `[{"id":2,"name":"Apple"}]`},
	})
}

// TestOversizedRequestsAnswered: a client still sending a header or body past the limits gets its 431 or 413
// every time, not a connection reset (the server lingers before closing instead of resetting unread data).
func TestOversizedRequestsAnswered(t *testing.T) {
	ts := start(t, func(c *config.Config) { c.MaxBodyBytes = 1024 }, fixture(t), writeFixture(t))
	body := `[` + strings.Repeat(`{"a":"xxxxxxxxxx","b":"y"},`, 20000) + `{"a":"z","b":"z"}]`
	for i := range 20 {
		if res := ts.do("GET", "/clients", []string{"Authorization: Bearer " + strings.Repeat("a", 200<<10)}, ""); res.Status != 431 ||
			!strings.Contains(res.Body, "PGRST431") {
			t.Fatalf("header %d: status %d, body %s", i, res.Status, res.Body)
		}
		if res := ts.do("POST", "/no_pk", []string{jsonCT}, body); res.Status != 413 || !strings.Contains(res.Body, "PGRST413") {
			t.Fatalf("body %d: status %d, body %s", i, res.Status, res.Body)
		}
	}
	if res := ts.do("GET", "/clients?select=id&limit=1", nil, ""); res.Status != 200 {
		t.Fatalf("after: status %d, body %s", res.Status, res.Body)
	}
}
