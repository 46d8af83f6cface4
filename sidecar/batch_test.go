package sidecar_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/golang-jwt/jwt/v5"
	"github.com/jackc/pgx/v5"

	"github.com/pgway/pgway/internal/config"
)

// batchFixture is the schema of the atomic batch tests: authors and their books, a diary under row-level
// security, and functions to call.
const batchFixture = `
CREATE TABLE api.b_authors (id serial PRIMARY KEY, name text NOT NULL UNIQUE);
CREATE TABLE api.b_books (
  id serial PRIMARY KEY,
  author_id int NOT NULL REFERENCES api.b_authors,
  title text NOT NULL CHECK (title <> ''),
  year int
);
INSERT INTO api.b_authors (name) VALUES ('Ursula');
INSERT INTO api.b_books (author_id, title, year) VALUES (1, 'Earthsea', 1968);
GRANT SELECT, INSERT, UPDATE, DELETE ON api.b_authors, api.b_books TO web_anon, web_user;
GRANT USAGE ON SEQUENCE api.b_authors_id_seq, api.b_books_id_seq TO web_anon, web_user;

CREATE TABLE api.b_diary (id serial PRIMARY KEY, owner text NOT NULL, entry text NOT NULL);
ALTER TABLE api.b_diary ENABLE ROW LEVEL SECURITY;
CREATE POLICY mine ON api.b_diary
  USING (owner = current_setting('request.jwt.claims', true)::json->>'sub')
  WITH CHECK (owner = current_setting('request.jwt.claims', true)::json->>'sub');
GRANT SELECT, INSERT ON api.b_diary TO web_user;
GRANT USAGE ON SEQUENCE api.b_diary_id_seq TO web_user;

CREATE FUNCTION api.b_count_books(author int) RETURNS int STABLE LANGUAGE sql
  AS $$ SELECT count(*)::int FROM api.b_books WHERE author_id = author $$;
CREATE FUNCTION api.b_add_book(author int, title text) RETURNS api.b_books LANGUAGE sql
  AS $$ INSERT INTO api.b_books (author_id, title) VALUES (author, title) RETURNING * $$;
-- What an operation's transaction sees of its request.
CREATE FUNCTION api.b_request() RETURNS json STABLE LANGUAGE sql AS $$
  SELECT json_build_object('method', current_setting('request.method'), 'path', current_setting('request.path'),
    'accept', current_setting('request.headers')::json->>'accept', 'x_trace', current_setting('request.headers')::json->>'x-trace',
    'content_type', current_setting('request.headers')::json->>'content-type',
    'role', current_user, 'sub', current_setting('request.jwt.claims', true)::json->>'sub',
    'headers_guc', current_setting('response.headers', true))
$$;
-- Leaves a response header, as functions do.
CREATE FUNCTION api.b_header(v text) RETURNS int LANGUAGE plpgsql AS $$
BEGIN PERFORM set_config('response.headers', json_build_array(json_build_object('X-B', v))::text, true); RETURN 1; END $$;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA api TO web_anon, web_user;
`

// batchResult is one operation's answer in a batch's response.
type batchResult struct {
	Status   int               `json:"status"`
	Headers  map[string]string `json:"headers"`
	Body     json.RawMessage   `json:"body"`
	Encoding string            `json:"encoding"`
}

type batchResponse struct {
	Results []batchResult `json:"results"`
	// The error object of a failed batch.
	Code      string `json:"code"`
	Message   string `json:"message"`
	Details   any    `json:"details"`
	Operation *int   `json:"operation"`
}

// batch sends a batch (ops is the JSON array of operations) and decodes the answer.
func (ts *testServer) batch(t *testing.T, ops string, headers ...string) (response, batchResponse) {
	t.Helper()
	res := ts.do("POST", "/", append([]string{"Content-Type: application/vnd.pgway.batch+json"}, headers...),
		`{"operations": `+ops+`}`)
	var out batchResponse
	if err := json.Unmarshal([]byte(res.Body), &out); err != nil {
		t.Fatalf("batch answer %d is not JSON: %v\n%s", res.Status, err, res.Body)
	}
	return res, out
}

// compact is a JSON text without insignificant white space.
func compact(b []byte) string {
	var out bytes.Buffer
	if json.Compact(&out, b) != nil {
		return string(b)
	}
	return out.String()
}

// dbQuery runs sql as the superuser and returns its rows' first column as text, joined by "|".
func dbQuery(t *testing.T, url, sql string) string {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, sql)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for rows.Next() {
		var s *string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		if s == nil {
			out = append(out, "<null>")
		} else {
			out = append(out, *s)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return strings.Join(out, "|")
}

const booksState = `SELECT string_agg(b.id || ':' || a.name || ':' || b.title || ':' || coalesce(b.year::text, '-'), ',' ORDER BY b.id) FROM api.b_books b JOIN api.b_authors a ON a.id = b.author_id`

func startBatch(t *testing.T, edit func(*config.Config)) *testServer {
	t.Helper()
	return start(t, edit, fixture(t), batchFixture)
}

// TestBatchMixed: reads, inserts, updates, upserts, deletes and calls in one batch, each answered as if sent
// alone (status, Content-Range, Location, Preference-Applied, body), all committed.
func TestBatchMixed(t *testing.T) {
	ts := startBatch(t, nil)
	res, out := ts.batch(t, `[
	  {"method": "GET", "path": "/b_books?select=title,year&order=id", "headers": {"Prefer": "count=exact"}},
	  {"method": "POST", "path": "/b_books?select=id,title", "headers": {"Prefer": "return=representation"},
	   "body": [{"author_id": 1, "title": "The Dispossessed", "year": 1974}, {"author_id": 1, "title": "Lavinia", "year": null}]},
	  {"method": "PATCH", "path": "/b_books?title=eq.Lavinia", "body": {"year": 2008}},
	  {"method": "PUT", "path": "/b_authors?id=eq.7", "headers": {"Prefer": "return=headers-only"}, "body": {"id": 7, "name": "Le Guin"}},
	  {"method": "DELETE", "path": "/b_authors?id=eq.7"},
	  {"method": "POST", "path": "/rpc/b_add_book", "body": {"author": 1, "title": "Tehanu"}},
	  {"method": "GET", "path": "/rpc/b_count_books?author=1"},
	  {"method": "GET", "path": "/b_books?select=title&id=eq.1", "headers": {"Accept": "text/csv"}},
	  {"method": "HEAD", "path": "/b_books", "headers": {"Prefer": "count=exact"}},
	  {"method": "POST", "path": "/b_authors", "headers": {"Prefer": "return=minimal", "Content-Type": "text/csv"}, "body": "name\nLe Guin"}
	]`)
	if res.Status != 200 {
		t.Fatalf("status %d: %s", res.Status, res.Body)
	}
	if ct := res.Header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}
	want := []struct {
		status  int
		headers map[string]string
		body    string // "" for none
	}{
		{200, map[string]string{"Content-Range": "0-0/1", "Preference-Applied": "count=exact"}, `[{"title":"Earthsea","year":1968}]`},
		{201, map[string]string{"Content-Range": "*/*", "Preference-Applied": "return=representation"}, `[{"id":2,"title":"The Dispossessed"},{"id":3,"title":"Lavinia"}]`},
		{204, map[string]string{"Content-Range": "0-0/*"}, ""},
		{204, map[string]string{"Preference-Applied": "return=headers-only"}, ""},
		{204, map[string]string{"Content-Range": "*/*"}, ""},
		{200, nil, `{"id":4,"author_id":1,"title":"Tehanu","year":null}`},
		{200, nil, `4`},
		{200, map[string]string{"Content-Type": "text/csv; charset=utf-8"}, `"title\nEarthsea"`},
		{200, map[string]string{"Content-Range": "0-3/4"}, ""},
		{201, map[string]string{"Preference-Applied": "return=minimal"}, ""},
	}
	if len(out.Results) != len(want) {
		t.Fatalf("%d results, want %d: %s", len(out.Results), len(want), res.Body)
	}
	for i, w := range want {
		got := out.Results[i]
		if got.Status != w.status {
			t.Errorf("operation %d: status %d, want %d", i, got.Status, w.status)
		}
		for k, v := range w.headers {
			if got.Headers[k] != v {
				t.Errorf("operation %d: header %s = %q, want %q (headers %v)", i, k, got.Headers[k], v, got.Headers)
			}
		}
		if compact(got.Body) != w.body {
			t.Errorf("operation %d: body %s, want %s", i, got.Body, w.body)
		}
	}
	if got := dbQuery(t, ts.DB.URL, booksState); got != "1:Ursula:Earthsea:1968,2:Ursula:The Dispossessed:1974,3:Ursula:Lavinia:2008,4:Ursula:Tehanu:-" {
		t.Errorf("books after the batch: %s", got)
	}
	if got := dbQuery(t, ts.DB.URL, `SELECT string_agg(name, ',' ORDER BY id) FROM api.b_authors`); got != "Ursula,Le Guin" {
		t.Errorf("authors after the batch: %s", got)
	}
}

// TestBatchFailureRollsBack: the first failure (here the third operation) rolls every operation back and is
// answered with its own status and PostgREST's error object naming the operation.
func TestBatchFailureRollsBack(t *testing.T) {
	ts := startBatch(t, nil)
	before := dbQuery(t, ts.DB.URL, booksState)
	cases := []struct {
		name, ops string
		status    int
		code      string
		op        int
	}{
		{"check violation", `[
		  {"method": "POST", "path": "/b_authors", "body": {"name": "Le Guin"}},
		  {"method": "POST", "path": "/b_books", "body": {"author_id": 1, "title": "Lavinia"}},
		  {"method": "POST", "path": "/b_books", "body": {"author_id": 1, "title": ""}},
		  {"method": "GET", "path": "/b_books"}]`, 400, "23514", 2},
		{"unique violation", `[
		  {"method": "PATCH", "path": "/b_books?id=eq.1", "body": {"title": "A Wizard of Earthsea"}},
		  {"method": "POST", "path": "/b_authors", "body": {"name": "Le Guin"}},
		  {"method": "POST", "path": "/b_authors", "body": {"name": "Ursula"}}]`, 409, "23505", 2},
		{"singular read after writes", `[
		  {"method": "DELETE", "path": "/b_books?id=eq.1"},
		  {"method": "POST", "path": "/b_authors", "body": {"name": "Le Guin"}},
		  {"method": "GET", "path": "/b_books?id=eq.1", "headers": {"Accept": "application/vnd.pgrst.object+json"}}]`, 406, "PGRST116", 2},
		{"unknown relation", `[
		  {"method": "DELETE", "path": "/b_books?id=eq.1"},
		  {"method": "POST", "path": "/b_authors", "body": {"name": "Le Guin"}},
		  {"method": "GET", "path": "/nope"}]`, 404, "PGRST205", 2},
		{"max-affected", `[
		  {"method": "POST", "path": "/b_authors", "body": {"name": "Le Guin"}},
		  {"method": "POST", "path": "/b_books", "body": {"author_id": 1, "title": "Lavinia"}},
		  {"method": "DELETE", "path": "/b_books?author_id=eq.1", "headers": {"Prefer": "handling=strict, max-affected=1"}}]`, 400, "PGRST124", 2},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res, out := ts.batch(t, tc.ops)
			if res.Status != tc.status || out.Code != tc.code || out.Operation == nil || *out.Operation != tc.op {
				t.Fatalf("status %d %s, want %d %s at operation %d", res.Status, res.Body, tc.status, tc.code, tc.op)
			}
			if out.Results != nil || out.Message == "" {
				t.Errorf("not an error object: %s", res.Body)
			}
			if got := dbQuery(t, ts.DB.URL, booksState); got != before {
				t.Errorf("books changed: %s, was %s", got, before)
			}
			if got := dbQuery(t, ts.DB.URL, `SELECT string_agg(name, ',') FROM api.b_authors`); got != "Ursula" {
				t.Errorf("authors changed: %s", got)
			}
		})
	}
	// The pool's connections are clean: a batch right after works.
	if res, _ := ts.batch(t, `[{"method": "GET", "path": "/b_books?select=id"}]`); res.Status != 200 {
		t.Fatalf("a batch after the failures: %d %s", res.Status, res.Body)
	}
}

// TestBatchReferences: later operations use values returned by earlier ones (a parent's key in its child's
// body, in a filter, in a function's argument), bound as values whatever they hold.
func TestBatchReferences(t *testing.T) {
	ts := startBatch(t, nil)
	hostile := `Robert'); DROP TABLE api.b_books; --`
	res, out := ts.batch(t, `[
	  {"method": "POST", "path": "/b_authors?select=id,name", "headers": {"Prefer": "return=representation"}, "body": {"name": `+strconv.Quote(hostile)+`}},
	  {"method": "POST", "path": "/b_books?select=id,author_id,title", "headers": {"Prefer": "return=representation"},
	   "body": [{"title": "first", "author_id": null}, {"title": "second"}],
	   "refs": {"/body/0/author_id": "/0/body/0/id", "/body/1/author_id": "/0/body/0/id"}},
	  {"method": "GET", "path": "/b_books?select=title&order=id&author_id=eq.", "refs": {"/query/author_id": "/0/body/0/id"}},
	  {"method": "GET", "path": "/b_authors?select=id&name=eq.", "refs": {"/query/name": "/0/body/0/name"}},
	  {"method": "GET", "path": "/rpc/b_count_books?author=", "refs": {"/query/author": "/1/body/1/author_id"}},
	  {"method": "POST", "path": "/rpc/b_count_books", "body": {"author": 0}, "refs": {"/body/author": "/0/body/0/id"}},
	  {"method": "GET", "path": "/b_authors?select=name&id=not.eq.", "refs": {"/query/id": "/3/status"}}
	]`)
	if res.Status != 200 {
		t.Fatalf("status %d: %s", res.Status, res.Body)
	}
	bodies := []string{
		`[{"id":2,"name":` + strconv.Quote(hostile) + `}]`,
		`[{"id":2,"author_id":2,"title":"first"},{"id":3,"author_id":2,"title":"second"}]`,
		`[{"title":"first"},{"title":"second"}]`,
		`[{"id":2}]`,
		`2`,
		`2`,
		`[{"name":"Ursula"},{"name":` + strconv.Quote(hostile) + `}]`,
	}
	for i, b := range bodies {
		if i >= len(out.Results) || compact(out.Results[i].Body) != b {
			t.Errorf("operation %d: body %s, want %s", i, out.Results[min(i, len(out.Results)-1)].Body, b)
		}
	}
	if got := dbQuery(t, ts.DB.URL, `SELECT count(*)::text FROM api.b_books`); got != "3" {
		t.Errorf("%s books", got)
	}
	// A header of an earlier answer.
	res, out = ts.batch(t, `[
	  {"method": "POST", "path": "/b_authors", "headers": {"Prefer": "return=headers-only"}, "body": {"name": "Le Guin"}},
	  {"method": "POST", "path": "/rpc/b_header", "body": {"v": ""}, "refs": {"/body/v": "/0/headers/location"}}
	]`)
	if res.Status != 200 || len(out.Results) != 2 || out.Results[1].Headers["X-B"] != "/b_authors?id=eq.3" {
		t.Fatalf("status %d: %s", res.Status, res.Body)
	}
}

// TestBatchReferenceErrors: references that cannot be used are refused before anything runs (or, for a value
// that is not there, roll the batch back), naming the operation.
func TestBatchReferenceErrors(t *testing.T) {
	ts := startBatch(t, nil)
	insert := `{"method": "POST", "path": "/b_authors?select=id", "headers": {"Prefer": "return=representation"}, "body": {"name": "Le Guin"}}`
	cases := []struct {
		name, op string
		status   int
		code     string
	}{
		{"forward", `{"method": "GET", "path": "/b_books?id=eq.", "refs": {"/query/id": "/2/body/0/id"}}`, 400, "PGWAY113"},
		{"itself", `{"method": "GET", "path": "/b_books?id=eq.", "refs": {"/query/id": "/1/status"}}`, 400, "PGWAY113"},
		{"select", `{"method": "GET", "path": "/b_books?select=", "refs": {"/query/select": "/0/body/0/id"}}`, 400, "PGWAY113"},
		{"order", `{"method": "GET", "path": "/b_books?order=id.", "refs": {"/query/order": "/0/body/0/id"}}`, 400, "PGWAY113"},
		{"or tree", `{"method": "GET", "path": "/b_books?or=(id.eq.", "refs": {"/query/or": "/0/body/0/id"}}`, 400, "PGWAY113"},
		{"limit", `{"method": "GET", "path": "/b_books?limit=", "refs": {"/query/limit": "/0/body/0/id"}}`, 400, "PGWAY113"},
		{"in list", `{"method": "GET", "path": "/b_books?id=in.", "refs": {"/query/id": "/0/body/0/id"}}`, 400, "PGWAY113"},
		{"any", `{"method": "GET", "path": "/b_books?id=eq(any).", "refs": {"/query/id": "/0/body/0/id"}}`, 400, "PGWAY113"},
		{"operand given", `{"method": "GET", "path": "/b_books?id=eq.1", "refs": {"/query/id": "/0/body/0/id"}}`, 400, "PGWAY113"},
		{"filter without operator", `{"method": "GET", "path": "/b_books?id=", "refs": {"/query/id": "/0/body/0/id"}}`, 400, "PGWAY113"},
		{"two parameters", `{"method": "GET", "path": "/b_books?id=gt.&id=lt.", "refs": {"/query/id": "/0/body/0/id"}}`, 400, "PGWAY113"},
		{"path", `{"method": "GET", "path": "/b_books", "refs": {"/path/0": "/0/body/0/id"}}`, 400, "PGWAY113"},
		{"csv body", `{"method": "POST", "path": "/b_authors", "headers": {"Content-Type": "text/csv"}, "body": "name\nx", "refs": {"/body/name": "/0/body/0/id"}}`, 400, "PGWAY113"},
		{"not a pointer", `{"method": "GET", "path": "/b_books?id=eq.", "refs": {"/query/id": "0.body.0.id"}}`, 400, "PGWAY113"},
		{"overlapping", `{"method": "POST", "path": "/b_books", "body": {"a": {}}, "refs": {"/body/a": "/0/status", "/body/a/b": "/0/status"}}`, 400, "PGWAY113"},
		{"missing value", `{"method": "GET", "path": "/b_books?id=eq.", "refs": {"/query/id": "/0/body/5/id"}}`, 400, "PGWAY116"},
		{"missing header", `{"method": "GET", "path": "/b_books?id=eq.", "refs": {"/query/id": "/0/headers/Location"}}`, 400, "PGWAY116"},
		{"null", `{"method": "GET", "path": "/b_books?id=eq.", "refs": {"/query/id": "/2/body"}}`, 400, "PGWAY113"},
		{"no place in body", `{"method": "POST", "path": "/b_books", "body": {"title": "x"}, "refs": {"/body/a/b": "/0/body/0/id"}}`, 400, "PGWAY113"},
		{"not a number", `{"method": "GET", "path": "/b_books?id=eq.", "refs": {"/query/id": "/0/headers/Content-Range"}}`, 400, "22P02"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ops := "[" + insert + "," + tc.op + "]"
			if tc.name == "null" {
				ops = "[" + insert + `, {"method": "POST", "path": "/rpc/b_count_books", "body": {"author": -1}}, ` + tc.op + "]"
			}
			res, out := ts.batch(t, ops)
			wantOp := 1
			if tc.name == "null" {
				wantOp = 2
			}
			if res.Status != tc.status || out.Code != tc.code || out.Operation == nil || *out.Operation != wantOp {
				t.Fatalf("%d %s, want %d %s at operation %d", res.Status, res.Body, tc.status, tc.code, wantOp)
			}
			if got := dbQuery(t, ts.DB.URL, `SELECT string_agg(name, ',') FROM api.b_authors`); got != "Ursula" {
				t.Errorf("authors changed: %s", got)
			}
		})
	}
}

// TestBatchRoles: one JWT for the batch; every operation runs as its role under row-level security, with its
// own request GUCs, and a denied one rolls the batch back.
func TestBatchRoles(t *testing.T) {
	ts := startBatch(t, nil)
	alice := "Authorization: Bearer " + token(t, jwt.MapClaims{"role": "web_user", "sub": "alice"})
	res, out := ts.batch(t, `[
	  {"method": "POST", "path": "/b_diary", "body": {"owner": "alice", "entry": "mine"}},
	  {"method": "GET", "path": "/rpc/b_request", "headers": {"Accept": "application/json"}},
	  {"method": "POST", "path": "/rpc/b_header", "body": {"v": "set"}},
	  {"method": "POST", "path": "/rpc/b_request", "headers": {"Content-Type": "application/json"}}
	]`, alice, "X-Trace: t-1")
	if res.Status != 200 || len(out.Results) != 4 {
		t.Fatalf("%d %s", res.Status, res.Body)
	}
	var seen map[string]any
	if err := json.Unmarshal(out.Results[1].Body, &seen); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"method": "GET", "path": "/rpc/b_request", "accept": "application/json", "x_trace": "t-1",
		"content_type": nil, "role": "web_user", "sub": "alice", "headers_guc": ""}
	for k, v := range want {
		if seen[k] != v {
			t.Errorf("operation 1 saw %s = %#v, want %#v", k, seen[k], v)
		}
	}
	if out.Results[2].Headers["X-B"] != "set" {
		t.Errorf("operation 2's response header: %v", out.Results[2].Headers)
	}
	// The next operation starts without the header the one before it set.
	if err := json.Unmarshal(out.Results[3].Body, &seen); err != nil || seen["headers_guc"] != "" || seen["method"] != "POST" {
		t.Errorf("operation 3 saw %s", out.Results[3].Body)
	}
	if _, ok := out.Results[3].Headers["X-B"]; ok {
		t.Errorf("operation 3 answered operation 2's header")
	}

	// Row-level security refuses the second insert: nothing of the batch stays.
	res, out = ts.batch(t, `[
	  {"method": "POST", "path": "/b_diary", "body": {"owner": "alice", "entry": "again"}},
	  {"method": "POST", "path": "/b_diary", "body": {"owner": "bob", "entry": "not mine"}},
	  {"method": "GET", "path": "/b_diary"}
	]`, alice)
	if res.Status != 403 || out.Code != "42501" || out.Operation == nil || *out.Operation != 1 {
		t.Fatalf("%d %s", res.Status, res.Body)
	}
	// The anonymous role may not write the diary at all.
	res, out = ts.batch(t, `[
	  {"method": "POST", "path": "/b_authors", "body": {"name": "Le Guin"}},
	  {"method": "GET", "path": "/b_diary"}
	]`)
	if res.Status != 401 || out.Code != "42501" || out.Operation == nil || *out.Operation != 1 || res.Header.Get("WWW-Authenticate") == "" {
		t.Fatalf("%d %v %s", res.Status, res.Header, res.Body)
	}
	if got := dbQuery(t, ts.DB.URL, `SELECT string_agg(owner || ':' || entry, ',' ORDER BY id) FROM api.b_diary`); got != "alice:mine" {
		t.Errorf("diary: %s", got)
	}
	if got := dbQuery(t, ts.DB.URL, `SELECT string_agg(name, ',') FROM api.b_authors`); got != "Ursula" {
		t.Errorf("authors: %s", got)
	}
	// A bad JWT fails the batch before any operation.
	res, out = ts.batch(t, `[{"method": "GET", "path": "/b_books"}]`, "Authorization: Bearer nope")
	if res.Status != 401 || out.Operation != nil {
		t.Errorf("bad JWT: %d %s", res.Status, res.Body)
	}
}

// TestBatchRequestErrors: malformed batches, operations the stages refuse (validation included, naming the
// operation) and the limits.
func TestBatchRequestErrors(t *testing.T) {
	ts := startBatch(t, func(c *config.Config) { c.BatchMaxOperations = 3; c.BatchMaxBodyBytes = 400 })
	cases := []struct {
		name, body string
		status     int
		code       string
		op         int // -1: none
	}{
		{"not JSON", `{"operations": [`, 400, "PGWAY110", -1},
		{"unknown member", `{"operations": [{"method": "GET", "path": "/b_books", "bdy": 1}]}`, 400, "PGWAY110", -1},
		{"no operations", `{"operations": []}`, 400, "PGWAY110", -1},
		{"trailing data", `{"operations": [{"method": "GET", "path": "/b_books"}]} {}`, 400, "PGWAY110", -1},
		{"too many operations", `{"operations": [{"method": "GET", "path": "/b_books"}, {"method": "GET", "path": "/b_books"}, {"method": "GET", "path": "/b_books"}, {"method": "GET", "path": "/b_books"}]}`, 413, "PGWAY112", -1},
		{"too large", `{"operations": [{"method": "POST", "path": "/b_authors", "body": {"name": "` + strings.Repeat("x", 400) + `"}}]}`, 413, "PGWAY111", -1},
		{"method", `{"operations": [{"method": "GET", "path": "/b_books"}, {"method": "OPTIONS", "path": "/b_books"}]}`, 400, "PGWAY110", 1},
		{"authorization per operation", `{"operations": [{"method": "GET", "path": "/b_books", "headers": {"Authorization": "Bearer x"}}]}`, 400, "PGWAY110", 0},
		{"root", `{"operations": [{"method": "GET", "path": "/b_books"}, {"method": "GET", "path": "/"}]}`, 400, "PGWAY110", 1},
		{"pgway page", `{"operations": [{"method": "GET", "path": "/pgway/openapi.json"}]}`, 400, "PGWAY110", 0},
		{"relative path", `{"operations": [{"method": "GET", "path": "b_books"}]}`, 400, "PGWAY110", 0},
		{"validation", `{"operations": [{"method": "GET", "path": "/b_books"}, {"method": "POST", "path": "/b_books", "body": {"author_id": "one", "title": "x"}}]}`, 400, "22P02", 1},
		{"parse", `{"operations": [{"method": "GET", "path": "/b_books"}, {"method": "GET", "path": "/b_books?id=zz.1"}]}`, 400, "PGRST100", 1},
		{"tx per operation", `{"operations": [{"method": "POST", "path": "/b_authors", "headers": {"Prefer": "tx=rollback"}, "body": {"name": "x"}}]}`, 400, "PGWAY115", 0},
		{"csv body not a string", `{"operations": [{"method": "POST", "path": "/b_authors", "headers": {"Content-Type": "text/csv"}, "body": {"name": "x"}}]}`, 400, "PGWAY110", 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := ts.do("POST", "/", []string{"Content-Type: application/vnd.pgway.batch+json"}, tc.body)
			var out batchResponse
			if err := json.Unmarshal([]byte(res.Body), &out); err != nil {
				t.Fatalf("%d %s", res.Status, res.Body)
			}
			if res.Status != tc.status || !strings.HasPrefix(out.Code, tc.code) {
				t.Fatalf("%d %s, want %d %s", res.Status, res.Body, tc.status, tc.code)
			}
			if tc.op < 0 && out.Operation != nil || tc.op >= 0 && (out.Operation == nil || *out.Operation != tc.op) {
				t.Errorf("operation in %s, want %d", res.Body, tc.op)
			}
		})
	}
	// Without the batch media type, POST / is what it was.
	if res := ts.do("POST", "/", []string{"Content-Type: application/json"}, `{"operations": []}`); res.Status != http.StatusMethodNotAllowed {
		t.Errorf("POST / as JSON: %d %s", res.Status, res.Body)
	}
	// server-batch-max-operations = 0 turns batches off.
	off := startOn(t, ts.DB, func(c *config.Config) { c.BatchMaxOperations = 0 })
	if res := off.do("POST", "/", []string{"Content-Type: application/vnd.pgway.batch+json"}, `{"operations": [{"method": "GET", "path": "/b_books"}]}`); res.Status != http.StatusMethodNotAllowed {
		t.Errorf("batches off: %d %s", res.Status, res.Body)
	}
}

// TestBatchTxRollback: Prefer: tx=rollback on the batch (db-tx-end allowing it) answers every operation, then
// rolls the transaction back.
func TestBatchTxRollback(t *testing.T) {
	ts := startBatch(t, func(c *config.Config) { c.DBTxEnd = "commit-allow-override" })
	res, out := ts.batch(t, `[
	  {"method": "POST", "path": "/b_authors?select=id", "headers": {"Prefer": "return=representation"}, "body": {"name": "Le Guin"}},
	  {"method": "POST", "path": "/b_books?select=title", "headers": {"Prefer": "return=representation"}, "body": {"title": "x"},
	   "refs": {"/body/author_id": "/0/body/0/id"}},
	  {"method": "GET", "path": "/b_books?select=title&order=id"}
	]`, "Prefer: tx=rollback")
	if res.Status != 200 || len(out.Results) != 3 || compact(out.Results[2].Body) != `[{"title":"Earthsea"},{"title":"x"}]` {
		t.Fatalf("%d %s", res.Status, res.Body)
	}
	if res.Header.Get("Preference-Applied") != "tx=rollback" {
		t.Errorf("Preference-Applied %q", res.Header.Get("Preference-Applied"))
	}
	if got := dbQuery(t, ts.DB.URL, `SELECT count(*)::text FROM api.b_books`); got != "1" {
		t.Errorf("%s books after a rolled-back batch", got)
	}
	// One round trip too.
	res, _ = ts.batch(t, `[{"method": "POST", "path": "/b_authors", "body": {"name": "Le Guin"}}]`, "Prefer: tx=rollback")
	if res.Status != 200 || dbQuery(t, ts.DB.URL, `SELECT count(*)::text FROM api.b_authors`) != "1" {
		t.Errorf("%d %s", res.Status, res.Body)
	}
	res, _ = ts.batch(t, `[{"method": "POST", "path": "/b_authors", "body": {"name": "Le Guin"}}]`, "Prefer: tx=commit")
	if res.Status != 200 || dbQuery(t, ts.DB.URL, `SELECT count(*)::text FROM api.b_authors`) != "2" || res.Header.Get("Preference-Applied") != "tx=commit" {
		t.Errorf("%d %s", res.Status, res.Body)
	}
}

// TestBatchVersions: a batch at /vN/ runs its operations in version N; one at / names versions in its paths, and
// each operation answers its version's headers.
func TestBatchVersions(t *testing.T) {
	ts := startOn(t, migrated(t), func(c *config.Config) { c.DBSchemas = []string{"api_v2", "api_v1"} })
	res := ts.do("POST", "/v1/", []string{"Content-Type: application/vnd.pgway.batch+json"},
		`{"operations": [{"method": "GET", "path": "/books?select=year&id=eq.1"}]}`)
	if res.Status != 200 || !strings.Contains(res.Body, `"body":[{"year":1968}]`) || !strings.Contains(res.Body, `"Content-Profile":"api_v1"`) {
		t.Fatalf("/v1/ batch: %d %s", res.Status, res.Body)
	}
	res = ts.do("POST", "/", []string{"Content-Type: application/vnd.pgway.batch+json"},
		`{"operations": [{"method": "GET", "path": "/v1/books?select=year&id=eq.1"}, {"method": "GET", "path": "/books?select=published_year&id=eq.1"}]}`)
	if res.Status != 200 || !strings.Contains(res.Body, `[{"year":1968}]`) || !strings.Contains(res.Body, `[{"published_year":1968}]`) {
		t.Fatalf("/ batch: %d %s", res.Status, res.Body)
	}
}
